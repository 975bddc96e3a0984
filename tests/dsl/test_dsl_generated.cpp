// Every operation of ops.def, and expressions generated at compile time from
// a seed, through the DSL: derivative types vs actjit::diff vs finite
// differences, native values vs the interpreter (and the JIT), to_string
// round trips.
#include "dsl_check.hpp"

using namespace actjit::dsl;
using actjit::Op;

namespace {

constexpr auto s = param<"s">;
constexpr auto t = param<"t">;
const auto ps = params(s = 0.7, t = 0.2);

constexpr bool is_leaf(Op op) { return op == Op::Const || op == Op::Input || op == Op::Param || op == Op::Feature; }

/// An expression applying op, with operands inside its domain at the test
/// points: u is unbounded, w stays in (0.2, 0.9).
template <Op O>
constexpr auto sample() {
    constexpr auto u = s * x + t;
    constexpr auto w = sigmoid(x) * s + t;
    if constexpr (O == Op::Acosh) return node<O, decltype(1_c + u * u)>{};
    else if constexpr (O == Op::Log || O == Op::Log2 || O == Op::Log10 || O == Op::Sqrt || O == Op::Asin ||
                       O == Op::Acos || O == Op::Atanh || O == Op::Tan)
        return node<O, decltype(w)>{};
    else if constexpr (O == Op::Pow) return pow(w, u) + pow(u, 3_c) + pow(s, x) + pow(x, -2_c);
    else if constexpr (O == Op::Div) return u / (1_c + x * x) + s / x;
    else if constexpr (O == Op::Where) return where(x > s, u * x, t * x);
    else if constexpr (O == Op::Clamp) return clamp(u, -s, t + 1_c) + clamp(s, x, x + 1_c);
    else if constexpr (O == Op::Mod) return mod(u * 3_c, s + 0.1_c);
    else if constexpr (O == Op::Min || O == Op::Max) return node<O, decltype(u), decltype(x * x)>{} + node<O, decltype(t), decltype(x)>{};
    else if constexpr (O == Op::And || O == Op::Or) return node<O, decltype(x > t), decltype(x < s)>{} * u + x;
    else if constexpr (O == Op::Not) return (!(x > s)) * u + x;
    else if constexpr (O == Op::Neg) return -u * x;
    else if constexpr (O == Op::Sign || O == Op::Floor) return node<O, decltype(u)>{} * u;
    else if constexpr (O == Op::Lt || O == Op::Le || O == Op::Gt || O == Op::Ge || O == Op::Eq || O == Op::Ne)
        return node<O, decltype(u), decltype(t)>{} * x * s + x;
    else if constexpr (O == Op::Add || O == Op::Sub || O == Op::Mul) return node<O, decltype(u), decltype(x * t)>{};
    else return node<O, decltype(u)>{};
}

// ---- A compile-time expression generator ---------------------------------------------

constexpr unsigned mix(unsigned h, unsigned k) { return (h ^ (k + 0x9e3779b9u + (h << 6) + (h >> 2))) * 2654435761u; }

/// A pseudo-random expression of the given depth over x, s, t and small
/// constants, using operations that stay finite everywhere.
template <unsigned Seed, int Depth>
constexpr auto gen() {
    constexpr unsigned r = mix(Seed, 17) >> 3;
    if constexpr (Depth == 0) {
        if constexpr (r % 5 == 0) return s;
        else if constexpr (r % 5 == 1) return t;
        else if constexpr (r % 5 == 2) return constant<0.5 * (1 + r % 3)>;
        else return x;
    } else {
        constexpr auto a = gen<mix(Seed, 1), Depth - 1>();
        constexpr auto b = gen<mix(Seed, 2), (r % 2 ? Depth - 1 : 0)>();
        constexpr unsigned k = r % 16;
        if constexpr (k == 0) return a + b;
        else if constexpr (k == 1) return a - b;
        else if constexpr (k == 2) return a * b;
        else if constexpr (k == 3) return a / (1.5_c + b * b);
        else if constexpr (k == 4) return pow(a, 2_c);
        else if constexpr (k == 5) return sigmoid(a);
        else if constexpr (k == 6) return tanh(a) * b;
        else if constexpr (k == 7) return softplus(a);
        else if constexpr (k == 8) return relu(a) + b;
        else if constexpr (k == 9) return where(a > b, a, b * 0.5_c);
        else if constexpr (k == 10) return exp(tanh(a));
        else if constexpr (k == 11) return sin(a) + cos(b);
        else if constexpr (k == 12) return atan(a) * softsign(b);
        else if constexpr (k == 13) return max(a, b) - min(a, x);
        else if constexpr (k == 14) return erf(a) + abs(b);
        else return -a * x;
    }
}

template <Op O>
void check_op(const char* name, int& covered) {
    if constexpr (!is_leaf(O)) {
        ++covered;
        SECTION(name) { dsltest::check_against_runtime(sample<O>(), ps); }
    }
}

#ifdef ACTJIT_DSL_TEST_JIT
template <Op O>
void check_op_jit(const char* name) {
    if constexpr (!is_leaf(O)) {
        SECTION(name) { dsltest::check_against_jit(sample<O>(), ps); }
    }
}
#endif

template <class F, unsigned... I>
void for_seeds(F&& f, std::integer_sequence<unsigned, I...>) {
    (f(gen<I * 7919u + 1, 3>()), ...);
}

}  // namespace

