#pragma once
// Helpers shared by the activation tests: the reference table and the elementwise list.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "activations/activations.h"

namespace tg::test_act {

struct RefRow {
  std::string name;
  double param, x, y, dy, dparam;
};

// tests/data/activation_ref.csv, written by scripts/gen_activation_table.py (mpmath).
inline std::vector<RefRow> read_activation_table() {
  const std::string path = std::string(TG_TEST_DATA_DIR) + "/activation_ref.csv";
  std::ifstream in(path);
  if (!in.good()) throw Error("cannot open " + path);
  std::vector<RefRow> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<std::string> c;
    while (std::getline(ss, cell, ',')) c.push_back(cell);
    if (c.size() != 6) continue;
    auto num = [](const std::string& s) { return std::strtod(s.c_str(), nullptr); };
    rows.push_back({c[0], num(c[1]), num(c[2]), num(c[3]), num(c[4]), num(c[5])});
  }
  return rows;
}

struct Elementwise {
  std::string name;  // as in the reference table (where it has rows)
  std::function<Variable(const Variable&)> f;
  bool saves_output;
  std::vector<double> kinks;  // where the derivative jumps (gradcheck stays away)
};

inline std::vector<Elementwise> elementwise_activations() {
  return {
      {"relu", [](const Variable& x) { return relu(x); }, true, {0}},
      {"leaky_relu", [](const Variable& x) { return leaky_relu(x, 0.01); }, true, {0}},
      {"leaky_relu_neg", [](const Variable& x) { return leaky_relu(x, -0.2); }, false, {0}},
      {"elu", [](const Variable& x) { return elu(x, 1.0); }, true, {0}},
      {"elu_neg", [](const Variable& x) { return elu(x, -0.5); }, false, {0}},
      {"selu", [](const Variable& x) { return selu(x); }, true, {0}},
      {"celu", [](const Variable& x) { return celu(x, 2.0); }, true, {0}},
      {"celu_neg", [](const Variable& x) { return celu(x, -20.0); }, false, {0}},  // e^(−x/20): bounded on the test points
      {"gelu", [](const Variable& x) { return gelu(x); }, false, {}},
      {"gelu_tanh", [](const Variable& x) { return gelu(x, "tanh"); }, false, {}},
      {"silu", [](const Variable& x) { return silu(x); }, false, {}},
      {"mish", [](const Variable& x) { return mish(x); }, false, {}},
      {"softplus", [](const Variable& x) { return softplus(x); }, false, {20}},
      {"softplus_beta2", [](const Variable& x) { return softplus(x, 2.0); }, false, {10}},
      {"sigmoid", [](const Variable& x) { return sigmoid(x); }, true, {}},
      {"tanh", [](const Variable& x) { return tanh(x); }, true, {}},
      {"hardsigmoid", [](const Variable& x) { return hardsigmoid(x); }, true, {-3, 3}},
      {"hardswish", [](const Variable& x) { return hardswish(x); }, false, {-3, 3}},
      {"hardgelu", [](const Variable& x) { return hardgelu(x); }, false, {-1.5, 1.5}},
      {"hardgelu_clamped", [](const Variable& x) { return hardgelu_clamped(x); }, false, {-1.5, 1.5, 3}},
      {"stochastic_gelu_eval", [](const Variable& x) { return stochastic_gelu(x, false); }, false, {}},
  };
}

}  // namespace tg::test_act
