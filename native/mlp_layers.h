// Normalised and highway layers (Architecture B of the paper's Table 4) inside a network pass: what they add to
// a plain dense layer's forward and backward, one block of rows at a time (mlp_passes.cc runs the blocks).
#pragma once

#include <cstddef>
#include <vector>

#include "pass_layout.h"

namespace iapo_native {

// Per-thread memory: blocks of rows x widest layer: dz and two alternating dx, and for normalised / highway
// layers the pre-activation (forward) or df and the gate's gradient (backward).
struct ThreadScratch {
  std::vector<float> z, a, b, d, gg;
  void Fit(size_t floats) {
    if (z.size() < floats) {
      for (auto* v : {&z, &a, &b, &d, &gg}) v->resize(floats);
    }
  }
};

// Where one share of a backward pass's rows sums its weight gradients: dw and the gate's dw per layer (the first
// block overwrites them when `fresh`, later blocks add), and the vector gradients as double sums.
struct Reduction {
  float* dw[kMaxDepth];
  float* dgate_w[kMaxDepth];
  bool fresh[kMaxDepth];
  bool fresh_gate[kMaxDepth];
  std::vector<double> db[kMaxDepth], dgain[kMaxDepth], dnbias[kMaxDepth], dgate_b[kMaxDepth];
};


// A normalised / highway layer's forward on rows [r0, r0 + m) after x·w + b: with layer norm, z is that
// pre-activation [m, n] and this fills xhat, rstd and f; without, f already holds act(x·w + b). Then the gate.
void RichForward(const PassLayer& L, const float* x, const float* z, int r0, int m, float alpha, float* gate_scratch);

// A normalised / highway layer's backward on a block: from dy (d out, [m, n]) to dz (d of x·w + b, written to
// scratch), adding the gain, norm-bias and gate gradients to `red`; with a gate, also d x through the gate and the
// direct path, added to dx afterwards (AddGatePaths).
const float* RichBackward(const PassLayer& L, int i, const float* x, const float* dy, int r0, int m, float alpha, Reduction* red,
                          ThreadScratch* s);

// d x of a highway layer beyond dz·wᵀ: the gate's dgz·gate_wᵀ and the direct path dy ⊙ g.
void AddGatePaths(const PassLayer& L, const float* dy, int r0, int m, ThreadScratch* s, float* dx);

}  // namespace iapo_native
