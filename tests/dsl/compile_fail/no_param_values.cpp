// Misuse: evaluating an expression with parameters without params(...)
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    return (x * param<"s">)(0.5);  // expect: the expression has a parameter but no values were given
#else
    return (x * param<"s">)(0.5, params("s"_p = 1.0));
#endif
    return 0;
}
