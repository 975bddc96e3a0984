// Parse a formula, differentiate it, and run an interpreted kernel: the
// symbolic core through the installed package. Exit 0 only if the numbers agree.
#include <actjit/diff.hpp>
#include <actjit/eval.hpp>
#include <actjit/formula.hpp>
#include <actjit/kernel.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
    const actjit::Formula f = actjit::parse_formula("x * sigmoid(beta * x)");
    const actjit::Expr d = actjit::diff(f.body, actjit::input());
    std::printf("d/dx = %s\n", actjit::to_string(d).c_str());

    const actjit::Kernel k = actjit::compile_interpreted(actjit::KernelSpec::fixed(f, actjit::DType::f64, {{"beta", 1.0}}));
    std::vector<double> x = {-2, -0.5, 0, 1, 3}, y(x.size());
    k.forward(x.data(), y.data(), 1, static_cast<std::int64_t>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double want = x[i] / (1 + std::exp(-x[i]));
        if (std::abs(y[i] - want) > 1e-12) {
            std::printf("mismatch at x = %g: %g, expected %g\n", x[i], y[i], want);
            return 1;
        }
    }
    std::printf("silu via actjit::core: ok\n");
    return 0;
}
