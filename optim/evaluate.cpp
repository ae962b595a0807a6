#include "optim/evaluate.h"

#include "layers/loss.h"

namespace tg {

EvalResult evaluate_classifier(Module& model, DataLoader& loader, Device device) {
  NoGrad no_grad;
  model.eval();
  EvalResult r;
  int64_t top1 = 0, top5 = 0;
  for (const Batch& b : loader) {
    const Tensor target = b.target.to(device);
    Variable logits = model(Variable(b.data.to(device)));
    r.loss += cross_entropy(logits, target, Reduction::Sum).item();
    const int64_t n = logits.size(0), classes = logits.size(1);
    const std::vector<double> l = logits.data().cpu().to_vector<double>();
    const std::vector<int64_t> truth = b.target.to_vector<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      // rank of the true class = classes ahead of it (higher logit, or equal and a lower index)
      const double* row = l.data() + i * classes;
      const int64_t t = truth[i];
      int64_t rank = 0;
      for (int64_t j = 0; j < classes; ++j) rank += row[j] > row[t] || (row[j] == row[t] && j < t);
      top1 += rank < 1;
      top5 += rank < 5;
    }
    r.examples += n;
  }
  model.train();
  TG_CHECK(r.examples > 0, "evaluate_classifier", "the loader yielded no examples");
  r.loss /= (double)r.examples;
  r.top1 = (double)top1 / (double)r.examples;
  r.top5 = (double)top5 / (double)r.examples;
  return r;
}

}  // namespace tg
