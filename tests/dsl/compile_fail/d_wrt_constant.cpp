// Misuse: differentiating with respect to something that is not x or a parameter
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto e = d(x * x, 2_c);  // expect: d(e, v): v must be x or a param<"name">
#else
    [[maybe_unused]] auto e = d(x * x, x);
#endif
    return 0;
}
