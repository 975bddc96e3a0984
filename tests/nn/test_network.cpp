// Networks: specs, compile-time composition, whole-network gradients, training.
#include "gradcheck.hpp"

#include <cstdio>
#include <sstream>

using namespace nntest;

TEST_CASE("spec builds the notebook's networks with torch's parameter counts", "[nn][spec]") {
    auto relu = NetworkF64::from_spec("1-8-8-8-8-1 act=relu backend=interp");
    CHECK(relu.num_params() == 241);
    CHECK(relu.size() == 9);
    auto prepu = NetworkF64::from_spec("1-8-8-8-8-1 act=prepu backend=interp");
    CHECK(prepu.num_params() == 273);
    CHECK(prepu.summary().find("total trainable parameters: 273") != std::string::npos);
    CHECK(prepu.in_features() == 1);
    CHECK(prepu.out_features() == 1);
}

TEST_CASE("spec options: repeat, norm, init, formulas, quoting", "[nn][spec]") {
    auto net = NetworkF64::from_spec("1-16*3-1 act=expolu norm=standardize init=normal backend=interp seed=3");
    // Linear, Std, Act, Std per hidden layer (3) + output Linear.
    CHECK(net.size() == 3 * 4 + 1);
    CHECK(net.layer(1).describe() == "Standardize");
    auto pre = NetworkF64::from_spec("2-4-1 act=silu norm=maxabs norm_at=pre backend=interp");
    CHECK(pre.size() == 4);
    CHECK(pre.layer(1).describe().rfind("MaxAbsNorm", 0) == 0);
    auto f = NetworkF64::from_spec("1-4-1 act='f(x; a=0.5) = x * sigmoid(a * x)' params=shared backend=interp");
    CHECK(f.num_params() == 8 + 5 + 1);
    const auto spec = NetworkSpec::parse("3-5-2 act=\"x * tanh(x)\" seed=12");
    CHECK(spec.activation == "x * tanh(x)");
    CHECK(spec.seed == 12);
    CHECK(spec.widths == std::vector<Index>{3, 5, 2});
    // Same seed, same weights.
    auto a = NetworkF64::from_spec("1-8-1 seed=5 backend=interp"), b = NetworkF64::from_spec("1-8-1 seed=5 backend=interp");
    CHECK(a.params()[0]->value == b.params()[0]->value);
    auto c = NetworkF64::from_spec("1-8-8-1 seed=5 backend=interp");
    const Mat w1 = c.params()[2]->value;
    c.reset_parameters(5);  // the same stream as construction
    CHECK(c.params()[2]->value == w1);
    c.reset_parameters(6);
    CHECK(c.params()[2]->value != w1);
}

