// The PRePU notebook's experiment (../shared/seeds/prepu_notebook.txt), in C++:
// fit y = 1 + 0.25 x + 2 x^2 - 3 x^3 (x ~ N(0, 2), 10000 points, 80/20 split)
// with a 1-8-8-8-8-1 MLP, once with ReLU and once with PRePU
// relu(x)^(softsign(s) + 1), s trainable per feature from 0. Adam (lr 1e-3),
// batch 36 shuffled, gradient norm clipped at 100, 100 epochs, one core.
//
//   prepu_vs_relu [--epochs N] [--seed S] [--quiet] [--csv DIR] [--backend auto|jit|interp] [--check]
//
// The last line is one JSON object:
//   {"relu": {"val_loss": V, "seconds": S}, "prepu": {"val_loss": V, "seconds": S}}
#include <actjit/kernel.hpp>
#include <actjit/nn.hpp>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace actjit::nn;

namespace {

struct Options {
    int epochs = 100;
    std::uint64_t seed = 0;
    bool quiet = false;
    bool check = false;
    std::string csv_dir;
    std::string backend = "auto";
};

[[noreturn]] void usage(const char* msg) {
    fmt::print(stderr, "error: {}\nusage: prepu_vs_relu [--epochs N] [--seed S] [--quiet] [--csv DIR] [--backend auto|jit|interp] [--check]\n", msg);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(fmt::format("{} needs a value", a).c_str());
            return argv[++i];
        };
        try {
            if (a == "--epochs") {
                o.epochs = std::stoi(value());
                if (o.epochs < 1) usage("--epochs must be at least 1");
            } else if (a == "--seed") {
                o.seed = std::stoull(value());
            } else if (a == "--quiet") {
                o.quiet = true;
            } else if (a == "--check") {
                o.check = true;
            } else if (a == "--csv") {
                o.csv_dir = value();
            } else if (a == "--backend") {
                o.backend = value();
            } else if (a == "--help" || a == "-h") {
                fmt::print("usage: prepu_vs_relu [--epochs N] [--seed S] [--quiet] [--csv DIR] [--backend auto|jit|interp] [--check]\n");
                std::exit(0);
            } else {
                usage(fmt::format("unknown option '{}'", a).c_str());
            }
        } catch (const std::logic_error&) {
            usage(fmt::format("bad number for {}", a).c_str());
        }
    }
    return o;
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "null"; }


struct Result {
    History history;
    double initial_val_loss = 0;
    double val_loss = 0;
    double seconds = 0;
};

Result train(const char* act, const Options& o, const Dataset<float>& train_set, const Dataset<float>& val_set) {
    Network net = Network::from_spec(fmt::format("1-8-8-8-8-1 act={} backend={} seed={}", act, o.backend, o.seed + 1));
    if (!o.quiet) fmt::print("\n== {} ==\n{}", act, net.summary());
    Adam<float> opt(net.params());  // torch defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8
    Result r;
    r.initial_val_loss = evaluate(net, val_set);
    TrainOptions t{.epochs = o.epochs, .batch_size = 36, .shuffle = true, .seed = o.seed + 2, .clip_norm = 100, .quiet = o.quiet};
    r.history = fit(net, opt, train_set, &val_set, t);
    r.val_loss = r.history.epochs.back().val_loss;
    r.seconds = r.history.seconds;
    if (std::string(act) == "prepu" && !o.quiet) {
        fmt::print("\nlearned powers softsign(s) + 1 (torch names: the Sequential index):\n");
        for (std::size_t i = 0; i < net.size(); ++i) {
            auto* a = dynamic_cast<ActivationLayer<float>*>(&net.layer(i));
            if (!a) continue;
            std::string s, p;
            for (float v : a->param_values("s")) {
                s += fmt::format("{}{:7.4f}", s.empty() ? "" : ", ", v);
                p += fmt::format("{}{:7.4f}", p.empty() ? "" : ", ", v / (1 + std::abs(v)) + 1);
            }
            fmt::print("  layers.{}.scale: [{}]\n  power:          [{}]\n", i, s, p);
        }
    }
    if (!o.csv_dir.empty()) r.history.write_csv(fmt::format("{}/prepu_vs_relu_{}_seed{}.csv", o.csv_dir, act, o.seed));
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_args(argc, argv);
    actjit::set_num_threads(1);  // the experiment's budget: one core
    try {
        // The notebook's data: x ~ N(0, 2) (numpy's scale is the standard deviation).
        const Dataset<float> data = prepu_notebook_data(10000, o.seed);
        auto [train_set, val_set] = train_val_split(data, 0.2, o.seed + 42);
        if (!o.quiet) fmt::print("{} training and {} validation points, seed {}\n", train_set.size(), val_set.size(), o.seed);

        const Result relu = train("relu", o, train_set, val_set);
        const Result prepu = train("prepu", o, train_set, val_set);

        if (!o.quiet) {
            fmt::print("\nafter {} epochs (PyTorch, one core, 100 epochs: ReLU 28 s, PRePU 41 s)\n", o.epochs);
            fmt::print("{:<7} {:>12} {:>12} {:>10} {:>14}\n", "model", "train loss", "val loss", "seconds", "samples/s");
            for (auto [name, r] : {std::pair<const char*, const Result*>{"relu", &relu}, {"prepu", &prepu}}) {
                fmt::print("{:<7} {:>12.4f} {:>12.4f} {:>10.3f} {:>14.0f}\n", name, r->history.epochs.back().train_loss, r->val_loss,
                           r->seconds, static_cast<double>(train_set.size()) * o.epochs / r->seconds);
            }
        }
        bool ok = true;
        if (o.check) {
            for (auto [name, r] : {std::pair<const char*, const Result*>{"relu", &relu}, {"prepu", &prepu}}) {
                if (!(std::isfinite(r->val_loss) && r->val_loss < r->initial_val_loss)) {
                    fmt::print(stderr, "check failed: {} validation loss did not fall ({} -> {})\n", name, r->initial_val_loss, r->val_loss);
                    ok = false;
                }
            }
        }
        fmt::print("{{\"relu\": {{\"val_loss\": {}, \"seconds\": {:.4f}}}, \"prepu\": {{\"val_loss\": {}, \"seconds\": {:.4f}}}}}\n",
                   json_number(relu.val_loss), relu.seconds, json_number(prepu.val_loss), prepu.seconds);
        return ok ? 0 : 1;
    } catch (const actjit::Error& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}
