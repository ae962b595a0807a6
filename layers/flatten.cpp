#include "layers/flatten.h"

namespace tg {

// The gradient is reshaped back to x's shape by the autograd flatten.
Variable Flatten::forward(const Variable& x) { return flatten(x, start_dim, end_dim); }

}  // namespace tg
