// The Activation layer: an actjit Kernel plus the storage of its runtime
// parameters, whose gradients the kernel reduces over the batch.
#include <actjit/nn/layers.hpp>

#ifndef ACTJIT_NN_NO_JIT
#include <actjit/jit.hpp>
#endif

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace actjit::nn {

Kernel compile_kernel(const KernelSpec& spec, Backend backend) {
    switch (backend) {
    case Backend::Interpreter:
        return compile_interpreted(spec);
    case Backend::Jit:
#ifdef ACTJIT_NN_NO_JIT
        throw ValueError("activation: the jit backend is not built into this actjit");
#else
        return compile_jit(spec);
#endif
    case Backend::Auto:
#ifndef ACTJIT_NN_NO_JIT
        try {
            return compile_jit(spec);
        } catch (const Error&) {
            // The JIT could not take this spec (or is not available): the interpreter can.
        }
#endif
        return compile_interpreted(spec);
    }
    ACTJIT_ASSERT(false, "bad backend");
}

namespace {

void bind_all(KernelSpec& spec, ParamMode mode) {
    for (ParamBinding& b : spec.params) {
        const ParamDecl* decl = spec.formula.find_param(b.name);
        switch (mode) {
        case ParamMode::Default:
            break;
        case ParamMode::PerFeature:
            b.kind = ParamKind::PerFeature;
            b.trainable = true;
            break;
        case ParamMode::Shared:
            b.kind = ParamKind::Shared;
            b.trainable = true;
            break;
        case ParamMode::Fixed:
            b.kind = ParamKind::Fixed;
            b.trainable = false;
            if (decl && decl->default_value) b.value = *decl->default_value;
            break;
        }
    }
}

}  // namespace

KernelSpec activation_spec(std::string_view activation, DType dtype, ParamMode mode) {
    if (const Activation* a = find_activation(activation)) {
        KernelSpec spec = KernelSpec::from_catalog(*a, dtype);
        bind_all(spec, mode);
        return spec;
    }
    const bool bare_name = !activation.empty() && activation != "x" &&
                           std::all_of(activation.begin(), activation.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }) &&
                           !std::isdigit(static_cast<unsigned char>(activation.front()));
    if (bare_name) {
        // A lone identifier would parse as "a free parameter": say what was probably meant.
        const std::string near = nearest_known_name(activation);
        throw ValueError(fmt::format("activation: unknown activation '{}'{}", activation,
                                     near.empty() ? std::string(" (expected a catalog name or a formula in x)") : fmt::format(" (did you mean '{}'?)", near)));
    }
    return activation_spec(parse_formula(activation), dtype, mode);
}

KernelSpec activation_spec(const Formula& formula, DType dtype, ParamMode mode) {
    KernelSpec spec;
    spec.formula = formula;
    spec.dtype = dtype;
    for (const ParamDecl& p : spec.formula.params) {
        if (!p.default_value)
            throw ValueError(fmt::format("activation: parameter '{}' has no initial value; give one in a signature, "
                                         "e.g. 'f(x; {}=1) = ...'",
                                         p.name, p.name));
        ParamBinding b;
        b.name = p.name;
        b.value = *p.default_value;
        b.kind = mode == ParamMode::Shared ? ParamKind::Shared
                 : mode == ParamMode::Fixed ? ParamKind::Fixed
                                            : ParamKind::PerFeature;
        b.trainable = b.kind != ParamKind::Fixed;
        spec.params.push_back(std::move(b));
    }
    spec.validate();
    return spec;
}

template <class T>
constexpr DType dtype_of() {
    return std::is_same_v<T, float> ? DType::f32 : DType::f64;
}

template <class T>
ActivationLayer<T>::ActivationLayer(Kernel kernel, Index features) : kernel_(std::move(kernel)), features_(features) {
    if (!kernel_) throw ValueError("activation: expected a compiled kernel, found an empty one");
    if (kernel_.spec().dtype != dtype_of<T>())
        throw ValueError(fmt::format("activation: expected a {} kernel for a {} network",
                                     dtype_of<T>() == DType::f32 ? "f32" : "f64", dtype_of<T>() == DType::f32 ? "f32" : "f64"));
    if (features <= 0 || features > (Index{1} << 24))
        throw ValueError(fmt::format("activation: expected 1..16777216 features, found {}", features));
    init_runtime();
}

template <class T>
ActivationLayer<T>::ActivationLayer(const KernelSpec& spec, Index features, Backend backend)
    : ActivationLayer(compile_kernel(spec, backend), features) {}

