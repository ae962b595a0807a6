#pragma once
// Everything a user program needs, in one include.
#include "activations/basic.h"
#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/ops.h"
#include "core/parallel.h"
#include "core/random.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/module.h"
#include "optim/adam.h"
#include "optim/sgd.h"
