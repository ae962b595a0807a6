#pragma once
// The whole activation library in one include.
#include "activations/basic.h"
#include "activations/grouping.h"
#include "activations/hard.h"
#include "activations/rectifiers.h"
#include "activations/registry.h"
#include "activations/saved.h"
#include "activations/smooth.h"
#include "activations/stochastic_gelu.h"
#include "activations/vec_erf.h"
#include "activations/vec_gelu.h"
