// BasicNetwork and the spec language.
#include <actjit/nn/network.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace actjit::nn {

// ---- Spec parsing ---------------------------------------------------------------

namespace {

constexpr Index kMaxWidth = Index{1} << 24;
constexpr Index kMaxLayers = 100000;
constexpr double kMaxWeights = 1e10;

/// Split on whitespace; a value may be quoted ('...' or "...") to hold spaces.
std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i >= text.size()) break;
        std::string word;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
            const char c = text[i];
            if (c == '\'' || c == '"') {
                const std::size_t close = text.find(c, i + 1);
                if (close == std::string_view::npos)
                    throw ValueError(fmt::format("spec: unterminated quote at offset {}", i));
                word.append(text.substr(i + 1, close - i - 1));
                i = close + 1;
            } else {
                word += c;
                ++i;
            }
        }
        words.push_back(std::move(word));
    }
    return words;
}

bool parse_int(std::string_view s, Index& v) {
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

std::vector<Index> parse_shape(std::string_view shape) {
    std::vector<Index> widths;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dash = shape.find('-', start);
        const std::string_view part = shape.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
        const std::size_t star = part.find('*');
        Index width = 0, count = 1;
        const bool ok = star == std::string_view::npos ? parse_int(part, width)
                                                        : parse_int(part.substr(0, star), width) && parse_int(part.substr(star + 1), count);
        if (!ok || width <= 0 || width > kMaxWidth || count <= 0 || count > kMaxLayers)
            throw ValueError(fmt::format("spec: expected a layer width like '8' or '512*30' in the shape '{}', found '{}'", shape, part));
        for (Index k = 0; k < count; ++k) widths.push_back(width);
        if (static_cast<Index>(widths.size()) > kMaxLayers)
            throw ValueError(fmt::format("spec: at most {} layers, found more in '{}'", kMaxLayers, shape));
        if (dash == std::string_view::npos) break;
        start = dash + 1;
    }
    if (widths.size() < 2)
        throw ValueError(fmt::format("spec: expected at least an input and an output width like '1-8-1', found '{}'", shape));
    double weights = 0;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) weights += static_cast<double>(widths[i]) * static_cast<double>(widths[i + 1]);
    if (weights > kMaxWeights) throw ValueError(fmt::format("spec: the shape '{}' has {:.3g} weights, more than 1e10", shape, weights));
    return widths;
}

template <class E>
E parse_choice(std::string_view key, std::string_view value, std::initializer_list<std::pair<std::string_view, E>> choices) {
    std::string names;
    for (const auto& [name, e] : choices) {
        if (name == value) return e;
        names += names.empty() ? "" : ", ";
        names += name;
    }
    throw ValueError(fmt::format("spec: expected {} to be one of {}, found '{}'", key, names, value));
}

}  // namespace

NetworkSpec NetworkSpec::parse(std::string_view text) {
    const std::vector<std::string> words = split_words(text);
    if (words.empty()) throw ValueError("spec: expected a shape like '1-8-8-1', found nothing");
    if (words[0].find('=') != std::string::npos)
        throw ValueError(fmt::format("spec: expected a shape like '1-8-8-1' first, found '{}'", words[0]));
    NetworkSpec spec;
    spec.widths = parse_shape(words[0]);
    std::vector<std::string> seen;
    for (std::size_t i = 1; i < words.size(); ++i) {
        const std::string& w = words[i];
        const std::size_t eq = w.find('=');
        if (eq == std::string::npos || eq == 0)
            throw ValueError(fmt::format("spec: expected an option key=value, found '{}'", w));
        const std::string key = w.substr(0, eq), value = w.substr(eq + 1);
        for (const auto& s : seen)
            if (s == key) throw ValueError(fmt::format("spec: option '{}' given twice", key));
        seen.push_back(key);
        if (key == "act") {
            if (value.empty()) throw ValueError("spec: expected an activation name or formula after 'act=', found nothing");
            spec.activation = value;
        } else if (key == "params") {
            spec.params = parse_choice<ParamMode>(key, value, {{"default", ParamMode::Default}, {"per_feature", ParamMode::PerFeature},
                                                               {"shared", ParamMode::Shared}, {"fixed", ParamMode::Fixed}});
        } else if (key == "norm") {
            spec.norm = parse_choice<NormKind>(key, value, {{"none", NormKind::None}, {"standardize", NormKind::Standardize}, {"maxabs", NormKind::MaxAbs}});
        } else if (key == "norm_at") {
            spec.norm_at = parse_choice<NormAt>(key, value, {{"both", NormAt::Both}, {"pre", NormAt::Pre}, {"post", NormAt::Post}});
        } else if (key == "norm_eps") {
            double v = 0;
            const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || !(v >= 0) || !std::isfinite(v))
                throw ValueError(fmt::format("spec: expected norm_eps to be a finite number >= 0, found '{}'", value));
            spec.norm_eps = v;
        } else if (key == "init") {
            spec.init = parse_choice<Init>(key, value, {{"torch", Init::Torch}, {"normal", Init::Normal}});
        } else if (key == "backend") {
            spec.backend = parse_choice<Backend>(key, value, {{"auto", Backend::Auto}, {"jit", Backend::Jit}, {"interp", Backend::Interpreter}});
        } else if (key == "seed") {
            const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), spec.seed);
            if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
                throw ValueError(fmt::format("spec: expected seed to be a non-negative integer, found '{}'", value));
        } else {
            throw ValueError(fmt::format("spec: unknown option '{}' (expected act, params, norm, norm_at, norm_eps, init, backend or seed)", key));
        }
    }
    return spec;
}

