#include "activations/registry.h"

#include <fmt/core.h>

#include "activations/activations.h"

namespace tg {

namespace {

template <class M, class... Args>
auto plain(Args... args) {
  return [=](bool, int64_t) -> std::shared_ptr<Module> { return std::make_shared<M>(args...); };
}

// A vector activation with one bias per vector group (per channel after a conv).
template <class Make>
auto grouped_biased(Make make) {
  return [make](bool spatial, int64_t channels) -> std::shared_ptr<Module> {
    return spatial ? make(VectorGrouping::blocks(4), channels) : make(VectorGrouping::last_dim(), 1);
  };
}

template <class M>
auto grouped() {
  return [](bool spatial, int64_t) -> std::shared_ptr<Module> {
    return std::make_shared<M>(spatial ? VectorGrouping::blocks(4) : VectorGrouping::last_dim());
  };
}

}  // namespace

const std::vector<ActivationInfo>& activation_registry() {
  static const std::vector<ActivationInfo> table = {
      {"relu", "max(x, 0)", false, false, plain<ReLU>()},
      {"leaky_relu", "x for x > 0, 0.01·x otherwise", false, false, plain<LeakyReLU>()},
      {"prelu", "x for x > 0, a·x otherwise; a learnable per channel (init 0.25)", false, false,
       [](bool spatial, int64_t channels) -> std::shared_ptr<Module> {
         return std::make_shared<PReLU>(spatial ? channels : 1);
       }},
      {"elu", "x for x > 0, eˣ − 1 otherwise", false, false, plain<ELU>()},
      {"selu", "λ·ELU_α(x), the self-normalizing constants", false, false, plain<SELU>()},
      {"celu", "max(0, x) + min(0, α(e^(x/α) − 1))", false, false, plain<CELU>()},
      {"gelu", "x·Φ(x)", false, false, plain<GELU>()},
      {"gelu_tanh", "GELU's tanh approximation", false, false, plain<GELU>(std::string("tanh"))},
      {"silu", "x·σ(x) (Swish)", false, false, plain<SiLU>()},
      {"mish", "x·tanh(softplus(x))", false, false, plain<Mish>()},
      {"softplus", "log(1 + eˣ)", false, false, plain<Softplus>()},
      {"tanh", "tanh(x)", false, false, plain<Tanh>()},
      {"sigmoid", "1/(1 + e⁻ˣ)", false, false, plain<Sigmoid>()},
      {"hardsigmoid", "clamp(x/6 + 1/2, 0, 1)", false, false, plain<Hardsigmoid>()},
      {"hardswish", "x·clamp(x + 3, 0, 6)/6", false, false, plain<Hardswish>()},
      {"hardgelu", "x·clamp(x + 1.5, 0, 3)/3", false, false, plain<HardGELU>()},
      {"stochastic_gelu", "x·m, m ~ Bernoulli(Φ(x)) in training; x·Φ(x) in eval", false, true,
       plain<StochasticGELU>()},
      {"vecgelu", "v·P(d/2, ‖v‖²/2) per vector", true, false, grouped<VecGELU>()},
      {"probabilistic_vecgelu", "m·v, m ~ Bernoulli(P(d/2, ‖v‖²/2)) per vector in training", true, true,
       grouped<ProbabilisticVecGELU>()},
      {"vecerf", "v·erf(‖v‖/(√2σ)) per vector, σ learnable (init 1)", true, false, grouped<VecErf>()},
      {"squash", "r/(1 + r²)·v per vector (capsule networks' squash)", true, false,
       grouped_biased([](VectorGrouping g, int64_t) { return make_squash(g); })},
      {"escnn_squash", "v/(1 + r) per vector (escnn's squash)", true, false,
       grouped_biased([](VectorGrouping g, int64_t) { return make_escnn_squash(g); })},
      {"n_relu", "relu(r + b)/r·v per vector, b learnable per channel (init −1)", true, false,
       grouped_biased(make_n_relu)},
      {"n_sigmoid", "σ(r + b)/r·v per vector, b learnable per channel (init −1); y(0) = 0", true, false,
       grouped_biased(make_n_sigmoid)},
      {"n_softplus", "softplus(r + b)/r·v per vector, b learnable per channel (init −1); y(0) = 0", true, false,
       grouped_biased(make_n_softplus)},
      {"fullsort", "each channel vector (after a conv) or feature vector sorted, largest first", true, false,
       [](bool spatial, int64_t) -> std::shared_ptr<Module> {
         return std::make_shared<GroupSort>(spatial ? VectorGrouping::channels() : VectorGrouping::last_dim());
       }},
      {"vector_dropout", "v·m/(1 − p) per vector, m ~ Bernoulli(1 − p), p = 0.5, in training; linear", true, true,
       [](bool spatial, int64_t) -> std::shared_ptr<Module> {
         return std::make_shared<VectorDropout>(0.5, spatial ? VectorGrouping::blocks(4) : VectorGrouping::last_dim());
       }},
  };
  return table;
}

const ActivationInfo& activation_info(const std::string& name) {
  for (const ActivationInfo& a : activation_registry())
    if (a.name == name) return a;
  throw Error(fmt::format("activation: unknown activation '{}' (choose from {})", name, activation_names()));
}

std::shared_ptr<Module> make_activation(const std::string& name, bool spatial, int64_t channels) {
  return activation_info(name).make(spatial, channels);
}

std::string activation_names() {
  std::string out;
  for (const ActivationInfo& a : activation_registry()) out += (out.empty() ? "" : ", ") + a.name;
  return out;
}

}  // namespace tg
