// Linear, per-sample standardization and max-abs normalization.
#include <actjit/nn/layers.hpp>

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace actjit::nn {

namespace {

void check_width(const char* layer, Index expected, Index found) {
    if (expected >= 0 && expected != found)
        throw ValueError(fmt::format("{}: expected an input with {} features, found {}", layer, expected, found));
}

}  // namespace

// ---- Linear -------------------------------------------------------------------

template <class T>
LinearLayer<T>::LinearLayer(Index in, Index out, Init init, Rng* rng) : in_(in), out_(out), init_(init) {
    if (in <= 0 || out <= 0 || in > (Index{1} << 24) || out > (Index{1} << 24))
        throw ValueError(fmt::format("linear: expected sizes in 1..16777216, found {} x {}", in, out));
    weight_.name = "weight";
    bias_.name = "bias";
    weight_.resize(out, in);
    bias_.resize(1, out);
    Rng zero(0);
    reset_parameters(rng ? *rng : zero);
}

template <class T>
std::string LinearLayer<T>::describe() const {
    return fmt::format("Linear({}, {})", in_, out_);
}

template <class T>
void LinearLayer<T>::reset_parameters(Rng& rng) {
    if (init_ == Init::Torch) {
        // kaiming_uniform_(a=sqrt(5)) gives bound sqrt(6 / ((1 + 5) * fan_in)) = 1/sqrt(fan_in); the bias uses the same bound.
        const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
        for (Index i = 0; i < weight_.value.size(); ++i) weight_.value.data()[i] = static_cast<T>(rng.uniform(-bound, bound));
        for (Index i = 0; i < bias_.value.size(); ++i) bias_.value.data()[i] = static_cast<T>(rng.uniform(-bound, bound));
    } else {
        for (Index i = 0; i < weight_.value.size(); ++i) weight_.value.data()[i] = static_cast<T>(rng.normal());
        for (Index i = 0; i < bias_.value.size(); ++i) bias_.value.data()[i] = static_cast<T>(rng.normal());
    }
}

template <class T>
ConstMatrixMap<T> LinearLayer<T>::forward(ConstMatrixMap<T> x) {
    check_width("linear", in_, x.cols());
    x_ = x.data();
    rows_ = x.rows();
    auto y = y_.resize(rows_, out_);
    const auto& w = weight_.value;
    // Eigen's GEMM, also for 8 x 8: measured 2-20x faster than its
    // coefficient-based lazyProduct at the notebook's sizes (36 x 8 x 8).
    y.noalias() = x * w.transpose();
    y.rowwise() += bias_.value.row(0);
    return y_.cmap();
}

template <class T>
ConstMatrixMap<T> LinearLayer<T>::backward(ConstMatrixMap<T> dy) {
    ACTJIT_ASSERT(x_ != nullptr, "linear: backward before forward");
    ACTJIT_ASSERT(dy.rows() == rows_ && dy.cols() == out_);
    ConstMatrixMap<T> x(x_, rows_, in_);
    weight_.grad.noalias() += dy.transpose() * x;
    bias_.grad.row(0) += dy.colwise().sum();
    if (!this->input_grad_) return ConstMatrixMap<T>(nullptr, 0, 0);
    return backward_dx(dy);
}

template <class T>
ConstMatrixMap<T> LinearLayer<T>::backward_sgd(ConstMatrixMap<T> dy, T lr) {
    ACTJIT_ASSERT(x_ != nullptr, "linear: backward before forward");
    ACTJIT_ASSERT(dy.rows() == rows_ && dy.cols() == out_);
    ConstMatrixMap<T> x(x_, rows_, in_);
    auto& w = weight_.value;
    bias_.value.row(0) -= lr * dy.colwise().sum();
    if (rows_ != 1) {
        // Batches: dx with the old weights, then one rank-`rows` update.
        ConstMatrixMap<T> dx = this->input_grad_ ? backward_dx(dy) : ConstMatrixMap<T>(nullptr, 0, 0);
        w.noalias() -= (lr * dy.transpose()) * x;
        return dx;
    }
    // One sample: a single pass over W, row by row: dx += dy_i W_i (old row),
    // then W_i -= (lr dy_i) x. W is read and written once (it may not fit in cache).
    auto dx = dx_.resize(1, in_);
    const bool need_dx = this->input_grad_;
    if (need_dx) dx.setZero();
    for (Index i = 0; i < out_; ++i) {
        const T g = dy(0, i);
        if (g == T(0)) continue;
        auto wi = w.row(i);
        if (need_dx) dx.row(0) += g * wi;
        wi -= (lr * g) * x.row(0);
    }
    return need_dx ? dx_.cmap() : ConstMatrixMap<T>(nullptr, 0, 0);
}

template <class T>
ConstMatrixMap<T> LinearLayer<T>::backward_dx(ConstMatrixMap<T> dy) {
    auto dx = dx_.resize(rows_, in_);
    dx.noalias() = dy * weight_.value;
    return dx_.cmap();
}

// ---- Standardization ------------------------------------------------------------

template <class T>
std::string StandardizeLayer<T>::describe() const {
    return eps_ == 0 ? std::string("Standardize") : fmt::format("Standardize(eps={})", eps_);
}

template <class T>
ConstMatrixMap<T> StandardizeLayer<T>::forward(ConstMatrixMap<T> x) {
    const Index rows = x.rows(), n = x.cols();
    if (n < 2) throw ValueError(fmt::format("standardize: expected at least 2 features, found {}", n));
    auto y = y_.resize(rows, n);
    inv_std_.resize(static_cast<std::size_t>(rows));
    std_.resize(static_cast<std::size_t>(rows));
    for (Index r = 0; r < rows; ++r) {
        const auto xr = x.row(r);
        const T mean = xr.mean();
        auto yr = y.row(r);
        yr = xr.array() - mean;
        const T var = yr.squaredNorm() / static_cast<T>(n - 1);
        const T sd = std::sqrt(var);
        const T inv = T(1) / (sd + static_cast<T>(eps_));
        yr *= inv;
        inv_std_[static_cast<std::size_t>(r)] = inv;
        std_[static_cast<std::size_t>(r)] = sd;
    }
    return y_.cmap();
}

template <class T>
ConstMatrixMap<T> StandardizeLayer<T>::backward(ConstMatrixMap<T> dy) {
    // With c = h - mean, s = std(h) (unbiased), d = s + eps, y = c / d:
    //   dL/dh = (g - mean(g)) / d - c * (sum(g * c) / d^2) / ((n - 1) s)
    // (for eps = 0: (g - mean(g) - y * sum(g * y) / (n - 1)) / s).
    const Index rows = dy.rows(), n = dy.cols();
    ACTJIT_ASSERT(rows == y_.rows() && n == y_.cols());
    if (!this->input_grad_) return ConstMatrixMap<T>(nullptr, 0, 0);
    auto dx = dx_.resize(rows, n);
    const auto y = y_.cmap();
    for (Index r = 0; r < rows; ++r) {
        const auto g = dy.row(r);
        const auto yr = y.row(r);
        const T inv = inv_std_[static_cast<std::size_t>(r)];
        const T sd = std_[static_cast<std::size_t>(r)];
        const T gmean = g.mean();
        const T gy = g.dot(yr);  // sum(g * c) / d
        // c / ((n - 1) s) = y * d / ((n - 1) s)
        const T k = gy * inv / static_cast<T>(n - 1) * ((T(1) / inv) / sd);
        dx.row(r) = ((g.array() - gmean) * inv - yr.array() * k).matrix();
    }
    return dx_.cmap();
}

// ---- Max-abs normalization ------------------------------------------------------

template <class T>
std::string MaxAbsNormLayer<T>::describe() const {
    return fmt::format("MaxAbsNorm(eps={})", eps_);
}

template <class T>
ConstMatrixMap<T> MaxAbsNormLayer<T>::forward(ConstMatrixMap<T> x) {
    const Index rows = x.rows(), n = x.cols();
    if (n < 1) throw ValueError("maxabs: expected at least 1 feature, found 0");
    x_ = x.data();
    auto y = y_.resize(rows, n);
    argmax_.resize(static_cast<std::size_t>(rows));
    denom_.resize(static_cast<std::size_t>(rows));
    for (Index r = 0; r < rows; ++r) {
        Index k = 0;
        const T m = x.row(r).cwiseAbs().maxCoeff(&k);
        const T d = m + static_cast<T>(eps_);
        argmax_[static_cast<std::size_t>(r)] = k;
        denom_[static_cast<std::size_t>(r)] = d;
        y.row(r) = x.row(r) / d;
    }
    return y_.cmap();
}

template <class T>
ConstMatrixMap<T> MaxAbsNormLayer<T>::backward(ConstMatrixMap<T> dy) {
    // y = x / (|x_k| + eps), k = argmax |x|:
    //   dL/dx_i = g_i / d - [i == k] sign(x_k) * sum_j(g_j x_j) / d^2
    const Index rows = dy.rows(), n = dy.cols();
    ACTJIT_ASSERT(rows == y_.rows() && n == y_.cols());
    if (!this->input_grad_) return ConstMatrixMap<T>(nullptr, 0, 0);
    ConstMatrixMap<T> x(x_, rows, n);
    auto dx = dx_.resize(rows, n);
    for (Index r = 0; r < rows; ++r) {
        const T d = denom_[static_cast<std::size_t>(r)];
        const Index k = argmax_[static_cast<std::size_t>(r)];
        const T gx = dy.row(r).dot(x.row(r));
        dx.row(r) = dy.row(r) / d;
        const T xk = x(r, k);
        const T sign = xk > 0 ? T(1) : (xk < 0 ? T(-1) : T(0));
        dx(r, k) -= sign * gx / (d * d);
    }
    return dx_.cmap();
}

template class LinearLayer<float>;
template class LinearLayer<double>;
template class StandardizeLayer<float>;
template class StandardizeLayer<double>;
template class MaxAbsNormLayer<float>;
template class MaxAbsNormLayer<double>;

}  // namespace actjit::nn
