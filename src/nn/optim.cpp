// SGD, Adam and gradient clipping, following PyTorch's single-tensor code paths.
#include <actjit/nn/optim.hpp>

#include <fmt/format.h>

#include <cmath>

namespace actjit::nn {

namespace {

void check_finite_positive(const char* what, double v, bool allow_zero) {
    if (!std::isfinite(v) || v < 0 || (!allow_zero && v == 0))
        throw ValueError(fmt::format("{}: expected a finite {} number, found {}", what, allow_zero ? "non-negative" : "positive", v));
}

}  // namespace

template <class T>
Sgd<T>::Sgd(std::vector<Param<T>*> params, SgdOptions options) : Optimizer<T>(std::move(params)), options_(options) {
    check_finite_positive("sgd lr", options.lr, true);
    check_finite_positive("sgd momentum", options.momentum, true);
    check_finite_positive("sgd weight_decay", options.weight_decay, true);
    if (options_.momentum != 0)
        for (Param<T>* p : this->params_) momentum_.emplace_back(Matrix<T>::Zero(p->value.rows(), p->value.cols()));
}

template <class T>
void Sgd<T>::step() {
    const T lr = static_cast<T>(options_.lr), mu = static_cast<T>(options_.momentum), wd = static_cast<T>(options_.weight_decay);
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        Param<T>& p = *this->params_[i];
        if (wd != 0) p.grad += wd * p.value;
        if (mu == 0) {
            p.value -= lr * p.grad;
            continue;
        }
        Matrix<T>& buf = momentum_[i];
        if (first_)
            buf = p.grad;
        else
            buf = mu * buf + p.grad;
        p.value -= lr * buf;
    }
    first_ = false;
}

template <class T>
Adam<T>::Adam(std::vector<Param<T>*> params, AdamOptions options) : Optimizer<T>(std::move(params)), options_(options) {
    check_finite_positive("adam lr", options.lr, true);
    if (!(options.beta1 >= 0 && options.beta1 < 1) || !(options.beta2 >= 0 && options.beta2 < 1))
        throw ValueError(fmt::format("adam: expected betas in [0, 1), found ({}, {})", options.beta1, options.beta2));
    check_finite_positive("adam eps", options.eps, true);
    check_finite_positive("adam weight_decay", options.weight_decay, true);
    for (Param<T>* p : this->params_) {
        m_.emplace_back(Matrix<T>::Zero(p->value.rows(), p->value.cols()));
        v_.emplace_back(Matrix<T>::Zero(p->value.rows(), p->value.cols()));
    }
}

template <class T>
void Adam<T>::step() {
    ++t_;
    const T b1 = static_cast<T>(options_.beta1), b2 = static_cast<T>(options_.beta2);
    // As torch: bias corrections computed in double (Python floats), then used as T.
    const double bc1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t_));
    const T step_size = static_cast<T>(options_.lr / bc1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    const T eps = static_cast<T>(options_.eps), wd = static_cast<T>(options_.weight_decay);
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        Param<T>& p = *this->params_[i];
        auto g = p.grad.array();
        if (wd != 0) g += wd * p.value.array();
        auto m = m_[i].array();
        auto v = v_[i].array();
        m += (g - m) * (T(1) - b1);  // torch: exp_avg.lerp_(grad, 1 - beta1)
        v = v * b2 + (T(1) - b2) * g * g;
        p.value.array() -= step_size * m / (v.sqrt() / bc2_sqrt + eps);
    }
}

template <class T>
double clip_grad_norm(const std::vector<Param<T>*>& params, double max_norm) {
    if (!(max_norm > 0) || !std::isfinite(max_norm))
        throw ValueError(fmt::format("clip_grad_norm: expected a finite positive max_norm, found {}", max_norm));
    double sum = 0;
    for (const Param<T>* p : params) sum += p->grad.template cast<double>().squaredNorm();
    const double norm = std::sqrt(sum);
    if (!std::isfinite(norm)) return norm;
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1)
        for (Param<T>* p : params) p->grad *= static_cast<T>(coef);
    return norm;
}

template class Sgd<float>;
template class Sgd<double>;
template class Adam<float>;
template class Adam<double>;
template double clip_grad_norm<float>(const std::vector<Param<float>*>&, double);
template double clip_grad_norm<double>(const std::vector<Param<double>*>&, double);

}  // namespace actjit::nn
