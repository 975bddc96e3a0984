// Optimizers (PyTorch's SGD and Adam, same defaults and update rules) and
// gradient-norm clipping.
#pragma once

#include <actjit/nn/core.hpp>

#include <vector>

namespace actjit::nn {

template <class T>
class Optimizer {
public:
    explicit Optimizer(std::vector<Param<T>*> params) : params_(std::move(params)) {}
    virtual ~Optimizer() = default;
    /// One update of every parameter from its current gradient.
    virtual void step() = 0;
    void zero_grad() {
        for (Param<T>* p : params_) p->grad.setZero();
    }
    const std::vector<Param<T>*>& params() const noexcept { return params_; }

protected:
    std::vector<Param<T>*> params_;
};

struct SgdOptions {
    double lr = 1e-3;
    double momentum = 0;
    double weight_decay = 0;
};

/// torch.optim.SGD (dampening 0, no Nesterov): g += wd * p;
/// buf = g (first step) or momentum * buf + g; p -= lr * buf.
template <class T>
class Sgd final : public Optimizer<T> {
public:
    Sgd(std::vector<Param<T>*> params, SgdOptions options = {});
    void step() override;
    const SgdOptions& options() const noexcept { return options_; }
    /// True when a step is just p -= lr * g (no momentum, no weight decay):
    /// fit() then fuses it into the backward pass.
    bool plain() const noexcept { return options_.momentum == 0 && options_.weight_decay == 0; }

private:
    SgdOptions options_;
    std::vector<Matrix<T>> momentum_;
    bool first_ = true;
};

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;
};

/// torch.optim.Adam (not AMSGrad): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
template <class T>
class Adam final : public Optimizer<T> {
public:
    Adam(std::vector<Param<T>*> params, AdamOptions options = {});
    void step() override;
    const AdamOptions& options() const noexcept { return options_; }
    std::int64_t steps() const noexcept { return t_; }

private:
    AdamOptions options_;
    std::vector<Matrix<T>> m_, v_;
    std::int64_t t_ = 0;
};

/// torch.nn.utils.clip_grad_norm_: the 2-norm of all gradients together; if it
/// exceeds max_norm every gradient is scaled by max_norm / (norm + 1e-6).
/// Returns the norm before clipping (accumulated in double). A non-finite
/// norm is returned as is and the gradients are left alone.
template <class T>
double clip_grad_norm(const std::vector<Param<T>*>& params, double max_norm);

extern template class Sgd<float>;
extern template class Sgd<double>;
extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace actjit::nn
