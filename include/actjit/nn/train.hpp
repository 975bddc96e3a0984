// Training: MSE loss, the epoch loop with progress and loss history.
#pragma once

#include <actjit/nn/data.hpp>
#include <actjit/nn/network.hpp>
#include <actjit/nn/optim.hpp>

#include <functional>
#include <iosfwd>
#include <string>
#include <type_traits>
#include <vector>

namespace actjit::nn {

/// Mean squared error over all elements (torch.nn.MSELoss()), summed in
/// double. If `grad` is given it receives dL/dpred = 2 (pred - target) / N.
template <class T>
double mse_loss(ConstMatrixMap<T> pred, ConstMatrixMap<T> target, MatrixMap<T>* grad = nullptr);

struct EpochStats {
    int epoch = 0;            // 1-based
    double train_loss = 0;    // mean of the batch losses seen during the epoch
    double val_loss = -1;     // MSE over the whole validation set after the epoch (-1: none)
    double seconds = 0;       // wall time of the epoch (training + validation)
};

struct History {
    std::vector<EpochStats> epochs;
    double seconds = 0;  // total
    /// epoch,train_loss,val_loss,seconds
    CsvTable table() const;
    void write_csv(const std::string& path) const { nn::write_csv(path, table()); }
};

struct TrainOptions {
    int epochs = 10;
    Index batch_size = 32;
    bool shuffle = true;
    std::uint64_t seed = 0;       // shuffling
    double clip_norm = 0;         // > 0: clip_grad_norm at this max norm every step
    bool quiet = false;           // no progress lines
    bool unfused = false;         // never fuse plain SGD into backward (for tests and measurements)
    std::ostream* out = nullptr;  // progress stream (default std::cout)
    /// Called after every epoch (also when quiet).
    std::function<void(const EpochStats&)> on_epoch = nullptr;
};

/// Train `net` with `opt` on `train` (and report the loss on `val` if given).
template <class T>
History fit(BasicNetwork<T>& net, Optimizer<T>& opt, const Dataset<T>& train, std::type_identity_t<const Dataset<T>*> val,
            const TrainOptions& options);

/// MSE of `net` over `data`, evaluated in batches of `batch_size`.
template <class T>
double evaluate(BasicNetwork<T>& net, const Dataset<T>& data, Index batch_size = 1024);

}  // namespace actjit::nn
