// The layers: Linear (Eigen products), Activation (an actjit kernel, its
// trainable parameters learned), per-sample standardization and max-abs
// normalization.
#pragma once

#include <actjit/kernel.hpp>
#include <actjit/nn/core.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace actjit::nn {

/// How Linear initializes its weights and biases.
enum class Init : std::uint8_t {
    Torch,   // PyTorch's nn.Linear default: W, b ~ U(-1/sqrt(in), 1/sqrt(in))
    Normal,  // W, b ~ N(0, 1) (torch.randn, as in the ExpoLU post)
};

/// y = x W^T + b, W: [out x in], b: [out] (PyTorch's nn.Linear).
template <class T>
class LinearLayer final : public Layer<T> {
public:
    /// Initialized from `rng` if given, else from a generator seeded with 0.
    LinearLayer(Index in, Index out, Init init = Init::Torch, Rng* rng = nullptr);
    std::string describe() const override;
    Index in_features() const override { return in_; }
    Index out_features(Index) const override { return out_; }
    ConstMatrixMap<T> forward(ConstMatrixMap<T> x) override;
    ConstMatrixMap<T> backward(ConstMatrixMap<T> dy) override;
    ConstMatrixMap<T> backward_sgd(ConstMatrixMap<T> dy, T lr) override;
    std::vector<Param<T>*> params() override { return {&weight_, &bias_}; }
    void reset_parameters(Rng& rng) override;

    Param<T>& weight() noexcept { return weight_; }
    Param<T>& bias() noexcept { return bias_; }

private:
    ConstMatrixMap<T> backward_dx(ConstMatrixMap<T> dy);
    Index in_, out_;
    Init init_;
    Param<T> weight_, bias_;  // [out x in], [1 x out]
    const T* x_ = nullptr;    // the input of the last forward
    Index rows_ = 0;
    Buffer<T> y_, dx_;
};

/// Which kernel backend an Activation layer uses.
enum class Backend : std::uint8_t {
    Auto,         // the JIT, or the interpreter where the JIT is not available
    Jit,          // the LLVM JIT (an error if it fails)
    Interpreter,  // the reference interpreter (slow, always available)
};

/// Compile `spec` with `backend` (Auto: JIT, falling back to the interpreter
/// on any actjit::Error from the JIT).
Kernel compile_kernel(const KernelSpec& spec, Backend backend);

/// How the parameters of a formula activation are bound (catalog entries
/// keep the catalog's binding unless overridden).
enum class ParamMode : std::uint8_t {
    Default,     // catalog: as the catalog says; formula: trainable per-feature
    PerFeature,  // every parameter trainable, one value per feature
    Shared,      // every parameter trainable, one value for the layer
    Fixed,       // every parameter folded in at its default
};

struct ActivationOptions {
    Backend backend = Backend::Auto;
    ParamMode params = ParamMode::Default;
};

/// The KernelSpec for an activation given by catalog name or formula text
/// ("prepu", "x * sigmoid(x)", "f(x; a=1) = ..."). Parameters without a
/// default value are a ValueError (there is nothing to start training from).
KernelSpec activation_spec(std::string_view activation, DType dtype, ParamMode mode = ParamMode::Default);
/// The same for a parsed formula (e.g. a DSL expression's
/// `actjit::dsl::to_formula(prepu, "prepu", {{"s", 0}})`): Default binds every
/// parameter trainable per feature, starting at its default value.
KernelSpec activation_spec(const Formula& formula, DType dtype, ParamMode mode = ParamMode::Default);

/// y = f(x) element-wise, through an actjit Kernel. Runtime parameters (per
/// feature: one value per column; shared: one value) are stored here, start
/// at their default values, and the trainable ones are Params whose gradients
/// the kernel reduces over the batch. Keeps only a view of x for backward.
template <class T>
class ActivationLayer final : public Layer<T> {
public:
    /// `features`: the width this layer will see (per-feature parameter length).
    ActivationLayer(const KernelSpec& spec, Index features, Backend backend = Backend::Auto);
    ActivationLayer(Kernel kernel, Index features);
    /// By catalog name or formula text.
    ActivationLayer(std::string_view activation, Index features, ActivationOptions options = {});

    std::string describe() const override;
    Index in_features() const override { return features_; }
    ConstMatrixMap<T> forward(ConstMatrixMap<T> x) override;
    ConstMatrixMap<T> backward(ConstMatrixMap<T> dy) override;
    std::vector<Param<T>*> params() override;
    void reset_parameters(Rng& rng) override;

    const Kernel& kernel() const noexcept { return kernel_; }
    /// Current values of the runtime parameter `name` (features values, or 1 if shared).
    std::vector<T> param_values(std::string_view name) const;
    void set_param_values(std::string_view name, const std::vector<T>& values);
    /// Names of the runtime parameters, in kernel order.
    std::vector<std::string> param_names() const;

private:
    struct Runtime {
        std::string name;
        bool trainable;
        Index size;     // features or 1
        double initial;
        Param<T> p;     // value [1 x size]; grad used only when trainable
    };
    void init_runtime();
    Kernel kernel_;
    Index features_;
    std::vector<Runtime> runtime_;
    std::vector<const T*> param_ptrs_;
    std::vector<T*> grad_ptrs_;
    std::vector<Matrix<T>> grad_tmp_;
    const T* x_ = nullptr;
    Index rows_ = 0;
    Buffer<T> y_, dx_;
};

/// Per-sample standardization (the ExpoLU post's `norma`): each row becomes
/// (h - mean) / (std + eps), std unbiased as torch.std. eps = 0 reproduces
/// the post exactly (a constant row then gives NaN, as it does in PyTorch).
template <class T>
class StandardizeLayer final : public Layer<T> {
public:
    explicit StandardizeLayer(double eps = 0) : eps_(eps) {}
    std::string describe() const override;
    ConstMatrixMap<T> forward(ConstMatrixMap<T> x) override;
    ConstMatrixMap<T> backward(ConstMatrixMap<T> dy) override;

private:
    double eps_;
    Buffer<T> y_, dx_;
    std::vector<T> inv_std_;  // per row, 1 / (std + eps)
    std::vector<T> std_;      // per row
};

/// Per-sample max-abs normalization (high-order-layers): x / (max|x| + eps).
/// The gradient through the max goes to the first index attaining it, as
/// torch.max(dim) does.
template <class T>
class MaxAbsNormLayer final : public Layer<T> {
public:
    explicit MaxAbsNormLayer(double eps = 1e-6) : eps_(eps) {}
    std::string describe() const override;
    ConstMatrixMap<T> forward(ConstMatrixMap<T> x) override;
    ConstMatrixMap<T> backward(ConstMatrixMap<T> dy) override;

private:
    double eps_;
    const T* x_ = nullptr;
    Buffer<T> y_, dx_;
    std::vector<Index> argmax_;
    std::vector<T> denom_;
};

extern template class LinearLayer<float>;
extern template class LinearLayer<double>;
extern template class ActivationLayer<float>;
extern template class ActivationLayer<double>;
extern template class StandardizeLayer<float>;
extern template class StandardizeLayer<double>;
extern template class MaxAbsNormLayer<float>;
extern template class MaxAbsNormLayer<double>;

}  // namespace actjit::nn