// ---- BasicNetwork ---------------------------------------------------------------

template <class T>
BasicNetwork<T> BasicNetwork<T>::from_spec(std::string_view spec) {
    return from_spec(NetworkSpec::parse(spec));
}

template <class T>
BasicNetwork<T> BasicNetwork<T>::from_spec(const NetworkSpec& spec) {
    if (spec.widths.size() < 2) throw ValueError("network: expected at least an input and an output width");
    constexpr DType dtype = std::is_same_v<T, float> ? DType::f32 : DType::f64;
    BasicNetwork net;
    const std::size_t n = spec.widths.size() - 1;
    Kernel kernel;
    if (n > 1) kernel = compile_kernel(activation_spec(spec.activation, dtype, spec.params), spec.backend);
    auto add_norm = [&] {
        if (spec.norm == NormKind::Standardize)
            net.template emplace<StandardizeLayer<T>>(spec.norm_eps < 0 ? 0.0 : spec.norm_eps);
        else if (spec.norm == NormKind::MaxAbs)
            net.template emplace<MaxAbsNormLayer<T>>(spec.norm_eps < 0 ? 1e-6 : spec.norm_eps);
    };
    Rng rng(spec.seed);  // the same stream as reset_parameters(spec.seed)
    for (std::size_t i = 0; i < n; ++i) {
        net.template emplace<LinearLayer<T>>(spec.widths[i], spec.widths[i + 1], spec.init, &rng);
        if (i + 1 == n) break;
        if (spec.norm_at != NormAt::Post) add_norm();
        net.template emplace<ActivationLayer<T>>(kernel, spec.widths[i + 1]);
        if (spec.norm_at != NormAt::Pre) add_norm();
    }
    return net;
}

template <class T>
BasicNetwork<T>& BasicNetwork<T>::add(std::unique_ptr<Layer<T>> layer) {
    if (!layer) throw ValueError("network: expected a layer, found null");
    const Index in = layer->in_features();
    if (layers_.empty()) {
        if (in < 0) throw ValueError(fmt::format("network: the first layer must fix the input width; {} takes any width", layer->describe()));
        in_ = in;
        layer->set_input_grad(false);
    } else if (in >= 0 && in != out_) {
        throw ValueError(fmt::format("network: {} expects {} input features, but the previous layer gives {}", layer->describe(), in, out_));
    }
    out_ = layer->out_features(out_ < 0 ? in : out_);
    layers_.push_back(std::move(layer));
    return *this;
}

template <class T>
ConstMatrixMap<T> BasicNetwork<T>::forward(ConstMatrixMap<T> x) {
    if (layers_.empty()) throw ValueError("network: no layers");
    if (x.cols() != in_) throw ValueError(fmt::format("network: expected inputs with {} features, found {}", in_, x.cols()));
    for (auto& l : layers_) rebind(x, l->forward(x));
    return x;
}

template <class T>
void BasicNetwork<T>::backward(ConstMatrixMap<T> dy) {
    if (dy.cols() != out_) throw ValueError(fmt::format("network: expected output gradients with {} features, found {}", out_, dy.cols()));
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
        rebind(dy, (*it)->backward(dy));
    }
}

template <class T>
void BasicNetwork<T>::backward_sgd(ConstMatrixMap<T> dy, T lr) {
    if (dy.cols() != out_) throw ValueError(fmt::format("network: expected output gradients with {} features, found {}", out_, dy.cols()));
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) rebind(dy, (*it)->backward_sgd(dy, lr));
}

template <class T>
Matrix<T> BasicNetwork<T>::predict(const Matrix<T>& x) {
    return Matrix<T>(forward(x));
}

template <class T>
std::vector<Param<T>*> BasicNetwork<T>::params() {
    std::vector<Param<T>*> out;
    for (auto& l : layers_)
        for (Param<T>* p : l->params()) out.push_back(p);
    return out;
}

template <class T>
void BasicNetwork<T>::zero_grad() {
    for (Param<T>* p : params()) p->grad.setZero();
}

template <class T>
void BasicNetwork<T>::reset_parameters(std::uint64_t seed) {
    Rng rng(seed);
    for (auto& l : layers_) l->reset_parameters(rng);
}

template <class T>
Index BasicNetwork<T>::num_params() {
    Index n = 0;
    for (Param<T>* p : params()) n += p->value.size();
    return n;
}

template <class T>
std::string BasicNetwork<T>::summary() {
    std::string out;
    Index width = in_, total = 0;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        Layer<T>& l = *layers_[i];
        width = l.out_features(width);
        Index count = 0;
        for (Param<T>* p : l.params()) count += p->value.size();
        total += count;
        out += fmt::format("{:>3}  {:<56} -> {:>6}  {:>9} params\n", i, l.describe(), width, count);
    }
    out += fmt::format("total trainable parameters: {}\n", total);
    return out;
}

template class BasicNetwork<float>;
template class BasicNetwork<double>;

}  // namespace actjit::nn
