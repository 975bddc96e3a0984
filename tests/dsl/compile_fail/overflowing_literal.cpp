// Misuse: a _c literal beyond double range
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto c = 1e400_c;  // expect: _c takes a finite decimal number
#else
    [[maybe_unused]] auto c = 1e300_c;
#endif
    return 0;
}
