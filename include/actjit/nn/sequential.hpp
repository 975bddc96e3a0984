// Networks composed at compile time, with layer sizes checked by the compiler:
//
//   using Net = actjit::nn::Sequential<Linear<1, 8>, Act<"prepu">, Linear<8, 8>, Act<"prepu">, Linear<8, 1>>;
//   Net net;              // a Network (float); SequentialOf<double, ...> for double
//   static_assert(Net::input_size == 1 && Net::output_size == 1);
//
// Linear<4, 8> followed by Linear<16, 1> fails to compile with a message
// saying the sizes do not match.
#pragma once

#include <actjit/nn/network.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace actjit::nn {

/// A string usable as a template argument: Act<"prepu">, Act<"x * sigmoid(x)">.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
    constexpr std::string_view view() const { return std::string_view(chars, N - 1); }
};

namespace layers {

/// nn.Linear(In, Out), PyTorch's initialization.
template <int In, int Out, Init I = Init::Torch>
struct Linear {
    static_assert(In > 0 && Out > 0, "Linear<In, Out>: both sizes must be positive");
    static constexpr int in = In, out = Out;
};
/// An activation by catalog name or formula text, parameters bound as ParamMode says.
template <fixed_string F, ParamMode M = ParamMode::Default>
struct Act {
    static constexpr int in = -1, out = -1;
};
/// The ExpoLU post's per-sample standardization.
struct Standardize {
    static constexpr int in = -1, out = -1;
};
/// x / (max|x| + 1e-6), per sample.
struct MaxAbs {
    static constexpr int in = -1, out = -1;
};

}  // namespace layers

using layers::Act;
using layers::Linear;
using layers::MaxAbs;
using layers::Standardize;

namespace detail {

/// Instantiated only when sizes disagree: the compiler prints the two sizes.
template <int PreviousOut, int NextIn>
struct layer_sizes_match {
    static_assert(PreviousOut == NextIn,
                  "Sequential: a Linear<In, Out> must take as input (In) the output size (Out) of the previous Linear");
    static constexpr bool value = PreviousOut == NextIn;
};

template <int Width, class... L>
struct check_chain;
template <int Width>
struct check_chain<Width> {
    static constexpr bool ok = true;
    static constexpr int out = Width;
};
template <int Width, class L, class... Rest>
struct check_chain<Width, L, Rest...> {
    using next = check_chain<(L::in < 0 ? Width : L::out), Rest...>;
    static constexpr bool ok =
        std::conditional_t<(L::in < 0 || Width < 0), std::true_type, layer_sizes_match<Width, L::in>>::value && next::ok;
    static constexpr int out = next::out;
};

template <class T, class L>
struct add_layer;
template <class T, int In, int Out, Init I>
struct add_layer<T, layers::Linear<In, Out, I>> {
    static void add(BasicNetwork<T>& net, Index, Backend, Rng& rng) { net.template emplace<LinearLayer<T>>(In, Out, I, &rng); }
};
template <class T, fixed_string F, ParamMode M>
struct add_layer<T, layers::Act<F, M>> {
    static void add(BasicNetwork<T>& net, Index width, Backend backend, Rng&) {
        net.template emplace<ActivationLayer<T>>(F.view(), width, ActivationOptions{backend, M});
    }
};
template <class T>
struct add_layer<T, layers::Standardize> {
    static void add(BasicNetwork<T>& net, Index, Backend, Rng&) { net.template emplace<StandardizeLayer<T>>(); }
};
template <class T>
struct add_layer<T, layers::MaxAbs> {
    static void add(BasicNetwork<T>& net, Index, Backend, Rng&) { net.template emplace<MaxAbsNormLayer<T>>(); }
};

}  // namespace detail

template <class T, class First, class... Rest>
class SequentialOf : public BasicNetwork<T> {
    static_assert(First::in > 0, "Sequential: the first layer must be a Linear<In, Out> (it fixes the input size)");
    static_assert(detail::check_chain<First::out, Rest...>::ok, "Sequential: layer sizes do not match (see the note above)");

public:
    static constexpr int input_size = First::in;
    static constexpr int output_size = detail::check_chain<First::out, Rest...>::out;

    explicit SequentialOf(std::uint64_t seed = 0, Backend backend = Backend::Auto) {
        Rng rng(seed);  // the same stream as reset_parameters(seed)
        detail::add_layer<T, First>::add(*this, First::in, backend, rng);
        (detail::add_layer<T, Rest>::add(*this, this->out_features(), backend, rng), ...);
    }
};

template <class... L>
using Sequential = SequentialOf<float, L...>;

}  // namespace actjit::nn
