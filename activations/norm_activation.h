#pragma once
// Norm gates and external gates on any vector grouping (grouping.h).
//
//   norm_activation   y = φ(r + b)·v, or normalized y = φ(r + b)/r·v    (e3nn NormActivation,
//                     escnn NormNonLinearity, capsule squash); exact at v = 0 (norm_gate.h)
//   external_gate     y = φ(g + b)·v, one scalar g per vector from another tensor
//                     (e3nn Gate, escnn GatedNonLinearity)
//   glu, swiglu       a·σ(b) and silu(a)·b after splitting the input in two halves: external
//                     gates with d = 1
//
// The per-vector shape (vector_shape below) is the shape of one scalar per vector: the
// input's shape with the vector's dimension kept as 1 for last_dim ([..., 1]) and channels
// ([N, 1, ...]), and [N, C, ⌈H/k⌉, ⌈W/k⌉] for blocks(k). Gates, norms and maxima use it.
// A bias is one value per vector group: [C] for blocks(k) (the blocks of one channel
// share it), [1] for last_dim and channels (all vectors are copies of one field).
#include <functional>
#include <memory>

#include "activations/grouping.h"
#include "activations/norm_gate.h"
#include "layers/module.h"

namespace tg {

// The shape of one scalar per vector of a tensor of `shape` (see above).
Shape vector_shape(const Shape& shape, const VectorGrouping& grouping, const char* op);
// The shape of a bias with one value per vector group.
Shape vector_bias_shape(const Shape& shape, const VectorGrouping& grouping);

using ScalarFunction = std::function<Variable(const Variable&)>;

// φ of a norm gate: a built-in with a closed-form derivative (one fused kernel per
// direction), or any elementwise function of Variables (e.g. an activation of the
// registry): then φ(t) and φ′(t) are evaluated in float64 on the per-vector values t
// (one forward and one backward of f on a tensor of one value per vector) and saved.
// f must not use parameters that require a gradient: the backward that gives φ′ would
// add to their gradients (NormPhi::activation builds its own module, whose parameters,
// e.g. PReLU's slope, stay at their initial values).
class NormPhi {
 public:
  static NormPhi builtin(act::PhiKind kind);
  static NormPhi identity() { return builtin(act::PhiKind::Identity); }
  static NormPhi relu() { return builtin(act::PhiKind::Relu); }
  static NormPhi sigmoid() { return builtin(act::PhiKind::Sigmoid); }
  static NormPhi softplus() { return builtin(act::PhiKind::Softplus); }
  static NormPhi sabour_squash() { return builtin(act::PhiKind::Sabour); }
  static NormPhi escnn_squash() { return builtin(act::PhiKind::Escnn); }
  // `f` must map a float64 tensor elementwise (same shape out).
  static NormPhi function(std::string name, ScalarFunction f);
  // The registry's activation `name` (activation_info); a vector activation is an error.
  static NormPhi activation(const std::string& name);

  const std::string& name() const { return name_; }
  bool is_builtin() const { return !fn_; }
  act::PhiKind kind() const { return kind_; }
  const ScalarFunction& fn() const { return fn_; }

 private:
  std::string name_;
  act::PhiKind kind_ = act::PhiKind::Identity;
  ScalarFunction fn_;
};

struct NormActivationOptions {
  bool normalize = false;  // y = φ(r + b)/r·v instead of φ(r + b)·v
  Variable bias;           // undefined: b = 0; else vector_bias_shape, x's dtype; gets a gradient
};

// Saves the input (and, for a function φ, φ(t) and φ′(t) per vector in float64).
Variable norm_activation(const Variable& x, const VectorGrouping& grouping, const NormPhi& phi,
                         const NormActivationOptions& options = {});

// y_v = s_v·v with s of vector_shape; gradients to x (s·g) and s (v·g per vector).
// Saves x and s.
Variable scale_vectors(const Variable& x, const Variable& s, const VectorGrouping& grouping);

// y_v = φ(g_v + b)·v with `gates` of vector_shape(x) and b of vector_bias_shape (or
// undefined); gradients to x, gates, bias and whatever φ captures, through autograd.
Variable external_gate(const Variable& x, const Variable& gates, const VectorGrouping& grouping, const ScalarFunction& phi,
                       const Variable& bias = {});

// x split along `dim` into halves a, b (size even): glu = a·σ(b) (torch.nn.GLU),
// swiglu = silu(a)·b (Shazeer 2020, after the two projections).
Variable glu(const Variable& x, int64_t dim = -1);
Variable swiglu(const Variable& x, int64_t dim = -1);

// A norm gate with an optional learnable bias (one per vector group, initialized to
// `bias_init`). `label` is the registry name it is shown under.
class NormActivation : public Module, public VectorActivation {
 public:
  VectorGrouping vector_grouping() const override { return grouping; }
  NormActivation(VectorGrouping grouping, NormPhi phi, bool normalize, int64_t bias_groups = 0, double bias_init = 0,
                 std::string label = "norm_activation", DType dtype = kFloat32);
  Variable forward(const Variable& x) override;
  std::string name() const override { return "NormActivation(" + label_ + ")"; }
  const VectorGrouping grouping;
  const NormPhi phi;
  const bool normalize;

 private:
  Variable* bias_ = nullptr;
  std::string label_;
};

// Sabour et al.'s capsule squash y = r/(1 + r²)·v (‖y‖ = r²/(1 + r²)); no bias.
std::shared_ptr<NormActivation> make_squash(VectorGrouping grouping);
// escnn's squash y = v/(1 + r); no bias.
std::shared_ptr<NormActivation> make_escnn_squash(VectorGrouping grouping);
// escnn's n_relu, n_sigmoid, n_softplus: y = φ(r + b)/r·v with b learnable per group,
// initialized to −1 (escnn's initial shift r − e^0). bias_groups: vector_bias_shape's size.
std::shared_ptr<NormActivation> make_n_relu(VectorGrouping grouping, int64_t bias_groups);
std::shared_ptr<NormActivation> make_n_sigmoid(VectorGrouping grouping, int64_t bias_groups);
std::shared_ptr<NormActivation> make_n_softplus(VectorGrouping grouping, int64_t bias_groups);

class GLU : public Module {
 public:
  explicit GLU(int64_t dim = -1) : dim(dim) {}
  Variable forward(const Variable& x) override { return glu(x, dim); }
  std::string name() const override { return "GLU"; }
  const int64_t dim;
};

class SwiGLU : public Module {
 public:
  explicit SwiGLU(int64_t dim = -1) : dim(dim) {}
  Variable forward(const Variable& x) override { return swiglu(x, dim); }
  std::string name() const override { return "SwiGLU"; }
  const int64_t dim;
};

}  // namespace tg
