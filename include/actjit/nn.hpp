// actjit networks: small MLPs trained with any activation (catalog name,
// formula, trainable parameters included), on Eigen.
//
//   #include <actjit/nn.hpp>
//   using namespace actjit::nn;
//   Network net = Network::from_spec("1-8-8-8-8-1 act=prepu");
//   Adam<float> opt(net.params());
//   History h = fit(net, opt, train, &val, {.epochs = 100, .batch_size = 36, .clip_norm = 100});
//
// See docs/NETWORKS.md.
#pragma once

#include <actjit/nn/core.hpp>
#include <actjit/nn/data.hpp>
#include <actjit/nn/layers.hpp>
#include <actjit/nn/network.hpp>
#include <actjit/nn/optim.hpp>
#include <actjit/nn/seeds.hpp>
#include <actjit/nn/sequential.hpp>
#include <actjit/nn/train.hpp>
