#pragma once
// Conv2d: 2-D convolution over NCHW inputs, as torch.nn.Conv2d. The functional op
// records one node whose backward gives the input, weight and bias gradients from
// one call of core's conv2d_backward (im2col + GEMM on the CPU, see core/conv.h).
#include "core/conv.h"
#include "layers/module.h"

namespace tg {

// x [N, C, H, W], weight [O, C/groups, KH, KW], bias [O] or undefined → [N, O, OH, OW],
// OH = ⌊(H + 2·padding − dilation·(KH − 1) − 1)/stride⌋ + 1 (likewise OW).
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias = Variable(), Int2 stride = 1,
                Int2 padding = 0, Int2 dilation = 1, int64_t groups = 1);

// Weight [out, in/groups, KH, KW] and bias [out], both initialized as torch does:
// kaiming_uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in), fan_in = in/groups·KH·KW.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Int2 kernel_size, Int2 stride = 1, Int2 padding = 0,
         Int2 dilation = 1, int64_t groups = 1, bool bias = true, DType dtype = kFloat32);
  Variable forward(const Variable& x) override;
  std::string name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  Variable weight;
  Variable bias;  // undefined without bias
  const int64_t in_channels, out_channels;
  const Int2 kernel_size, stride, padding, dilation;
  const int64_t groups;
};

}  // namespace tg
