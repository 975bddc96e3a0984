#include <actjit/expr.hpp>

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace actjit;

TEST_CASE("structurally equal expressions are one node", "[expr]") {
    Expr a = make(Op::Add, {input(), constant(1.0)});
    Expr b = make(Op::Add, {input(), constant(1.0)});
    CHECK(a.same_as(b));
    CHECK_FALSE(a.same_as(make(Op::Add, {constant(1.0), input()})));
    CHECK(param("s").same_as(param("s")));
    CHECK_FALSE(param("s").same_as(param("t")));
    CHECK_FALSE(constant(0.0).same_as(constant(-0.0)));
    CHECK(dag_size(make(Op::Mul, {a, a})) == 4);
}

TEST_CASE("nodes are freed with their last handle", "[expr]") {
    (void)input();  // the input leaf is a process-lifetime singleton: make it first
    std::size_t before = live_node_count();
    {
        Expr e = input();
        for (int i = 0; i < 1000; ++i) e = make(Op::Add, {e, constant(i + 0.5)});
        CHECK(live_node_count() >= before + 1000);
    }
    CHECK(live_node_count() == before);
}

TEST_CASE("deep chains are rejected before they can overflow the stack", "[expr][limits]") {
    Expr e = input();
    CHECK_THROWS_AS([&] { for (std::uint32_t i = 0; i < kMaxExprDepth + 10; ++i) e = make(Op::Neg, {e}); }(), LimitError);
    CHECK(e.depth() == kMaxExprDepth);
    e = Expr();  // freeing a maximally deep chain must not recurse
}

TEST_CASE("factories validate their arguments", "[expr][errors]") {
    CHECK_THROWS_AS(constant(std::numeric_limits<double>::infinity()), ValueError);
    CHECK_THROWS_AS(constant(std::numeric_limits<double>::quiet_NaN()), ValueError);
    CHECK_THROWS_AS(param(""), ValueError);
    CHECK_THROWS_AS(param("1a"), ValueError);
    CHECK_THROWS_AS(make(Op::Add, {input()}), InternalError);
    CHECK_THROWS_AS(make(Op::Const, {}), InternalError);
}

TEST_CASE("the op table agrees with ops.def", "[expr]") {
    CHECK(op_info(Op::Exp).spelling == "exp");
    CHECK(op_info(Op::Where).arity == 3);
    CHECK(find_builtin("pow")->op == Op::Pow);
    CHECK(find_builtin("tanhh") == nullptr);
    CHECK(find_builtin("+") == nullptr);  // operators are not callable by name
}

TEST_CASE("concurrent construction and release keep the table consistent", "[expr][threads]") {
    (void)input();
    std::size_t before = live_node_count();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([] {
            for (int round = 0; round < 200; ++round) {
                Expr e = input();
                for (int i = 0; i < 50; ++i) e = make(Op::Mul, {e, constant(i)});
            }
        });
    for (auto& th : threads) th.join();
    CHECK(live_node_count() == before);
}
