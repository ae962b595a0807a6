#include "activations/norm_activation.h"

#include <cmath>

#include "activations/basic.h"
#include "activations/kernels.h"
#include "activations/registry.h"
#include "activations/smooth.h"
#include "activations/unary.h"
#include "activations/vector_kernels.h"
#include "autograd/functions.h"

namespace tg {

using act::Grads;
using act::Needs;
using namespace ops;

constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&, const act::NormGateArgs&)> act::norm_gate_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const VectorGrouping&, const act::NormGateArgs&,
                                  Tensor*)>
    act::norm_gate_backward_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const VectorGrouping&, Tensor&)>
    act::scale_vectors_backward_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&)> act::vector_sq_norms_stub;

Shape vector_shape(const Shape& shape, const VectorGrouping& grouping, const char* op) {
  const VectorPlan plan(shape, grouping, op);
  Shape out = shape;
  switch (grouping.kind) {
    case VectorGrouping::Kind::LastDim: out.back() = 1; break;
    case VectorGrouping::Kind::Channels: out[1] = 1; break;
    case VectorGrouping::Kind::Blocks: {
      const int64_t k = grouping.block;
      out = {shape[0], shape[1], (shape[2] + k - 1) / k, (shape[3] + k - 1) / k};
      break;
    }
  }
  return out;
}

Shape vector_bias_shape(const Shape& shape, const VectorGrouping& grouping) {
  return grouping.kind == VectorGrouping::Kind::Blocks ? Shape{shape[1]} : Shape{1};
}

namespace {

// Which bias group vector v belongs to: blocks(k) number their vectors per channel plane
// (N, C, block row, block col), so group = (v / blocks per plane) mod C.
struct GroupOf {
  int64_t stride = 1, groups = 1;
  int64_t operator()(int64_t v) const { return groups == 1 ? 0 : (v / stride) % groups; }
};

GroupOf group_of(const Shape& shape, const VectorGrouping& grouping) {
  if (grouping.kind != VectorGrouping::Kind::Blocks) return {};
  const int64_t k = grouping.block;
  return {((shape[2] + k - 1) / k) * ((shape[3] + k - 1) / k), shape[1]};
}

// The bias values (zeros without a bias), after checking its shape, dtype and device.
std::vector<double> bias_values(const Variable& bias, const Tensor& x, const VectorGrouping& grouping, const char* op) {
  const Shape want = vector_bias_shape(x.shape(), grouping);
  if (!bias.defined()) return std::vector<double>(want[0], 0.0);
  TG_CHECK(bias.shape() == want, op, "bias for grouping {} of shape {} must have shape {}, got {}", grouping.str(),
           shape_str(x.shape()), shape_str(want), shape_str(bias.shape()));
  TG_CHECK(bias.dtype() == x.dtype() && bias.device() == x.device(), op,
           "bias must have the input's dtype and device ({} on {}), got {} on {}", dtype_name(x.dtype()),
           x.device().str(), dtype_name(bias.dtype()), bias.device().str());
  return bias.data().to(kFloat64).to_vector<double>();
}

// Σ per_vector[v] into one sum per bias group, in vector order (reproducible), as a
// tensor like `bias`.
Tensor group_sums(const std::vector<double>& per_vector, const GroupOf& group, const Variable& bias) {
  std::vector<double> sums(group.groups, 0.0);
  for (size_t v = 0; v < per_vector.size(); ++v) sums[group((int64_t)v)] += per_vector[v];
  return from_vector(sums, bias.shape()).to(bias.dtype()).to(bias.device());
}

// A function φ evaluated at t_v = √(r2_v) + b_v: [count, 2] float64 (φ(t), φ′(t)) on
// the CPU. φ′ comes from φ's own backward with a unit upstream gradient (elementwise, so
// that is the derivative), recorded even under NoGrad.
Tensor phi_table(const NormPhi& phi, std::vector<double> t, const std::vector<double>& bias, const GroupOf& group,
                 const char* op) {
  const int64_t count = (int64_t)t.size();
  for (int64_t v = 0; v < count; ++v) t[v] = std::sqrt(t[v]) + bias[group(v)];
  const bool was = GradMode::enabled();
  GradMode::set_enabled(true);
  Variable tv(from_vector(t, {count}), true);
  Variable f;
  try {
    f = phi.fn()(tv);
  } catch (...) {
    GradMode::set_enabled(was);
    throw;
  }
  GradMode::set_enabled(was);
  TG_CHECK(f.shape() == tv.shape(), op, "phi '{}' must be elementwise: shape {} gave {}", phi.name(),
           shape_str(tv.shape()), shape_str(f.shape()));
  f.backward(ones({count}, kFloat64));
  TG_CHECK(tv.grad().defined(), op, "phi '{}' gave no derivative", phi.name());
  return stack(std::vector<Tensor>{f.data().to(kFloat64), tv.grad().to(kFloat64)}, 1).contiguous();
}

}  // namespace