template <class T>
ActivationLayer<T>::ActivationLayer(std::string_view activation, Index features, ActivationOptions options)
    : ActivationLayer(activation_spec(activation, dtype_of<T>(), options.params), features, options.backend) {}

template <class T>
void ActivationLayer<T>::init_runtime() {
    const KernelSpec& spec = kernel_.spec();
    for (const ParamBinding* b : spec.runtime_params()) {
        const ParamDecl* decl = spec.formula.find_param(b->name);
        if (!decl || !decl->default_value)
            throw ValueError(fmt::format("activation: parameter '{}' has no initial value", b->name));
        Runtime r{b->name, b->trainable, b->kind == ParamKind::PerFeature ? features_ : Index{1}, *decl->default_value, {}};
        r.p.name = b->name;
        r.p.resize(1, r.size);
        r.p.value.setConstant(static_cast<T>(r.initial));
        runtime_.push_back(std::move(r));
    }
    for (Runtime& r : runtime_) {
        param_ptrs_.push_back(r.p.value.data());
        if (r.trainable) grad_tmp_.emplace_back(Matrix<T>::Zero(1, r.size));
    }
    for (auto& g : grad_tmp_) grad_ptrs_.push_back(g.data());
}

template <class T>
std::string ActivationLayer<T>::describe() const {
    const KernelSpec& spec = kernel_.spec();
    std::string name = spec.formula.name.empty() ? to_string(spec.formula.body) : spec.formula.name;
    std::string params;
    for (const ParamBinding& b : spec.params) {
        params += fmt::format(", {} {}", b.name,
                              b.kind == ParamKind::Fixed       ? fmt::format("= {}", b.value)
                              : b.kind == ParamKind::PerFeature ? std::string(b.trainable ? "per-feature trainable" : "per-feature")
                                                                : std::string(b.trainable ? "shared trainable" : "shared"));
    }
    return fmt::format("Activation({}{})", name, params);
}

template <class T>
ConstMatrixMap<T> ActivationLayer<T>::forward(ConstMatrixMap<T> x) {
    if (x.cols() != features_)
        throw ValueError(fmt::format("activation: expected an input with {} features, found {}", features_, x.cols()));
    x_ = x.data();
    rows_ = x.rows();
    auto y = y_.resize(rows_, features_);
    kernel_.forward(x.data(), y.data(), rows_, features_, std::span<const T* const>(param_ptrs_));
    return y_.cmap();
}

template <class T>
ConstMatrixMap<T> ActivationLayer<T>::backward(ConstMatrixMap<T> dy) {
    ACTJIT_ASSERT(x_ != nullptr, "activation: backward before forward");
    ACTJIT_ASSERT(dy.rows() == rows_ && dy.cols() == features_);
    auto dx = dx_.resize(rows_, features_);
    kernel_.backward(x_, dy.data(), dx.data(), rows_, features_, std::span<const T* const>(param_ptrs_),
                     std::span<T* const>(grad_ptrs_));
    std::size_t g = 0;
    for (Runtime& r : runtime_)
        if (r.trainable) r.p.grad += grad_tmp_[g++];
    return dx_.cmap();
}

template <class T>
std::vector<Param<T>*> ActivationLayer<T>::params() {
    std::vector<Param<T>*> out;
    for (Runtime& r : runtime_)
        if (r.trainable) out.push_back(&r.p);
    return out;
}

template <class T>
void ActivationLayer<T>::reset_parameters(Rng&) {
    for (Runtime& r : runtime_) {
        r.p.value.setConstant(static_cast<T>(r.initial));
        r.p.grad.setZero();
    }
}

template <class T>
std::vector<std::string> ActivationLayer<T>::param_names() const {
    std::vector<std::string> out;
    for (const Runtime& r : runtime_) out.push_back(r.name);
    return out;
}

template <class T>
std::vector<T> ActivationLayer<T>::param_values(std::string_view name) const {
    for (const Runtime& r : runtime_)
        if (r.name == name) return std::vector<T>(r.p.value.data(), r.p.value.data() + r.size);
    throw ValueError(fmt::format("activation: no runtime parameter named '{}'", name));
}

template <class T>
void ActivationLayer<T>::set_param_values(std::string_view name, const std::vector<T>& values) {
    for (Runtime& r : runtime_)
        if (r.name == name) {
            if (static_cast<Index>(values.size()) != r.size)
                throw ValueError(fmt::format("activation: expected {} values for '{}', found {}", r.size, name, values.size()));
            std::copy(values.begin(), values.end(), r.p.value.data());
            return;
        }
    throw ValueError(fmt::format("activation: no runtime parameter named '{}'", name));
}

template class ActivationLayer<float>;
template class ActivationLayer<double>;

}  // namespace actjit::nn
