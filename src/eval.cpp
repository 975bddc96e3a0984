// The reference interpreter: expressions compiled to a tape in topological
// order, evaluated one point at a time in float or double.
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>

#include "eval_ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace actjit {

double apply_op(Op op, double a, double b, double c) { return detail::apply<double>(op, a, b, c); }
float apply_op(Op op, float a, float b, float c) { return detail::apply<float>(op, a, b, c); }

Interpreter::Interpreter(std::span<const Expr> outputs, std::vector<std::string> params) : params_(std::move(params)) {
    std::unordered_map<const Node*, std::int32_t> slot;
    for_each_node_postorder(outputs, [&](const Expr& e) {
        Step s{e.op(), -1, -1, -1, 0.0};
        if (e.op() == Op::Const) {
            s.value = e.value();
        } else if (e.op() == Op::Param) {
            auto it = std::find(params_.begin(), params_.end(), e.name());
            if (it == params_.end()) throw ValueError(fmt::format("parameter '{}' has no value", e.name()));
            s.a = static_cast<std::int32_t>(it - params_.begin());
        } else {
            std::int32_t* operand[3] = {&s.a, &s.b, &s.c};
            for (int i = 0; i < e.num_args(); ++i) *operand[i] = slot.at(e.arg(i).get());
        }
        slot.emplace(e.get(), static_cast<std::int32_t>(tape_.size()));
        tape_.push_back(s);
    });
    outputs_.reserve(outputs.size());
    for (const Expr& e : outputs) {
        ACTJIT_ASSERT(e, "null output expression");
        outputs_.push_back(slot.at(e.get()));
    }
}

template <class T>
void Interpreter::run(T x, std::int64_t feature, std::span<const T> params, std::span<T> out) const {
    ACTJIT_ASSERT(params.size() == params_.size(), fmt::format("{} parameter values for {} slots", params.size(), params_.size()));
    ACTJIT_ASSERT(out.size() == outputs_.size());
    // A reference evaluator may allocate; thread_local keeps run() re-entrant
    // across threads without a per-call allocation.
    thread_local std::vector<T> regs;
    regs.resize(tape_.size());
    for (std::size_t i = 0; i < tape_.size(); ++i) {
        const Step& s = tape_[i];
        switch (s.op) {
        case Op::Const: regs[i] = static_cast<T>(s.value); break;
        case Op::Input: regs[i] = x; break;
        case Op::Param: regs[i] = params[static_cast<std::size_t>(s.a)]; break;
        case Op::Feature: regs[i] = static_cast<T>(feature); break;
        default:
            regs[i] = detail::apply<T>(s.op, regs[static_cast<std::size_t>(s.a)], s.b >= 0 ? regs[static_cast<std::size_t>(s.b)] : T(0),
                                       s.c >= 0 ? regs[static_cast<std::size_t>(s.c)] : T(0));
            break;
        }
    }
    for (std::size_t k = 0; k < outputs_.size(); ++k) out[k] = regs[static_cast<std::size_t>(outputs_[k])];
}

template void Interpreter::run<float>(float, std::int64_t, std::span<const float>, std::span<float>) const;
template void Interpreter::run<double>(double, std::int64_t, std::span<const double>, std::span<double>) const;

double evaluate(const Expr& e, double x, const ParamValues& params, std::int64_t feature) {
    std::vector<std::string> names = params_of(e);
    std::vector<double> values;
    values.reserve(names.size());
    for (const std::string& name : names) {
        auto it = params.find(name);
        if (it == params.end()) throw ValueError(fmt::format("parameter '{}' has no value", name));
        values.push_back(it->second);
    }
    Interpreter interp(std::span<const Expr>(&e, 1), std::move(names));
    double y = 0;
    interp.run<double>(x, feature, values, std::span<double>(&y, 1));
    return y;
}

std::vector<double> resolve_params(const Formula& f, const ParamValues& params) {
    std::vector<double> values;
    values.reserve(f.params.size());
    for (const ParamDecl& p : f.params) {
        if (auto it = params.find(p.name); it != params.end())
            values.push_back(it->second);
        else if (p.default_value)
            values.push_back(*p.default_value);
        else
            throw ValueError(fmt::format("parameter '{}' has no value", p.name));
    }
    return values;
}

template <class T>
PointResults evaluate_with_gradient(const Formula& f, std::span<const double> xs, const ParamValues& params, std::int64_t feature) {
    std::vector<double> values = resolve_params(f, params);
    std::vector<Partial> partials = gradient(f);
    std::vector<Expr> outputs{f.body};
    PointResults r;
    for (Partial& p : partials) {
        outputs.push_back(p.expr);
        r.names.push_back(std::move(p.name));
    }
    std::vector<std::string> slots;
    for (const ParamDecl& p : f.params) slots.push_back(p.name);
    Interpreter interp(outputs, std::move(slots));

    std::vector<T> tvalues(values.begin(), values.end());
    std::vector<T> out(outputs.size());
    r.y.reserve(xs.size());
    r.grads.assign(partials.size(), std::vector<double>(xs.size()));
    for (std::size_t i = 0; i < xs.size(); ++i) {
        interp.run<T>(static_cast<T>(xs[i]), feature, tvalues, out);
        r.y.push_back(static_cast<double>(out[0]));
        for (std::size_t k = 0; k < partials.size(); ++k) r.grads[k][i] = static_cast<double>(out[k + 1]);
    }
    return r;
}

template PointResults evaluate_with_gradient<float>(const Formula&, std::span<const double>, const ParamValues&, std::int64_t);
template PointResults evaluate_with_gradient<double>(const Formula&, std::span<const double>, const ParamValues&, std::int64_t);

}  // namespace actjit
