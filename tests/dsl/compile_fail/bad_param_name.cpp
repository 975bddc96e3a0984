// Misuse: a parameter name that is not an identifier
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto p = param<"2x">;  // expect: param<"name">: a name is a letter or '_'
#else
    [[maybe_unused]] auto p = param<"x2">;
#endif
    return 0;
}
