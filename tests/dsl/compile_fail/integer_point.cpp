// Misuse: evaluating at an int
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    return catalog::silu(1);  // expect: evaluate an expression at a float or double
#else
    return catalog::silu(1.0);
#endif
    return 0;
}
