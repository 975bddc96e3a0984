// The ExpoLU post's experiment (../shared/seeds/expolu_post.txt), in C++: 21
// points, 30 hidden layers of width 512, each Linear -> standardize -> act ->
// standardize (the post's ffn0/ffnh; powerlist=[1] makes them plain Linear
// layers), a Linear output (ffno), weights and biases ~ N(0, 1) (torch.randn),
// per-sample SGD with lr = 0.001/512 in the data's order, 400 rounds;
// ExpoLU(a=1, b=1, p=2) against ReLU. The loss of a round is the mean of the
// per-sample losses seen during it, as the post prints it.
//
//   expolu_deep [--rounds N] [--seed S] [--act expolu|relu|both|FORMULA] [--width W] [--layers L]
//               [--every K] [--lr LR] [--quiet] [--csv DIR] [--backend auto|jit|interp] [--check]
//
// The last line is one JSON object: {"expolu": {"final_loss": L, "best_loss": B, "seconds": S}, "relu": {...}}
#include <actjit/kernel.hpp>
#include <actjit/nn.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

using namespace actjit::nn;

namespace {

struct Options {
    int rounds = 400;
    std::uint64_t seed = 0;
    std::string act = "both";
    Index width = 512;
    int layers = 30;
    int every = 1;
    double lr = -1;  // default 0.001 / width
    bool quiet = false;
    bool check = false;
    std::string csv_dir;
    std::string backend = "auto";
};

constexpr const char* kUsage =
    "usage: expolu_deep [--rounds N] [--seed S] [--act expolu|relu|both|FORMULA] [--width W] [--layers L]\n"
    "                   [--every K] [--lr LR] [--quiet] [--csv DIR] [--backend auto|jit|interp] [--check]\n";

[[noreturn]] void usage(const std::string& msg) {
    fmt::print(stderr, "error: {}\n{}", msg, kUsage);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        try {
            if (a == "--rounds") o.rounds = std::stoi(value());
            else if (a == "--seed") o.seed = std::stoull(value());
            else if (a == "--act") o.act = value();
            else if (a == "--width") o.width = std::stoll(value());
            else if (a == "--layers") o.layers = std::stoi(value());
            else if (a == "--every") o.every = std::stoi(value());
            else if (a == "--lr") o.lr = std::stod(value());
            else if (a == "--quiet") o.quiet = true;
            else if (a == "--check") o.check = true;
            else if (a == "--csv") o.csv_dir = value();
            else if (a == "--backend") o.backend = value();
            else if (a == "--help" || a == "-h") {
                fmt::print("{}", kUsage);
                std::exit(0);
            } else usage("unknown option '" + a + "'");
        } catch (const std::logic_error&) {
            usage("bad number for " + a);
        }
    }
    if (o.rounds < 1 || o.width < 2 || o.layers < 1 || o.every < 1) usage("--rounds, --layers, --every must be >= 1 and --width >= 2");
    if (o.lr < 0) o.lr = 0.001 / static_cast<double>(o.width);
    return o;
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "null"; }

struct Result {
    std::string name;
    History history;
    double final_loss = 0, best_loss = 0, seconds = 0;
    int first_below_1e6 = -1, first_below_1e8 = -1;  // 1-based round, -1: never
};

Result train(const std::string& act, const Options& o, const Dataset<float>& data) {
    const std::string spec = fmt::format("1-{}*{}-1 act='{}' norm=standardize init=normal backend={} seed={}", o.width, o.layers, act,
                                         o.backend, o.seed);
    Network net = Network::from_spec(spec);
    if (!o.quiet) fmt::print("\n== {} == {} ({} parameters)\n", act, spec, net.num_params());
    Sgd<float> opt(net.params(), {.lr = o.lr});
    TrainOptions t{.epochs = o.rounds, .batch_size = 1, .shuffle = false, .quiet = true};
    t.on_epoch = [&](const EpochStats& s) {
        if (!o.quiet && (s.epoch % o.every == 0 || s.epoch == 1 || s.epoch == o.rounds))
            fmt::print("round {}, loss {:.12f}\n", s.epoch - 1, s.train_loss);
    };
    Result r;
    r.name = act;
    r.history = fit(net, opt, data, nullptr, t);
    r.seconds = r.history.seconds;
    r.final_loss = r.history.epochs.back().train_loss;
    r.best_loss = r.final_loss;
    for (const EpochStats& s : r.history.epochs) {
        if (std::isfinite(s.train_loss)) r.best_loss = std::min(r.best_loss, s.train_loss);
        if (r.first_below_1e6 < 0 && s.train_loss < 1e-6) r.first_below_1e6 = s.epoch;
        if (r.first_below_1e8 < 0 && s.train_loss < 1e-8) r.first_below_1e8 = s.epoch;
    }
    if (!o.csv_dir.empty()) r.history.write_csv(fmt::format("{}/expolu_deep_{}_seed{}.csv", o.csv_dir, act == "expolu" || act == "relu" ? act : "custom", o.seed));
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_args(argc, argv);
    actjit::set_num_threads(1);
    try {
        // The post's 21 pairs, unnormalized (the post leaves norma0 off).
        const Dataset<float> data = expolu_post_data();
        std::vector<std::string> acts;
        if (o.act == "both") acts = {"expolu", "relu"};
        else acts = {o.act};
        std::vector<Result> results;
        for (const auto& a : acts) results.push_back(train(a, o, data));

        const double samples = 21.0 * o.rounds;
        if (!o.quiet) {
            fmt::print("\n{} rounds, {} hidden layers of width {}, lr {:.3g}, seed {}\n", o.rounds, o.layers, o.width, o.lr, o.seed);
            fmt::print("{:<8} {:>14} {:>14} {:>12} {:>12} {:>9} {:>11}\n", "act", "final loss", "best loss", "round<1e-6", "round<1e-8",
                       "seconds", "samples/s");
            for (const Result& r : results)
                fmt::print("{:<8} {:>14.6g} {:>14.6g} {:>12} {:>12} {:>9.2f} {:>11.0f}\n", r.name.size() > 8 ? "custom" : r.name, r.final_loss,
                           r.best_loss, r.first_below_1e6 < 0 ? std::string("never") : std::to_string(r.first_below_1e6 - 1),
                           r.first_below_1e8 < 0 ? std::string("never") : std::to_string(r.first_below_1e8 - 1), r.seconds,
                           samples / r.seconds);
        }
        bool ok = true;
        std::string json = "{";
        for (const Result& r : results) {
            const double first = r.history.epochs.front().train_loss;
            if (o.check && r.name == "expolu" && !(std::isfinite(r.final_loss) && r.final_loss < first)) {
                fmt::print(stderr, "check failed: {} loss did not fall ({} -> {})\n", r.name, first, r.final_loss);
                ok = false;
            }
            if (o.check && !std::isfinite(r.final_loss)) {
                fmt::print(stderr, "check failed: {} loss is not finite\n", r.name);
                ok = false;
            }
            json += fmt::format("{}\"{}\": {{\"final_loss\": {}, \"best_loss\": {}, \"seconds\": {:.4f}}}", json.size() > 1 ? ", " : "",
                                r.name == "expolu" || r.name == "relu" ? r.name : "custom", json_number(r.final_loss),
                                json_number(r.best_loss), r.seconds);
        }
        fmt::print("{}}}\n", json);
        return ok ? 0 : 1;
    } catch (const actjit::Error& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}
