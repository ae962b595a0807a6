// The criteria of docs/activations.md, measured for every activation of the registry
// rather than typed:
//   saved bytes   what the node keeps for backward (activations/saved.h), in training
//                 mode on a [64, 16] float32 input, and whether it is the output;
//   on a grid of [−8, 8] (float64, eval mode, so the stochastic ones are their means):
//   gating        the inputs where f is exactly 0: the longest run of grid points,
//                 and how many more there are;
//   monotonicity  f never decreases from one grid point to the next;
//   range         min and max of f on the grid, and whether f flattens at each end
//                 (|f′| < 0.005 there: bounded on that side);
//   smoothness    the largest jump of f′ between neighbouring grid points (a kink
//                 shows as a jump of the slope change; a smooth f gives ≈ step·max|f″|);
//   quantization  ‖ŷ − y‖/‖y‖ after uniform int8 and int4 quantization of the outputs
//                 over the range seen on N(0, 3²) inputs (quantize.h).
// Vector activations act on vectors of d = 16 (the 4×4 blocks of the VecGELU study):
// the grid runs along the ray t·u, u = (1, …, 1)/4, where f(t) = u·y(t·u) = t·s(|t|, 16)
// and f′ = uᵀJu; the quantization inputs are vectors of 16 independent N(0, 3²) entries.
// Also writes curves.csv (f and f′ on [−5, 5] for the figure) and vecgelu_scale.csv
// (s(r, d) against r/√d for d = 1 … 1024).
#include <fmt/os.h>

#include "activations/activations.h"
#include "examples/lab/lab.h"
#include "examples/lab/quantize.h"

namespace tg::lab {

namespace {

constexpr int64_t kVectorDim = 16;

struct Profile {
  std::vector<double> t, f, df;
};

// f and f′ along the grid (see above): elementwise on [n, 1], vector on rays [n, 16].
Profile profile(Module& m, bool vector, double step) {
  const int64_t half = std::llround(8 / step), n = 2 * half + 1, d = vector ? kVectorDim : 1;
  const double u = 1 / std::sqrt(static_cast<double>(d));
  Profile p;
  std::vector<double> xs(n * d);
  for (int64_t i = 0; i < n; ++i) {
    p.t.push_back(static_cast<double>(i - half) * step);
    for (int64_t j = 0; j < d; ++j) xs[i * d + j] = p.t.back() * u;
  }
  Variable x(from_vector(xs, {n, d}), true);
  Variable y = m(x);
  y.backward(full({n, d}, u, kFloat64));
  const std::vector<double> ys = y.data().to_vector<double>(), gs = x.grad().to_vector<double>();
  p.f.assign(n, 0);
  p.df.assign(n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      p.f[i] += ys[i * d + j] * u;
      p.df[i] += gs[i * d + j] * u;
    }
  return p;
}

void write_vecgelu_scale(const std::string& out) {
  auto f = fmt::output_file(out + "/vecgelu_scale.csv");
  f.print("d,r_over_sqrt_d,s\n");
  const int64_t rows = 300;
  for (int64_t d : {1, 2, 4, 16, 64, 1024}) {
    auto m = make_activation("vecgelu");
    Tensor x = zeros({rows, d}, kFloat64);
    const double root = std::sqrt(static_cast<double>(d));
    for (int64_t k = 0; k < rows; ++k) x.select(0, k).select(0, 0).fill_(0.01 * (k + 1) * root);
    const std::vector<double> y = (*m)(x).data().select(1, 0).contiguous().to_vector<double>();
    for (int64_t k = 0; k < rows; ++k) f.print("{},{},{}\n", d, 0.01 * (k + 1), y[k] / (0.01 * (k + 1) * root));
  }
}

}  // namespace

void run_criteria(const CriteriaOptions& o) {
  auto csv = fmt::output_file(o.out + "/criteria.csv");
  csv.print("activation,vector,saved_bytes,input_bytes,saved_kind,zero_lo,zero_hi,zero_run,zero_points,zero_at_0,"
            "grid_points,"
            "monotonic,f_min,f_max,bounded_below,bounded_above,max_jump,max_jump_at,int8_err,int4_err,"
            "quant_lo,quant_hi\n");
  auto curves = fmt::output_file(o.out + "/curves.csv");
  curves.print("activation,x,f,df\n");
  Generator gen(o.seed);
  const Tensor x32 = randn({64, kVectorDim}, kFloat32, &gen);
  const Tensor xq = ops::mul(randn({o.samples / kVectorDim, kVectorDim}, kFloat64, &gen), 3.0);
  for (const ActivationInfo& a : activation_registry()) {
    std::shared_ptr<Module> m = a.make(false, 1);
    Variable xin(x32, true);
    Variable yin = (*m)(xin);
    const std::vector<Tensor>& saved = saved_tensors(yin);
    std::string kind = "other";
    for (const Tensor& s : saved)
      if (s.shares_storage(yin.data())) kind = "output";
      else if (s.shares_storage(x32) && kind != "output") kind = "input";

    m->to(kFloat64);
    m->eval();
    const Profile p = profile(*m, a.vector, o.step);
    const int64_t n = static_cast<int64_t>(p.t.size());
    double zero_lo = NAN, zero_hi = NAN, f_min = p.f[0], f_max = p.f[0], jump = 0, jump_at = 0;
    int64_t zeros_count = 0, run = 0, best_run = 0;
    bool monotonic = true;
    for (int64_t i = 0; i < n; ++i) {
      run = p.f[i] == 0 ? run + 1 : 0;
      zeros_count += p.f[i] == 0;
      if (run > best_run) {
        best_run = run;
        zero_lo = p.t[i - run + 1];
        zero_hi = p.t[i];
      }
      f_min = std::min(f_min, p.f[i]);
      f_max = std::max(f_max, p.f[i]);
      if (i > 0) {
        monotonic = monotonic && p.f[i] >= p.f[i - 1];
        if (std::abs(p.df[i] - p.df[i - 1]) > jump) {
          jump = std::abs(p.df[i] - p.df[i - 1]);
          jump_at = 0.5 * (p.t[i] + p.t[i - 1]);
        }
      }
    }
    const bool bounded_below = std::abs(p.df.front()) < 0.005, bounded_above = std::abs(p.df.back()) < 0.005;

    std::vector<double> yq;
    {
      NoGrad ng;
      yq = (*m)(xq).data().to_vector<double>();
    }
    const auto [qlo, qhi] = std::minmax_element(yq.begin(), yq.end());
    const double e8 = quantization_relative_error(yq, 8), e4 = quantization_relative_error(yq, 4);
    csv.print("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", a.name, a.vector,
              saved_bytes(yin), x32.nbytes(), kind, zero_lo, zero_hi, best_run, zeros_count, p.f[n / 2] == 0, n,
              monotonic, f_min, f_max, bounded_below,
              bounded_above, jump, jump_at, e8, e4, *qlo, *qhi);
    const int64_t every = std::max<int64_t>(1, std::llround(0.05 / o.step));
    for (int64_t i = 0; i < n; i += every)
      if (std::abs(p.t[i]) <= 5 + 1e-9) curves.print("{},{},{},{}\n", a.name, p.t[i], p.f[i], p.df[i]);
    fmt::print("criteria: {:<22} saves {} B ({}), f = 0 at {} grid points, largest f′ jump {:.3g} at {:.3f}, "
               "int8 {:.2e}, int4 {:.2e}\n",
               a.name, saved_bytes(yin), kind, zeros_count, jump, jump_at, e8, e4);
  }
  write_vecgelu_scale(o.out);
}

}  // namespace tg::lab
