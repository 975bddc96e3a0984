// Misuse: giving a parameter twice
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto p = params("s"_p = 1.0, "s"_p = 2.0);  // expect: params(...): a parameter is given twice
#else
    [[maybe_unused]] auto p = params("s"_p = 1.0, "t"_p = 2.0);
#endif
    return 0;
}
