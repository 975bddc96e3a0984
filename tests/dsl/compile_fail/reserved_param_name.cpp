// Misuse: a parameter name the formula language already uses
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto p = param<"pi">;  // expect: this name is taken by the formula language
#else
    [[maybe_unused]] auto p = param<"pie">;
#endif
    return 0;
}
