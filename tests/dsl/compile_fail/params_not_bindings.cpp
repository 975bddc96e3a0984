// Misuse: params(...) given plain numbers
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto p = params(1.0);  // expect: params(...) takes bindings
#else
    [[maybe_unused]] auto p = params("s"_p = 1.0);
#endif
    return 0;
}
