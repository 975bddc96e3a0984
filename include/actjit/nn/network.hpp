// A network: a chain of layers, built in code or from a short spec string.
//
//   auto net = actjit::nn::Network::from_spec("1-8-8-8-8-1 act=prepu");
//
// Spec grammar (whitespace separated; the first word is the shape):
//   shape   ::= width { '-' width }      width ::= N | N '*' K  (K hidden layers of width N)
//   option  ::= key '=' value           value may be quoted with ' or " to hold spaces
//   act=NAME|FORMULA     activation after every hidden Linear (default relu)
//   params=default|per_feature|shared|fixed   binding of the activation's parameters
//   norm=none|standardize|maxabs    per-sample normalization around each activation
//   norm_at=both|pre|post           where (default both: Linear, norm, act, norm)
//   norm_eps=E                      eps of the normalization (default: 0 standardize, 1e-6 maxabs)
//   init=torch|normal               Linear initialization (default torch)
//   backend=auto|jit|interp         activation kernels (default auto)
//   seed=S                          initialization seed (default 0)
#pragma once

#include <actjit/nn/layers.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace actjit::nn {

enum class NormKind : std::uint8_t { None, Standardize, MaxAbs };
enum class NormAt : std::uint8_t { Both, Pre, Post };

/// The parsed form of a spec string.
struct NetworkSpec {
    std::vector<Index> widths;  // input, hidden..., output
    std::string activation = "relu";
    ParamMode params = ParamMode::Default;
    NormKind norm = NormKind::None;
    NormAt norm_at = NormAt::Both;
    double norm_eps = -1;  // < 0: the layer's default
    Init init = Init::Torch;
    Backend backend = Backend::Auto;
    std::uint64_t seed = 0;

    /// Throws ValueError with a message naming the bad word.
    static NetworkSpec parse(std::string_view text);
};

template <class T>
class BasicNetwork {
public:
    BasicNetwork() = default;
    BasicNetwork(BasicNetwork&&) noexcept = default;
    BasicNetwork& operator=(BasicNetwork&&) noexcept = default;

    static BasicNetwork from_spec(std::string_view spec);
    static BasicNetwork from_spec(const NetworkSpec& spec);

    /// Append a layer; throws ValueError if its input width does not match.
    BasicNetwork& add(std::unique_ptr<Layer<T>> layer);
    template <class L, class... Args>
    L& emplace(Args&&... args) {
        auto p = std::make_unique<L>(std::forward<Args>(args)...);
        L& ref = *p;
        add(std::move(p));
        return ref;
    }

    /// Forward pass; keeps what backward needs. `x` must stay alive until backward().
    ConstMatrixMap<T> forward(ConstMatrixMap<T> x);
    ConstMatrixMap<T> forward(const Matrix<T>& x) { return forward(ConstMatrixMap<T>(x.data(), x.rows(), x.cols())); }
    /// Backward pass from dL/d(output): adds into every parameter's grad.
    void backward(ConstMatrixMap<T> dy);
    /// Backward fused with a plain SGD step on every parameter (see Layer::backward_sgd).
    void backward_sgd(ConstMatrixMap<T> dy, T lr);
    /// A copy of the outputs for `x`.
    Matrix<T> predict(const Matrix<T>& x);

    std::vector<Param<T>*> params();
    void zero_grad();
    /// Re-initialize every layer's parameters from `seed`.
    void reset_parameters(std::uint64_t seed);
    Index num_params();

    Index in_features() const noexcept { return in_; }
    Index out_features() const noexcept { return out_; }
    std::size_t size() const noexcept { return layers_.size(); }
    Layer<T>& layer(std::size_t i) { return *layers_.at(i); }
    /// One line per layer, with parameter counts.
    std::string summary();

private:
    std::vector<std::unique_ptr<Layer<T>>> layers_;
    Index in_ = -1, out_ = -1;
};

using Network = BasicNetwork<float>;
using NetworkF64 = BasicNetwork<double>;

extern template class BasicNetwork<float>;
extern template class BasicNetwork<double>;

}  // namespace actjit::nn
