#include "autograd/gradcheck.h"

#include <cmath>

#include "core/random.h"

namespace tg {

namespace {

constexpr double kSentinel = 3.25;

std::string index_str(int64_t lin, const Shape& s) {
  Shape idx(s.size());
  for (int64_t d = (int64_t)s.size() - 1; d >= 0; --d) {
    idx[d] = lin % s[d];
    lin /= s[d];
  }
  return shape_str(idx);
}

double dot(const Tensor& a, const Tensor& b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}

// Runs f and backward with upstream u; returns each input's gradient minus `base`.
std::vector<Tensor> analytic(const GradcheckFn& f, std::vector<Variable>& vars, const Tensor& u) {
  PoisonAllocations poison;
  Variable y = f(vars);
  y.backward(u);
  std::vector<Tensor> g;
  for (auto& v : vars) g.push_back(v.grad().defined() ? v.grad().clone() : Tensor());
  return g;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  std::vector<Variable> vars;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(inputs[i].dtype() == kFloat64, "gradcheck", "input {} is {}; gradcheck needs float64 inputs", i,
             dtype_name(inputs[i].dtype()));
    vars.emplace_back(inputs[i].clone(), true);
  }
  Tensor y0;
  {
    NoGrad ng;
    y0 = f(vars).data();
  }
  Generator gen(opt.seed);
  Tensor u = randn(y0.shape(), kFloat64, &gen).to(y0.device());

  for (auto& v : vars) v.set_grad(full_like(v.data(), kSentinel));
  std::vector<Tensor> g1 = analytic(f, vars, u);

  for (size_t i = 0; i < vars.size(); ++i) {
    Tensor x = vars[i].data();
    Tensor xc = x.cpu().contiguous();
    const int64_t n = x.numel();
    std::vector<double> ga = g1[i].defined() ? g1[i].to_vector<double>() : std::vector<double>(n, kSentinel);
    for (int64_t j = 0; j < n; ++j) {
      double* p = xc.data<double>() + j;
      const double orig = *p;
      double fp, fm;
      {
        NoGrad ng;
        *p = orig + opt.eps;
        vars[i].data().copy_(xc);
        fp = dot(f(vars).data(), u);
        *p = orig - opt.eps;
        vars[i].data().copy_(xc);
        fm = dot(f(vars).data(), u);
        *p = orig;
        vars[i].data().copy_(xc);
      }
      const double numeric = (fp - fm) / (2 * opt.eps);
      const double a = ga[j] - kSentinel;
      if (!(std::abs(a - numeric) <= opt.atol + opt.rtol * std::abs(numeric))) {
        res.ok = false;
        res.message = fmt::format("gradcheck: input {} (shape {}), element {}: analytic {:.10g} vs numeric {:.10g}", i,
                                  shape_str(x.shape()), index_str(j, x.shape()), a, numeric);
        return res;
      }
    }
  }

  if (opt.check_accumulation) {
    std::vector<Tensor> g2 = analytic(f, vars, u);
    for (size_t i = 0; i < vars.size(); ++i) {
      if (!g1[i].defined()) continue;
      auto a1 = g1[i].to_vector<double>(), a2 = g2[i].to_vector<double>();
      for (size_t j = 0; j < a1.size(); ++j) {
        const double once = a1[j] - kSentinel, twice = a2[j] - kSentinel;
        if (!(std::abs(twice - 2 * once) <= opt.atol + opt.rtol * std::abs(2 * once))) {
          res.ok = false;
          res.message = fmt::format(
              "gradcheck: input {}, element {}: a second backward gave {:.10g} in total, expected {:.10g} "
              "(gradients must accumulate)",
              i, index_str((int64_t)j, inputs[i].shape()), twice, 2 * once);
          return res;
        }
      }
    }
  }
  return res;
}

}  // namespace tg
