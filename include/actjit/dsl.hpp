// actjit's compile-time DSL: activations as C++ expressions, differentiated
// by the compiler. docs/DSL.md explains it; in short:
//
//   #include <actjit/dsl.hpp>
//   using namespace actjit::dsl;
//   constexpr auto s     = param<"s">;                        // a named parameter
//   constexpr auto prepu = pow(relu(x), softsign(s) + 1_c);   // x is the input, 1_c a constant
//   constexpr auto dx    = d(prepu, x);                       // a type, simplified at compile time
//   double y  = prepu(0.5, params(s = 0.25));                 // native evaluation
//   compile_options o;  o.values = {{"s", 0.25}};
//   Kernel k  = actjit::compile(prepu, o);                    // JIT kernels
//
// Parts (each usable alone):
//   dsl/core.hpp      expression types, x, feature, param<"name">, _c, operators and builtins
//   dsl/simplify.hpp  simplifying construction at the type level
//   dsl/diff.hpp      d(e, v)
//   dsl/eval.hpp      params(...), e(x, params), forward/backward over spans, substitute
//   dsl/lower.hpp     to_expr, to_string, to_formula, kernel_spec, compile
//   dsl/catalog.hpp   the built-in activations: catalog::silu, catalog::expolu<>, ...
//
// Thread safety: expressions are empty constexpr values; evaluation is pure.
// to_expr/compile share the runtime's guarantees (expr.hpp, jit.hpp).
#pragma once

#include <actjit/dsl/catalog.hpp>
#include <actjit/dsl/core.hpp>
#include <actjit/dsl/diff.hpp>
#include <actjit/dsl/eval.hpp>
#include <actjit/dsl/lower.hpp>
#include <actjit/dsl/simplify.hpp>
