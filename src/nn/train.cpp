// The training loop.
#include <actjit/nn/train.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <chrono>
#include <cmath>
#include <iostream>

namespace actjit::nn {

template <class T>
double mse_loss(ConstMatrixMap<T> pred, ConstMatrixMap<T> target, MatrixMap<T>* grad) {
    if (pred.rows() != target.rows() || pred.cols() != target.cols())
        throw ValueError(fmt::format("mse: expected targets of shape {} x {}, found {} x {}", pred.rows(), pred.cols(), target.rows(), target.cols()));
    const Index n = pred.size();
    if (n == 0) throw ValueError("mse: expected at least one element, found none");
    double sum = 0;
    for (Index i = 0; i < n; ++i) {
        const double d = static_cast<double>(pred.data()[i]) - static_cast<double>(target.data()[i]);
        sum += d * d;
    }
    if (grad) {
        ACTJIT_ASSERT(grad->rows() == pred.rows() && grad->cols() == pred.cols());
        const T scale = static_cast<T>(2.0 / static_cast<double>(n));
        grad->noalias() = scale * (pred - target);
    }
    return sum / static_cast<double>(n);
}

template <class T>
double evaluate(BasicNetwork<T>& net, const Dataset<T>& data, Index batch_size) {
    data.validate();
    if (data.size() == 0) throw ValueError("evaluate: expected a non-empty dataset");
    BatchLoader<T> loader(data, batch_size, false);
    loader.start_epoch();
    ConstMatrixMap<T> x(nullptr, 0, 0), y(nullptr, 0, 0);
    double sum = 0;
    while (loader.next(x, y)) sum += mse_loss<T>(net.forward(x), y) * static_cast<double>(y.size());
    return sum / static_cast<double>(data.y.size());
}

CsvTable History::table() const {
    CsvTable t;
    t.header = {"epoch", "train_loss", "val_loss", "seconds"};
    t.values.resize(static_cast<Index>(epochs.size()), 4);
    for (std::size_t i = 0; i < epochs.size(); ++i) {
        const auto r = static_cast<Index>(i);
        t.values(r, 0) = epochs[i].epoch;
        t.values(r, 1) = epochs[i].train_loss;
        t.values(r, 2) = epochs[i].val_loss;
        t.values(r, 3) = epochs[i].seconds;
    }
    return t;
}

template <class T>
History fit(BasicNetwork<T>& net, Optimizer<T>& opt, const Dataset<T>& train, std::type_identity_t<const Dataset<T>*> val,
            const TrainOptions& options) {
    using Clock = std::chrono::steady_clock;
    if (options.epochs < 0) throw ValueError(fmt::format("fit: expected epochs >= 0, found {}", options.epochs));
    if (!(options.clip_norm >= 0) || !std::isfinite(options.clip_norm))
        throw ValueError(fmt::format("fit: expected clip_norm >= 0 (0: off), found {}", options.clip_norm));
    train.validate();
    if (train.size() == 0) throw ValueError("fit: expected a non-empty training set");
    if (train.x.cols() != net.in_features() || train.y.cols() != net.out_features())
        throw ValueError(fmt::format("fit: the network maps {} to {} features, the data {} to {}", net.in_features(), net.out_features(),
                                     train.x.cols(), train.y.cols()));
    if (val && (val->x.cols() != net.in_features() || val->y.cols() != net.out_features()))
        throw ValueError(fmt::format("fit: the network maps {} to {} features, the validation data {} to {}", net.in_features(),
                                     net.out_features(), val->x.cols(), val->y.cols()));
    std::ostream& out = options.out ? *options.out : std::cout;
    BatchLoader<T> loader(train, options.batch_size, options.shuffle, options.seed);
    Buffer<T> grad;
    ConstMatrixMap<T> x(nullptr, 0, 0), y(nullptr, 0, 0);
    History history;
    // Plain SGD over exactly the network's parameters, no clipping: fuse the
    // update into the backward pass (one pass over each weight matrix).
    auto* sgd = dynamic_cast<Sgd<T>*>(&opt);
    const bool fused = sgd && sgd->plain() && options.clip_norm == 0 && !options.unfused && opt.params() == net.params();
    const T lr = sgd ? static_cast<T>(sgd->options().lr) : T(0);
    const auto t0 = Clock::now();
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        const auto e0 = Clock::now();
        loader.start_epoch();
        double sum = 0;
        Index batches = 0;
        while (loader.next(x, y)) {
            const ConstMatrixMap<T> pred = net.forward(x);
            MatrixMap<T> g = grad.resize(pred.rows(), pred.cols());
            sum += mse_loss<T>(pred, y, &g);
            ++batches;
            if (fused) {
                net.backward_sgd(grad.cmap(), lr);
                continue;
            }
            opt.zero_grad();
            net.backward(grad.cmap());
            if (options.clip_norm > 0) clip_grad_norm(opt.params(), options.clip_norm);
            opt.step();
        }
        EpochStats s;
        s.epoch = epoch;
        s.train_loss = sum / static_cast<double>(batches);
        if (val && val->size() > 0) s.val_loss = evaluate(net, *val);
        s.seconds = std::chrono::duration<double>(Clock::now() - e0).count();
        history.epochs.push_back(s);
        if (!options.quiet) {
            if (s.val_loss >= 0)
                fmt::print(out, "epoch {:4d} | train loss {:12.4f} | val loss {:12.4f} | {:.3f} s\n", epoch, s.train_loss, s.val_loss, s.seconds);
            else
                fmt::print(out, "epoch {:4d} | train loss {:14.12f} | {:.3f} s\n", epoch, s.train_loss, s.seconds);
        }
        if (options.on_epoch) options.on_epoch(s);
    }
    history.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return history;
}

template double mse_loss<float>(ConstMatrixMap<float>, ConstMatrixMap<float>, MatrixMap<float>*);
template double mse_loss<double>(ConstMatrixMap<double>, ConstMatrixMap<double>, MatrixMap<double>*);
template double evaluate<float>(BasicNetwork<float>&, const Dataset<float>&, Index);
template double evaluate<double>(BasicNetwork<double>&, const Dataset<double>&, Index);
template History fit<float>(BasicNetwork<float>&, Optimizer<float>&, const Dataset<float>&, const Dataset<float>*, const TrainOptions&);
template History fit<double>(BasicNetwork<double>&, Optimizer<double>&, const Dataset<double>&, const Dataset<double>*, const TrainOptions&);

}  // namespace actjit::nn
