#include "layers/monitor.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "activations/registry.h"
#include "layers/conv.h"
#include "layers/linear.h"

namespace tg {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A module is an activation when the registry makes modules of its class.
bool is_activation(const Module& m) {
  static const std::set<std::string> names = [] {
    std::set<std::string> s;
    for (const ActivationInfo& a : activation_registry()) {
      s.insert(a.make(true, 1)->name());
      s.insert(a.make(false, 1)->name());
    }
    return s;
  }();
  return names.count(m.name()) > 0;
}

// JSON has no NaN or infinity: undefined values are null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

TrainingMonitor::TrainingMonitor(Module& model, std::ostream& out, int64_t log_every)
    : out_(out), log_every_(log_every) {
  TG_CHECK(log_every >= 1, "TrainingMonitor", "log_every must be at least 1, got {}", log_every);
  std::function<void(Module&)> visit = [&](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m)) weights_.push_back({&m, nullptr, &conv->weight});
    else if (auto* lin = dynamic_cast<Linear*>(&m)) weights_.push_back({&m, nullptr, &lin->weight});
    else if (is_activation(m)) {
      acts_.push_back({&m, dynamic_cast<const VectorActivation*>(&m), nullptr});
      any_vector_ = any_vector_ || acts_.back().vector != nullptr;
    }
    for (auto& [name, child] : m.children()) visit(*child);
  };
  visit(model);
  TG_CHECK(!weights_.empty() || !acts_.empty(), "TrainingMonitor",
           "the model ({}) has no Conv2d or Linear layer and no activation to watch", model.name());
  stats_.resize(acts_.size());
}

TrainingMonitor::~TrainingMonitor() {
  for (HookHandle& h : handles_) h.remove();
}

void TrainingMonitor::begin_step(int64_t step) {
  if (!logs(step) || !handles_.empty()) return;
  std::fill(stats_.begin(), stats_.end(), std::nullopt);
  for (size_t i = 0; i < acts_.size(); ++i)
    handles_.push_back(acts_[i].module->register_forward_hook([this, i](Module&, const Variable& x, const Variable& y) {
      stats_[i] = activation_stats(x.data(), y.data(), acts_[i].vector);
    }));
}

// Over all elements of y: mean, variance (population), mean |y|, fraction == 0; over
// dim 1: channels with no non-zero output. Vectors: mean ‖v‖ and mean ‖y_v‖/‖v‖.
TrainingMonitor::ActStats TrainingMonitor::activation_stats(const Tensor& input, const Tensor& output,
                                                            const VectorActivation* vector) {
  ActStats s;
  const std::vector<double> y = output.to_vector<double>();
  const auto n = (double)y.size();
  double sum = 0, abs_sum = 0, zeros = 0;
  for (double v : y) {
    sum += v;
    abs_sum += std::abs(v);
    zeros += v == 0;
  }
  s.mean = y.empty() ? kNaN : sum / n;
  double sq = 0;
  for (double v : y) sq += (v - s.mean) * (v - s.mean);
  s.var = y.empty() ? kNaN : sq / n;
  s.abs_mean = y.empty() ? kNaN : abs_sum / n;
  s.zero_frac = y.empty() ? kNaN : zeros / n;
  s.dead_frac = kNaN;
  if (output.dim() >= 2 && !y.empty()) {
    const int64_t N = output.size(0), C = output.size(1), inner = output.numel() / (N * C);
    std::vector<char> alive((size_t)C, 0);
    for (int64_t b = 0; b < N; ++b)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t k = 0; k < inner && !alive[c]; ++k) alive[c] = y[(b * C + c) * inner + k] != 0;
    s.dead_frac = (double)std::count(alive.begin(), alive.end(), 0) / (double)C;
  }
  if (vector) {
    const std::vector<double> x = input.to_vector<double>();
    const VectorPlan plan(input.shape(), vector->vector_grouping(), "TrainingMonitor");
    double norm_sum = 0, scale_sum = 0;
    int64_t scaled = 0;
    VectorCursor cur(plan, 0);
    for (int64_t v = 0; v < plan.count(); ++v, cur.next()) {
      const VectorPatch& p = cur.patch();
      double r2 = 0, y2 = 0;
      for (int64_t i = 0; i < p.rows; ++i)
        for (int64_t j = 0; j < p.cols; ++j) {
          const int64_t e = p.base + i * p.row_stride + j;
          r2 += x[e] * x[e];
          y2 += y[e] * y[e];
        }
      norm_sum += std::sqrt(r2);
      if (r2 > 0) {
        scale_sum += std::sqrt(y2 / r2);
        ++scaled;
      }
    }
    s.vec_norm_mean = plan.count() > 0 ? norm_sum / (double)plan.count() : kNaN;
    s.vec_scale_mean = scaled > 0 ? scale_sum / (double)scaled : kNaN;
  }
  return s;
}

void TrainingMonitor::end_step(int64_t step, double train_loss) {
  for (HookHandle& h : handles_) h.remove();
  handles_.clear();
  if (!logs(step)) return;
  nlohmann::json line = {{"step", step}, {"train_loss", number(train_loss)}};
  auto& grad_abs_mean = line["grad_abs_mean"] = nlohmann::json::array();
  auto& weight_norm = line["weight_norm"] = nlohmann::json::array();
  auto& weight_zero = line["weight_zero_frac"] = nlohmann::json::array();
  for (const Watched& w : weights_) {
    const std::vector<double> v = w.weight->data().to_vector<double>();
    double sq = 0, zeros = 0;
    for (double e : v) {
      sq += e * e;
      zeros += e == 0;
    }
    weight_norm.push_back(number(std::sqrt(sq)));
    weight_zero.push_back(number(v.empty() ? kNaN : zeros / (double)v.size()));
    double g_abs = kNaN;
    if (w.weight->grad().defined()) {
      const std::vector<double> g = w.weight->grad().to_vector<double>();
      g_abs = 0;
      for (double e : g) g_abs += std::abs(e);
      g_abs = g.empty() ? kNaN : g_abs / (double)g.size();
    }
    grad_abs_mean.push_back(number(g_abs));
  }
  const char* keys[] = {"act_mean", "act_var", "act_abs_mean", "act_zero_frac", "act_dead_frac"};
  for (const char* k : keys) line[k] = nlohmann::json::array();
  if (any_vector_) line["vec_norm_mean"] = line["vec_scale_mean"] = nlohmann::json::array();
  for (const auto& st : stats_) {
    const ActStats s = st.value_or(ActStats{kNaN, kNaN, kNaN, kNaN, kNaN, {}, {}});
    const double values[] = {s.mean, s.var, s.abs_mean, s.zero_frac, s.dead_frac};
    for (size_t k = 0; k < 5; ++k) line[keys[k]].push_back(number(values[k]));
    if (any_vector_) {
      line["vec_norm_mean"].push_back(number(s.vec_norm_mean.value_or(kNaN)));
      line["vec_scale_mean"].push_back(number(s.vec_scale_mean.value_or(kNaN)));
    }
  }
  out_ << line.dump() << std::endl;
}

void TrainingMonitor::log_eval(int64_t step, double val_loss, double val_acc, double val_acc5) {
  out_ << nlohmann::json{{"step", step}, {"val_loss", number(val_loss)}, {"val_acc", number(val_acc)},
                         {"val_acc5", number(val_acc5)}}
              .dump()
       << std::endl;
}

}  // namespace tg
