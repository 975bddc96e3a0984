// Misuse: evaluating without a value for one of the parameters
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    return (x * param<"s">)(0.5, params("t"_p = 1.0));  // expect: no value for a parameter of the expression
#else
    return (x * param<"s">)(0.5, params("s"_p = 1.0));
#endif
    return 0;
}
