// Misuse: substituting a plain number for a parameter
#include <actjit/dsl.hpp>

using namespace actjit::dsl;

[[maybe_unused]] static double use() {
#ifdef ACTJIT_DSL_MISUSE
    [[maybe_unused]] auto e = substitute(catalog::expolu<>, "p"_p = 3.0);  // expect: substitute(e, ...): write "name"_p = expression
#else
    [[maybe_unused]] auto e = substitute(catalog::expolu<>, "p"_p = 3_c);
#endif
    return 0;
}
