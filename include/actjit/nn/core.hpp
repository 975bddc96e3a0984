// Networks: the basic types every layer shares (matrices, buffers,
// parameters, the Layer interface) and the seeded random numbers.
//
// Tensors are Eigen row-major matrices [batch x features], as in PyTorch.
// Thread safety: a layer or network holds its activations between forward()
// and backward(); use one instance per thread.
#pragma once

#include <actjit/error.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

namespace actjit::nn {

using Index = Eigen::Index;

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

/// Point `view` at `other`'s data (a Map's operator= would copy elements).
template <class T>
void rebind(ConstMatrixMap<T>& view, const ConstMatrixMap<T>& other) noexcept {
    new (&view) ConstMatrixMap<T>(other.data(), other.rows(), other.cols());
}

/// Grow-only storage for a [rows x cols] matrix: after the largest batch has
/// been seen, resizing never allocates (a smaller last batch reuses it).
template <class T>
class Buffer {
public:
    MatrixMap<T> resize(Index rows, Index cols) {
        const auto n = static_cast<std::size_t>(rows * cols);
        if (n > data_.size()) data_.resize(n);
        rows_ = rows;
        cols_ = cols;
        return map();
    }
    MatrixMap<T> map() noexcept { return MatrixMap<T>(data_.data(), rows_, cols_); }
    ConstMatrixMap<T> cmap() const noexcept { return ConstMatrixMap<T>(data_.data(), rows_, cols_); }
    Index rows() const noexcept { return rows_; }
    Index cols() const noexcept { return cols_; }

private:
    std::vector<T> data_;
    Index rows_ = 0, cols_ = 0;
};

/// A trainable tensor and its gradient (same shape). backward() adds into
/// `grad`; Network::zero_grad() clears it.
template <class T>
struct Param {
    std::string name;  // "linear0.weight", "act1.s"
    Matrix<T> value;
    Matrix<T> grad;
    void resize(Index rows, Index cols) {
        value.setZero(rows, cols);
        grad.setZero(rows, cols);
    }
};

/// The generator used everywhere (std::mt19937_64), with distributions written
/// here so that a seed gives the same numbers on every standard library.
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}
    std::uint64_t next() { return engine_(); }
    /// Uniform in [0, 1), 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    /// Standard normal (Box-Muller, both values used).
    double normal();
    double normal(double mean, double stddev) { return mean + stddev * normal(); }
    /// Uniform integer in [0, n), unbiased (n > 0).
    std::uint64_t below(std::uint64_t n);
    /// A uniformly random permutation of 0..n-1 (Fisher-Yates).
    std::vector<Index> permutation(Index n);
    template <class It>
    void shuffle(It first, It last) {
        for (auto i = last - first; i > 1; --i) std::swap(first[i - 1], first[static_cast<std::ptrdiff_t>(below(static_cast<std::uint64_t>(i)))]);
    }

private:
    std::mt19937_64 engine_;
    double spare_ = 0;
    bool has_spare_ = false;
};

/// A network layer over [batch x features] tensors.
///
/// forward() keeps what backward() needs (at most a view of its input, which
/// must stay alive and unchanged until backward) and returns a view of its
/// own output buffer, valid until the next forward(). backward() takes dL/dy,
/// ADDS the parameter gradients into each Param::grad and returns dL/dx.
template <class T>
class Layer {
public:
    Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;
    virtual ~Layer() = default;
    /// "Linear(1, 8)", "Activation(prepu, s per-feature trainable)"
    virtual std::string describe() const = 0;
    /// Input width, or -1 if the layer takes any width (element-wise layers).
    virtual Index in_features() const { return -1; }
    /// Output width for an input of width `in`.
    virtual Index out_features(Index in) const { return in; }
    virtual ConstMatrixMap<T> forward(ConstMatrixMap<T> x) = 0;
    virtual ConstMatrixMap<T> backward(ConstMatrixMap<T> dy) = 0;
    /// backward() fused with a plain SGD step (p -= lr * dL/dp, nothing
    /// accumulated in grad): one pass over large weights instead of three.
    /// Equal to backward + zeroed grads + Sgd::step up to rounding.
    virtual ConstMatrixMap<T> backward_sgd(ConstMatrixMap<T> dy, T lr) {
        for (Param<T>* p : params()) p->grad.setZero();
        ConstMatrixMap<T> dx = backward(dy);
        for (Param<T>* p : params()) p->value -= lr * p->grad;
        return dx;
    }
    /// Trainable parameters (empty for parameter-free layers).
    virtual std::vector<Param<T>*> params() { return {}; }
    /// Re-initialize parameters (Linear: PyTorch's default or N(0, 1); activations: their initial values).
    virtual void reset_parameters(Rng& /*rng*/) {}
    /// Skip computing dL/dx in backward (the first layer: nobody needs it).
    void set_input_grad(bool needed) noexcept { input_grad_ = needed; }
    bool input_grad() const noexcept { return input_grad_; }

protected:
    bool input_grad_ = true;
};

}  // namespace actjit::nn
