// The reference evaluator: an interpreter over the IR, in double or float.
// It is the oracle every other backend is tested against, so it favours
// clarity and libm's accuracy over speed.
//
// An Interpreter compiles a set of output expressions (a value and its
// partials, say) into one tape in topological order, shared sub-expressions
// computed once. where(c, a, b) evaluates both operands and selects, so a NaN in
// the unselected operand never reaches the result. Thread-safe: run() is const.
#pragma once

#include <actjit/expr.hpp>
#include <actjit/formula.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace actjit {

/// Parameter values by name.
using ParamValues = std::unordered_map<std::string, double>;

class Interpreter {
public:
    /// `params` fixes the order of parameter slots passed to run().
    Interpreter(std::span<const Expr> outputs, std::vector<std::string> params);

    const std::vector<std::string>& params() const noexcept { return params_; }
    std::size_t num_outputs() const noexcept { return outputs_.size(); }

    /// Evaluate every output at one point. `params` holds one value per slot;
    /// `out` receives one value per output.
    template <class T>
    void run(T x, std::int64_t feature, std::span<const T> params, std::span<T> out) const;

private:
    struct Step {
        Op op;
        std::int32_t a, b, c;  // operand slots (or parameter slot / -1)
        double value;          // Const
    };
    std::vector<Step> tape_;
    std::vector<std::int32_t> outputs_;
    std::vector<std::string> params_;
};

extern template void Interpreter::run<float>(float, std::int64_t, std::span<const float>, std::span<float>) const;
extern template void Interpreter::run<double>(double, std::int64_t, std::span<const double>, std::span<double>) const;

/// One operation applied to values, as the interpreter computes it (libm for
/// float and double). Shared with tests and the DSL.
double apply_op(Op op, double a, double b = 0, double c = 0);
float apply_op(Op op, float a, float b = 0, float c = 0);

/// Evaluate a single expression at one point (convenience; builds a tape).
/// Throws ValueError naming a parameter the expression uses that has no value.
double evaluate(const Expr& e, double x, const ParamValues& params = {}, std::int64_t feature = 0);

/// Values of a formula and of all its partials (d/dx first, then each
/// parameter in the formula's order) at many points. Parameters take their
/// value from `params`, else from the formula's default; one with neither is a
/// ValueError that names it.
struct PointResults {
    std::vector<double> y;
    std::vector<std::string> names;           // "x", then parameter names
    std::vector<std::vector<double>> grads;   // grads[k][i]: d y_i / d names[k]
};
template <class T>
PointResults evaluate_with_gradient(const Formula& f, std::span<const double> xs, const ParamValues& params,
                                    std::int64_t feature = 0);

/// The value of every parameter of `f`: from `params`, else the default.
/// Throws ValueError naming the first parameter with neither.
std::vector<double> resolve_params(const Formula& f, const ParamValues& params);

}  // namespace actjit