NormPhi NormPhi::builtin(act::PhiKind kind) {
  static const char* names[] = {"identity", "relu", "sigmoid", "softplus", "sabour_squash", "escnn_squash"};
  NormPhi p;
  p.kind_ = kind;
  p.name_ = names[(int)kind];
  return p;
}

NormPhi NormPhi::function(std::string name, ScalarFunction f) {
  TG_CHECK(bool(f), "norm_activation", "phi '{}' has no function", name);
  NormPhi p;
  p.name_ = std::move(name);
  p.fn_ = std::move(f);
  return p;
}

NormPhi NormPhi::activation(const std::string& name) {
  const ActivationInfo& info = activation_info(name);
  TG_CHECK(!info.vector, "norm_activation", "phi must be an elementwise activation, '{}' is a vector activation", name);
  std::shared_ptr<Module> m = info.make(false, 1);
  return function(name, [m](const Variable& t) { return m->forward(t); });
}

// The CPU kernels of norm_gate_stub and norm_gate_backward_stub (arguments as in
// activations/kernels.h).
static act::PhiValue phi_of(const act::NormGateArgs& a, const double* table, const double* bias, int64_t v,
                            double r) {
  if (table) return {table[2 * v], table[2 * v + 1]};
  const GroupOf group{a.group_stride, a.groups};
  return act::phi_value(a.kind, r + bias[group(v)]);
}

static Tensor norm_gate_cpu(const Tensor& xc, const VectorGrouping& grouping, const act::NormGateArgs& a) {
  const VectorPlan plan(xc.shape(), grouping, "norm_activation");
  const Tensor bias = a.bias.contiguous();
  const double* bp = bias.data<double>();
  const double* tab = a.table.defined() ? a.table.data<double>() : nullptr;
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "norm_activation", [&](auto zero) {
    using T = decltype(zero);
    act::vector_forward(plan, xc.data<T>(), y.data<T>(), [&](int64_t v, double r2, int64_t) {
      const double r = std::sqrt(r2);
      return act::norm_gate(r, phi_of(a, tab, bp, v, r), a.normalize).s;
    });
  });
  return y;
}
TG_REGISTER_KERNEL(act::norm_gate_stub, DeviceType::CPU, norm_gate_cpu);

static Tensor norm_gate_backward_cpu(const Tensor& xs, const Tensor& g, const VectorGrouping& grouping,
                                     const act::NormGateArgs& a, Tensor* per_vector) {
  const VectorPlan plan(xs.shape(), grouping, "norm_activation_backward");
  const Tensor bias = a.bias.contiguous(), gc = g.contiguous();
  const double* bp = bias.data<double>();
  const double* tab = a.table.defined() ? a.table.data<double>() : nullptr;
  if (per_vector) *per_vector = empty({plan.count()}, kFloat64);
  Tensor dx = empty_like(xs);
  cpu::dispatch_float(xs.dtype(), "norm_activation_backward", [&](auto zero) {
    using T = decltype(zero);
    act::vector_backward(
        plan, xs.data<T>(), gc.data<T>(), dx.data<T>(),
        [&](int64_t v, double r2, int64_t) {
          const double r = std::sqrt(r2);
          const act::NormGate q = act::norm_gate(r, phi_of(a, tab, bp, v, r), a.normalize);
          return act::GateGrad{q.s, q.h, q.ds_db};
        },
        per_vector ? per_vector->data<double>() : nullptr);
  });
  return dx;
}
TG_REGISTER_KERNEL(act::norm_gate_backward_stub, DeviceType::CPU, norm_gate_backward_cpu);

