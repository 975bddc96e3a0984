// Finite-difference gradient checks shared by the nn tests.
#pragma once

#include <actjit/nn.hpp>

#include <catch2/catch.hpp>

#include <cmath>

namespace nntest {

using namespace actjit::nn;
using Mat = Matrix<double>;

inline ConstMatrixMap<double> view(const Mat& m) { return ConstMatrixMap<double>(m.data(), m.rows(), m.cols()); }

inline Mat random_matrix(Index rows, Index cols, Rng& rng, double lo = -2, double hi = 2) {
    Mat m(rows, cols);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(lo, hi);
    return m;
}

/// |a - b| <= tol * max(1, |a|, |b|)
inline bool close(double a, double b, double tol) {
    return std::abs(a - b) <= tol * std::max({1.0, std::abs(a), std::abs(b)});
}

/// Checks dL/dx and dL/dparams of `layer` for L = sum(g * layer(x)) against central differences.
inline void check_layer(Layer<double>& layer, const Mat& x0, Rng& rng, double h = 1e-6, double tol = 1e-6) {
    const Mat probe = layer.forward(view(x0));
    const Mat g = random_matrix(probe.rows(), probe.cols(), rng);
    auto loss = [&](const Mat& x) { return (Mat(layer.forward(view(x))).array() * g.array()).sum(); };
    for (Param<double>* p : layer.params()) p->grad.setZero();
    layer.forward(view(x0));
    const Mat dx = layer.backward(view(g));
    Mat x = x0;
    for (Index i = 0; i < x.size(); ++i) {
        const double v = x.data()[i];
        x.data()[i] = v + h;
        const double up = loss(x);
        x.data()[i] = v - h;
        const double down = loss(x);
        x.data()[i] = v;
        const double fd = (up - down) / (2 * h);
        INFO(layer.describe() << " dx[" << i << "]: analytic " << dx.data()[i] << ", finite difference " << fd);
        CHECK(close(dx.data()[i], fd, tol));
    }
    for (Param<double>* p : layer.params()) {
        for (Index i = 0; i < p->value.size(); ++i) {
            const double v = p->value.data()[i];
            p->value.data()[i] = v + h;
            const double up = loss(x0);
            p->value.data()[i] = v - h;
            const double down = loss(x0);
            p->value.data()[i] = v;
            const double fd = (up - down) / (2 * h);
            INFO(layer.describe() << " d" << p->name << "[" << i << "]: analytic " << p->grad.data()[i] << ", finite difference " << fd);
            CHECK(close(p->grad.data()[i], fd, tol));
        }
    }
}

}  // namespace nntest