TEST_CASE("bad specs are ValueErrors with clear messages", "[nn][spec][errors]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(NetworkSpec::parse(""), Contains("expected a shape like '1-8-8-1', found nothing"));
    CHECK_THROWS_WITH(NetworkSpec::parse("8"), Contains("expected at least an input and an output width"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-x-1"), Contains("found 'x'"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-0-1"), Contains("found '0'"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1--1"), Contains("found ''"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-8-1 colour=red"), Contains("unknown option 'colour'"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-8-1 act"), Contains("expected an option key=value, found 'act'"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-8-1 norm=batch"), Contains("expected norm to be one of none, standardize, maxabs, found 'batch'"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-8-1 act=relu act=silu"), Contains("given twice"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-8-1 act='relu"), Contains("unterminated quote"));
    CHECK_THROWS_WITH(NetworkSpec::parse("act=relu"), Contains("expected a shape like '1-8-8-1' first"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-100000*100000-1"), Contains("at most 100000 layers"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-99999999-1"), Contains("expected a layer width"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-1000000-1000000-1"), Contains("more than 1e10"));
    CHECK_THROWS_WITH(NetworkSpec::parse("1-8-1 seed=-1"), Contains("seed"));
    CHECK_THROWS_AS(Network::from_spec("1-8-1 act=nosuchunit(x)"), actjit::FormulaError);
    CHECK_THROWS_AS(Network::from_spec("1-8-1 act='x*k' backend=interp"), actjit::ValueError);
}

TEST_CASE("adding layers checks widths at run time", "[nn][network][errors]") {
    NetworkF64 net;
    CHECK_THROWS_WITH(net.add(std::make_unique<StandardizeLayer<double>>()), Catch::Contains("first layer must fix the input width"));
    net.emplace<LinearLayer<double>>(2, 4);
    CHECK_THROWS_WITH(net.emplace<LinearLayer<double>>(5, 1), Catch::Contains("expects 5 input features, but the previous layer gives 4"));
    Mat x(3, 3);
    x.setZero();
    CHECK_THROWS_AS(net.forward(x), actjit::ValueError);
}

TEST_CASE("Sequential composes at compile time", "[nn][sequential]") {
    using Net = SequentialOf<double, Linear<1, 8>, Act<"prepu">, Linear<8, 8>, Act<"relu">, Standardize, Linear<8, 1>>;
    static_assert(Net::input_size == 1);
    static_assert(Net::output_size == 1);
    Net net(0, Backend::Interpreter);
    CHECK(net.size() == 6);
    auto same = NetworkF64::from_spec("1-8-8-1 act=prepu backend=interp seed=0");
    CHECK(net.params()[0]->value == same.params()[0]->value);  // the same initialization stream
    CHECK(net.num_params() == 16 + 8 + 72 + 9);
    using Float = Sequential<Linear<2, 3>, Act<"silu">, Linear<3, 4>>;
    static_assert(Float::output_size == 4);
    static_assert(std::is_base_of_v<Network, Float>);
}

TEST_CASE("whole-network gradients match finite differences", "[nn][network][grad]") {
    Rng rng(11);
    for (const char* spec : {"2-6-5-1 act=silu backend=interp", "1-8-8-1 act=prepu backend=interp",
                             "3-8-8-2 act=tanh norm=standardize init=normal backend=interp",
                             "2-6-6-1 act=gelu norm=maxabs norm_eps=0.1 backend=interp",
                             "1-5-1 act=soft_exponential backend=interp"}) {
        INFO(spec);
        auto net = NetworkF64::from_spec(spec);
        for (Param<double>* p : net.params())  // move trainable activation parameters off their initial values
            if (p->name != "weight" && p->name != "bias")
                for (Index i = 0; i < p->value.size(); ++i) p->value.data()[i] = rng.uniform(-0.5, 0.5);
        const Mat x = random_matrix(5, net.in_features(), rng);
        const Mat y = random_matrix(5, net.out_features(), rng);
        auto loss = [&] { return mse_loss<double>(net.forward(x), view(y)); };
        net.zero_grad();
        Mat g(5, net.out_features());
        MatrixMap<double> gm(g.data(), g.rows(), g.cols());
        mse_loss<double>(net.forward(x), view(y), &gm);
        net.backward(view(g));
        const double h = 1e-6;
        for (Param<double>* p : net.params())
            for (Index i = 0; i < p->value.size(); ++i) {
                const double v = p->value.data()[i];
                p->value.data()[i] = v + h;
                const double up = loss();
                p->value.data()[i] = v - h;
                const double down = loss();
                p->value.data()[i] = v;
                const double fd = (up - down) / (2 * h);
                INFO(p->name << "[" << i << "] analytic " << p->grad.data()[i] << " fd " << fd);
                CHECK(close(p->grad.data()[i], fd, 1e-5));
            }
    }
}

TEST_CASE("mse is torch's mean squared error", "[nn][loss]") {
    Mat p(2, 2), t(2, 2), g(2, 2);
    p << 1, 2, 3, 4;
    t << 0, 2, 5, 4;
    MatrixMap<double> gm(g.data(), 2, 2);
    CHECK(mse_loss<double>(view(p), view(t), &gm) == 1.25);
    CHECK(g(0, 0) == 0.5);
    CHECK(g(1, 0) == -1);
    CHECK_THROWS_AS(mse_loss<double>(view(p), view(Mat(1, 2))), actjit::ValueError);
}

TEST_CASE("training is reproducible and the loss falls", "[nn][train]") {
    Rng rng(21);
    Dataset<double> data;
    data.x = random_matrix(200, 1, rng, -2, 2);
    data.y = data.x.array().sin().matrix();
    auto [train, val] = train_val_split(data, 0.2, 1);
    auto run = [&](std::ostream& out) {
        auto net = NetworkF64::from_spec("1-16-16-1 act=silu backend=interp seed=2");
        Adam<double> opt(net.params(), {.lr = 1e-2});
        int calls = 0;
        TrainOptions o{.epochs = 15, .batch_size = 16, .seed = 3, .clip_norm = 100, .out = &out};
        o.on_epoch = [&](const EpochStats&) { ++calls; };
        auto h = fit(net, opt, train, &val, o);
        CHECK(calls == 15);
        return h;
    };
    std::ostringstream log1, log2;
    const History h1 = run(log1), h2 = run(log2);
    REQUIRE(h1.epochs.size() == 15);
    CHECK(h1.epochs.back().val_loss < 0.2 * h1.epochs.front().val_loss);
    for (std::size_t i = 0; i < 15; ++i) CHECK(h1.epochs[i].train_loss == h2.epochs[i].train_loss);
    CHECK(log1.str().find("epoch   15 | train loss") != std::string::npos);
    const CsvTable t = h1.table();
    CHECK(t.header == std::vector<std::string>{"epoch", "train_loss", "val_loss", "seconds"});
    CHECK(t.values(14, 0) == 15);
    std::ostringstream quiet;
    auto net = NetworkF64::from_spec("1-4-1 backend=interp");
    Sgd<double> sgd(net.params(), {.lr = 0.01});
    fit(net, sgd, train, nullptr, {.epochs = 2, .quiet = true, .out = &quiet});
    CHECK(quiet.str().empty());
    CHECK_THROWS_AS(fit(net, sgd, train, nullptr, {.epochs = -1}), actjit::ValueError);
    CHECK_THROWS_AS(fit(net, sgd, Dataset<double>{Mat(3, 2), Mat(3, 1)}, nullptr, {}), actjit::ValueError);
    const Dataset<double> wide{Mat::Zero(3, 2), Mat::Zero(3, 1)};
    CHECK_THROWS_WITH(fit(net, sgd, train, &wide, {.quiet = true}), Catch::Contains("the validation data 2 to 1"));
}

TEST_CASE("plain SGD fused into backward equals backward + step", "[nn][train][optim]") {
    Rng rng(31);
    Dataset<double> data;
    data.x = random_matrix(24, 2, rng);
    data.y = random_matrix(24, 1, rng);
    for (Index batch : {Index{1}, Index{5}}) {
        auto run = [&](bool unfused) {
            auto net = NetworkF64::from_spec("2-32-32-1 act=prepu norm=standardize backend=interp seed=4");
            Sgd<double> opt(net.params(), {.lr = 0.01});
            fit(net, opt, data, nullptr, {.epochs = 3, .batch_size = batch, .shuffle = false, .quiet = true, .unfused = unfused});
            std::vector<Mat> values;
            for (Param<double>* p : net.params()) values.push_back(p->value);
            return values;
        };
        const auto fused = run(false), plain = run(true);
        REQUIRE(fused.size() == plain.size());
        for (std::size_t i = 0; i < fused.size(); ++i) {
            INFO("batch " << batch << ", parameter " << i);
            CHECK((fused[i] - plain[i]).cwiseAbs().maxCoeff() <= 1e-12 * std::max(1.0, plain[i].cwiseAbs().maxCoeff()));
        }
    }
}

TEST_CASE("evaluate is the MSE over the whole dataset, whatever the batch size", "[nn][train]") {
    Rng rng(41);
    auto net = NetworkF64::from_spec("2-5-1 act=tanh backend=interp");
    Dataset<double> data{random_matrix(37, 2, rng), random_matrix(37, 1, rng)};
    const Mat pred = net.predict(data.x);
    const double direct = (pred - data.y).squaredNorm() / 37;
    for (Index b : {Index{1}, Index{5}, Index{36}, Index{1000}}) CHECK(evaluate(net, data, b) == Approx(direct).epsilon(1e-14));
}

TEST_CASE("history round-trips through CSV", "[nn][train][csv]") {
    History h;
    h.epochs = {{1, 10.5, 9.25, 0.5}, {2, 3.125, 2.0, 0.25}};
    const std::string path = "actjit_nn_test_history.csv";
    h.write_csv(path);
    const CsvTable t = read_csv(path);
    std::remove(path.c_str());
    REQUIRE(t.values.rows() == 2);
    CHECK(t.values(1, 1) == 3.125);
    CHECK(t.values(0, 2) == 9.25);
    CHECK_THROWS_AS(h.write_csv("/nonexistent/dir/h.csv"), actjit::ValueError);
}