// Forward: per vector r = ‖v‖ (summed in double), t = r + b, then y = s·v with s from
// norm_gate.h. A function φ is first evaluated on the tensor of all t's: φ(t) by its
// forward, φ′(t) by its backward with a unit upstream gradient (elementwise, so that is
// the derivative), both in float64 and saved as a [count, 2] table.
// Backward: the generic vector backward with {s, h, ∂s/∂b} from norm_gate(); the bias
// gradient sums (v·g)·∂s/∂b per group.
Variable norm_activation(const Variable& x, const VectorGrouping& grouping, const NormPhi& phi,
                         const NormActivationOptions& options) {
  const char* op = "norm_activation";
  act::check_float(x.data(), op);
  const VectorPlan plan(x.shape(), grouping, op);
  const Tensor xc = x.data().contiguous();
  const std::vector<double> bias = bias_values(options.bias, xc, grouping, op);
  const GroupOf group = group_of(x.shape(), grouping);
  const bool normalize = options.normalize;
  std::vector<Variable> inputs{x};
  if (options.bias.defined()) inputs.push_back(options.bias);
  const Variable b = options.bias;
  act::NormGateArgs args{phi.kind(), normalize, from_vector(bias, {(int64_t)bias.size()}).to(xc.device()), Tensor(),
                         group.stride, group.groups};
  if (!phi.is_builtin())
    args.table =
        phi_table(phi,
                  act::vector_sq_norms_stub(xc.device(), "vector_sq_norms", xc, grouping).cpu().to_vector<double>(),
                  bias, group, op)
            .to(xc.device());
  std::vector<Tensor> saved{xc};
  if (args.table.defined()) saved.push_back(args.table);
  Tensor y = act::norm_gate_stub(xc.device(), "norm_gate", xc, grouping, args);
  args.table = Tensor();  // the backward reads it from the saved list
  return record_activation(op, y, inputs, saved,
                           [grouping, args, group, b](const Tensor& g, const Needs& needs, const Grads& saved) {
                             const bool want_bias = needs.size() > 1 && needs[1];
                             act::NormGateArgs a = args;
                             if (saved.size() > 1) a.table = saved[1];
                             Tensor per_vector;
                             Grads out{act::norm_gate_backward_stub(saved[0].device(), "norm_gate_backward", saved[0],
                                                                    g.contiguous(), grouping, a,
                                                                    want_bias ? &per_vector : nullptr)};
                             if (needs.size() > 1)
                               out.push_back(want_bias ? group_sums(per_vector.cpu().to_vector<double>(), group, b)
                                                       : Tensor());
                             return out;
                           });
}

// The CPU kernel of scale_vectors_backward_stub (the forward is vector_scale_stub's).
static Tensor scale_vectors_backward_cpu(const Tensor& xs, const Tensor& gc, const Tensor& ss,
                                         const VectorGrouping& grouping, Tensor& dots) {
  const VectorPlan plan(xs.shape(), grouping, "scale_vectors_backward");
  Tensor dx = empty_like(xs);
  dots = empty({plan.count()}, kFloat64);
  cpu::dispatch_float(xs.dtype(), "scale_vectors_backward", [&](auto zero) {
    using T = decltype(zero);
    act::vector_scale(plan, gc.data<T>(), ss.data<T>(), dx.data<T>());
    act::vector_dots(plan, xs.data<T>(), gc.data<T>(), dots.data<double>());
  });
  return dx;
}
TG_REGISTER_KERNEL(act::scale_vectors_backward_stub, DeviceType::CPU, scale_vectors_backward_cpu);

// y_v = s_v·v:  ∂L/∂v = s_v·g_v,  ∂L/∂s_v = v·g_v.
Variable scale_vectors(const Variable& x, const Variable& s, const VectorGrouping& grouping) {
  const char* op = "scale_vectors";
  act::check_float(x.data(), op);
  const VectorPlan plan(x.shape(), grouping, op);
  const Shape want = vector_shape(x.shape(), grouping, op);
  TG_CHECK(s.shape() == want, op, "the scales for grouping {} of shape {} must have shape {}, got {}", grouping.str(),
           shape_str(x.shape()), shape_str(want), shape_str(s.shape()));
  TG_CHECK(s.dtype() == x.dtype() && s.device() == x.device(), op,
           "the scales must have the input's dtype and device ({} on {}), got {} on {}", dtype_name(x.dtype()),
           x.device().str(), dtype_name(s.dtype()), s.device().str());
  const Tensor xc = x.data().contiguous(), sc = s.data().contiguous();
  return record_activation(op, act::vector_scale_stub(xc.device(), op, xc, sc, grouping), {x, s}, {xc, sc},
                           [grouping, want](const Tensor& g, const Needs&, const Grads& saved) {
                             Tensor dots;
                             Tensor dx = act::scale_vectors_backward_stub(saved[0].device(), "scale_vectors_backward",
                                                                          saved[0], g.contiguous(), saved[1], grouping,
                                                                          dots);
                             return Grads{dx, dots.to(saved[0].dtype()).reshape(want)};
                           });
}

