// Misuse: a plain double in an expression
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto e = x + 2.0;  // expect: write 2_c (a compile-time constant) or param<"name">
#else
    [[maybe_unused]] auto e = x + 2_c;
#endif
    return 0;
}