TEST_CASE("every operation of ops.def: DSL derivative vs actjit::diff vs finite differences", "[dsl][ops]") {
    int covered = 0;
#define ACTJIT_OP(name, spelling, arity, kind) check_op<Op::name>(#name, covered);
#include <actjit/ops.def>
#undef ACTJIT_OP
    CHECK(covered == actjit::kNumOps - 4);
}

TEST_CASE("second derivatives agree with actjit::diff applied twice", "[dsl][ops]") {
    auto check = [](auto e) {
        const actjit::Expr ex = to_expr(e);
        const actjit::Expr d2 = actjit::diff(actjit::diff(ex, actjit::input()), actjit::input());
        const actjit::Expr dxs = actjit::diff(actjit::diff(ex, actjit::input()), actjit::param("s"));
        INFO(to_string(e));
        for (double xv : dsltest::points()) {
            INFO("x = " << xv);
            CHECK(dsltest::close(d(d(e, x), x)(xv, ps), actjit::evaluate(d2, xv, dsltest::to_map(ps)), 1e-10, 1e-12));
            CHECK(dsltest::close(d(d(e, x), s)(xv, ps), actjit::evaluate(dxs, xv, dsltest::to_map(ps)), 1e-10, 1e-12));
        }
    };
    check(catalog::mish * s);
    check(catalog::prepu<>);
    check(catalog::soft_exponential<s>);
    check(catalog::gelu_tanh + s * catalog::silu);
    check(sample<Op::Pow>());
}

TEST_CASE("generated expressions: DSL derivative vs actjit::diff vs finite differences", "[dsl][generated]") {
    for_seeds([](auto e) { dsltest::check_against_runtime(e, ps); }, std::make_integer_sequence<unsigned, 24>{});
}

#ifdef ACTJIT_DSL_TEST_JIT
TEST_CASE("generated expressions: native vs JIT kernels", "[dsl][generated][jit]") {
    for_seeds([](auto e) { dsltest::check_against_jit(e, ps); }, std::make_integer_sequence<unsigned, 24>{});
}

TEST_CASE("every operation of ops.def: native vs JIT kernels", "[dsl][ops][jit]") {
#define ACTJIT_OP(name, spelling, arity, kind) check_op_jit<Op::name>(#name);
#include <actjit/ops.def>
#undef ACTJIT_OP
}
#endif