Variable external_gate(const Variable& x, const Variable& gates, const VectorGrouping& grouping,
                       const ScalarFunction& phi, const Variable& bias) {
  const char* op = "external_gate";
  act::check_float(x.data(), op);
  const Shape want = vector_shape(x.shape(), grouping, op);
  TG_CHECK(gates.shape() == want, op, "the gates for grouping {} of shape {} must have shape {}, got {}",
           grouping.str(), shape_str(x.shape()), shape_str(want), shape_str(gates.shape()));
  Variable t = gates;
  if (bias.defined()) {
    bias_values(bias, x.data(), grouping, op);
    t = grouping.kind == VectorGrouping::Kind::Blocks ? t + reshape(bias, {1, bias.numel(), 1, 1}) : t + bias;
  }
  return scale_vectors(x, phi(t), grouping);
}

namespace {

// The two halves of x along dim, each flattened to [n, 1] (n vectors of d = 1).
std::pair<Variable, Variable> halves(const Variable& x, int64_t dim, const char* op) {
  const int64_t nd = x.dim();
  TG_CHECK(nd >= 1 && dim >= -nd && dim < nd, op, "dim {} is out of range for shape {}", dim, shape_str(x.shape()));
  if (dim < 0) dim += nd;
  const int64_t n = x.size(dim);
  TG_CHECK(n % 2 == 0, op, "dim {} must have an even size to split in halves, got shape {}", dim,
           shape_str(x.shape()));
  auto half = [&](int64_t start) { return reshape(contiguous(narrow(x, dim, start, n / 2)), {x.numel() / 2, 1}); };
  return {half(0), half(n / 2)};
}

Shape half_shape(const Variable& x, int64_t dim) {
  Shape s = x.shape();
  s[dim < 0 ? dim + x.dim() : dim] /= 2;
  return s;
}

}  // namespace

// GLU: the first half gated by σ of the second.
Variable glu(const Variable& x, int64_t dim) {
  auto [a, b] = halves(x, dim, "glu");
  return reshape(external_gate(a, b, VectorGrouping::last_dim(), [](const Variable& t) { return sigmoid(t); }),
                 half_shape(x, dim));
}

// SwiGLU: silu of the first half gates the second.
Variable swiglu(const Variable& x, int64_t dim) {
  auto [a, b] = halves(x, dim, "swiglu");
  return reshape(external_gate(b, a, VectorGrouping::last_dim(), [](const Variable& t) { return silu(t); }),
                 half_shape(x, dim));
}

NormActivation::NormActivation(VectorGrouping g, NormPhi p, bool norm, int64_t bias_groups, double bias_init,
                               std::string label, DType dtype)
    : grouping(g), phi(std::move(p)), normalize(norm), label_(std::move(label)) {
  if (bias_groups > 0) bias_ = &register_parameter("bias", full({bias_groups}, bias_init, dtype));
}

Variable NormActivation::forward(const Variable& x) {
  NormActivationOptions o;
  o.normalize = normalize;
  if (bias_) o.bias = *bias_;
  return norm_activation(x, grouping, phi, o);
}

std::shared_ptr<NormActivation> make_squash(VectorGrouping g) {
  return std::make_shared<NormActivation>(g, NormPhi::sabour_squash(), false, 0, 0, "squash");
}
std::shared_ptr<NormActivation> make_escnn_squash(VectorGrouping g) {
  return std::make_shared<NormActivation>(g, NormPhi::escnn_squash(), true, 0, 0, "escnn_squash");
}
std::shared_ptr<NormActivation> make_n_relu(VectorGrouping g, int64_t groups) {
  return std::make_shared<NormActivation>(g, NormPhi::relu(), true, groups, -1.0, "n_relu");
}
std::shared_ptr<NormActivation> make_n_sigmoid(VectorGrouping g, int64_t groups) {
  return std::make_shared<NormActivation>(g, NormPhi::sigmoid(), true, groups, -1.0, "n_sigmoid");
}
std::shared_ptr<NormActivation> make_n_softplus(VectorGrouping g, int64_t groups) {
  return std::make_shared<NormActivation>(g, NormPhi::softplus(), true, groups, -1.0, "n_softplus");
}

}  // namespace tg
