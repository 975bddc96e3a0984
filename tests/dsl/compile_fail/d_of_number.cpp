// Misuse: differentiating a plain number
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto e = d(2.0, x);  // expect: d(e, v): e must be a DSL expression
#else
    [[maybe_unused]] auto e = d(2_c, x);
#endif
    return 0;
}
