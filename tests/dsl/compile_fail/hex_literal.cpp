// Misuse: a _c literal that is not decimal
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto c = 0x10_c;  // expect: _c takes a finite decimal number
#else
    [[maybe_unused]] auto c = 16_c;
#endif
    return 0;
}
