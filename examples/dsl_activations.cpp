// PRePU and ExpoLU written in C++ with the compile-time DSL: their
// derivatives are computed by the compiler, printed as formulas, evaluated
// natively, and compared with the JIT kernels built from the same
// expressions. Exits non-zero if the two disagree. docs/DSL.md walks through it.
#include <actjit/dsl.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace actjit::dsl;

// PRePU: relu(x)^(softsign(s) + 1), s a trainable parameter.
constexpr auto s = param<"s">;
constexpr auto my_prepu = pow(relu(x), softsign(s) + 1_c);

// ExpoLU with its shape fixed at compile time: a = 1, b = 1, p = 3.
template <auto a, auto b, auto p>
constexpr auto my_expolu = where(x < -b, 0_c, where(x < b, pow(x + b, p) / a, x + pow(2_c * b, p) / a - b));
constexpr auto expolu3 = my_expolu<1_c, 1_c, 3_c>;

// Derivatives: types built by the compiler, simplified as they are built.
constexpr auto prepu_dx = d(my_prepu, x);
constexpr auto prepu_ds = d(my_prepu, s);
constexpr auto expolu3_dx = d(expolu3, x);

// Polynomial pieces evaluate at compile time: ExpoLU at 0.5 is 1.5^3 = 3.375.
static_assert(expolu3(0.5) == 3.375);
static_assert(expolu3_dx(0.5) == 6.75);

namespace {

bool close(double a, double b, double tol) { return std::abs(a - b) <= tol * (1 + std::abs(b)); }

template <class E, class P>
int compare_with_jit(const char* name, E e, const P& ps, const std::vector<std::pair<std::string, double>>& values) {
    const std::vector<double> xs = {-2.5, -1.0, -0.3, 0.0, 0.2, 0.5, 0.99, 1.7, 3.0};
    std::vector<double> y_native(xs.size()), dx_native(xs.size()), dy(xs.size(), 1.0);
    forward(e, xs, y_native, ps);
    backward(e, xs, dy, dx_native, ps);

    compile_options options;
    options.dtype = actjit::DType::f64;
    options.values = values;  // every parameter Fixed (folded into the kernel)
    actjit::Kernel kernel;
    try {
        kernel = actjit::compile(e, options);
    } catch (const actjit::Error& err) {
        std::printf("%s: the JIT is not available: %s\n", name, err.what());
        return 1;
    }
    std::vector<double> y_jit(xs.size()), dx_jit(xs.size());
    const auto n = static_cast<std::int64_t>(xs.size());
    kernel.forward(xs.data(), y_jit.data(), 1, n);
    kernel.backward(xs.data(), dy.data(), dx_jit.data(), 1, n);

    int failures = 0;
    std::printf("%s\n  %6s %14s %14s %14s %14s\n", name, "x", "native f", "jit f", "native f'", "jit f'");
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const bool ok = close(y_native[i], y_jit[i], 1e-12) && close(dx_native[i], dx_jit[i], 1e-12);
        failures += !ok;
        std::printf("  %6.2f %14.9f %14.9f %14.9f %14.9f%s\n", xs[i], y_native[i], y_jit[i], dx_native[i], dx_jit[i],
                    ok ? "" : "  MISMATCH");
    }
    return failures;
}

}  // namespace

int main() {
    std::printf("prepu(x; s)      = %s\n", to_string(my_prepu).c_str());
    std::printf("d prepu / dx     = %s\n", to_string(prepu_dx).c_str());
    std::printf("d prepu / ds     = %s\n", to_string(prepu_ds).c_str());
    std::printf("expolu3(x)       = %s\n", to_string(expolu3).c_str());
    std::printf("d expolu3 / dx   = %s\n\n", to_string(expolu3_dx).c_str());

    const auto ps = params(s = -0.4);  // exponent softsign(-0.4) + 1 = 0.714 < 1
    std::printf("prepu(0.5; s=-0.4) = %.9f, d/dx = %.9f, d/ds = %.9f\n", my_prepu(0.5, ps), prepu_dx(0.5, ps),
                prepu_ds(0.5, ps));
    std::printf("at x = -1 the gradients are exactly %g and %g (no 0 * inf)\n\n", prepu_dx(-1.0, ps),
                prepu_ds(-1.0, ps));

    int failures = 0;
    failures += compare_with_jit("prepu, s = -0.4", my_prepu, ps, {{"s", -0.4}});
    failures += compare_with_jit("expolu, a = b = 1, p = 3", expolu3, params(), {});
    std::printf("\n%s\n", failures ? "native and JIT results DIFFER" : "native and JIT results agree");
    return failures ? 1 : 0;
}
