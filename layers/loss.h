#pragma once
// Losses, as torch.nn.functional, each with a fused hand-written backward. The forward
// and backward are compositions of core ops, so they run on every device those run on.
// Every loss takes (input, target, reduction) with both as Variables, so a Tensor
// target passes as it is: loss(model(x), y).
#include "layers/module.h"

namespace tg {

enum class Reduction { Mean, Sum, None };

// mean((input − target)²); target broadcasts to input.
Variable mse_loss(const Variable& input, const Variable& target, Reduction r = Reduction::Mean);
// Cross-entropy from logits [N, C] and int64 class targets [N] (log-softmax fused:
// loss_i = logsumexp(x_i) − x_i[t_i], computed with the max subtracted). Targets are
// range-checked on the host: targets on a GPU are copied there first (a device sync),
// so a training loop that keeps its targets on the host never waits here.
// The target carries no gradient.
Variable cross_entropy(const Variable& logits, const Variable& target, Reduction r = Reduction::Mean);
// Binary cross-entropy from logits: max(x,0) − x·y + log(1 + e^(−|x|)), stable for any x.
Variable binary_cross_entropy_with_logits(const Variable& logits, const Variable& target,
                                          Reduction r = Reduction::Mean);

}  // namespace tg
