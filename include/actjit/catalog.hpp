// The built-in catalog of activations (../shared/ACTIVATIONS.md): the seeds'
// units and PyTorch's standard set, with their parameters and defaults.
#pragma once

#include <actjit/formula.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace actjit {

struct CatalogParam {
    std::string name;
    double default_value;
    bool trainable;    // its gradient is wanted in training by default
    bool per_feature;  // one value per feature (column) by default, else shared
};

struct Activation {
    std::string name;
    std::string formula;  // body text, in the formula language
    std::vector<CatalogParam> params;
    std::string source;   // seed document or "pytorch"
    std::string summary;  // one line
};

/// Every catalog entry, in a stable order (seeds first, then the standard set).
std::span<const Activation> catalog();
const Activation* find_activation(std::string_view name);

/// The entry parsed: body with its parameters free, defaults recorded.
/// Cached; thread-safe.
const Formula& activation_formula(const Activation& a);

}  // namespace actjit
