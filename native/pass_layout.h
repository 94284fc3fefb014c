// The tables mlpPasses reads: one Float64Array per call, per pass a head of IAPO_PASS_FIELDS, then per layer
// IAPO_LAYER_FIELDS (byte offsets into the heap, -1 where there is none). The two lists below are the only
// definition of the fields and their order: the addon exports them at load as `passLayout` (addon.cc), and
// lib/backend/heap-mlp.ts and the tests write tables by those names.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "packed_gemm.h"

namespace iapo_native {

// X(name): rows, depth (layers), input (offset of [rows, k0 − split]), base (offset of firstLayerBase's
// [baseRows, n0], or -1), baseRows, split (leading inputs folded into base), dOut and dInput (backward only),
// accumulate (1: add to the weight gradients, 0: overwrite them).
#define IAPO_PASS_FIELDS(X) X(rows) X(depth) X(input) X(base) X(baseRows) X(split) X(dOut) X(dInput) X(accumulate)

// X(name): w, b (offsets, b -1 for none), k, n (inputs, outputs), act (activation code), out (offset of this
// layer's output [rows, n]), dw, db (backward: gradient offsets, -1 for none); then for a normalised layer gain,
// normBias, epsilon, and a highway one gateW, gateB; the kept values xhat, rstd, f, g; and their gradients dGain,
// dNormBias, dGateW, dGateB (-1 for a plain layer, epsilon 0).
#define IAPO_LAYER_FIELDS(X) \
  X(w) X(b) X(k) X(n) X(act) X(out) X(dw) X(db) X(gain) X(normBias) X(epsilon) X(gateW) X(gateB) X(xhat) X(rstd) X(f) X(g) X(dGain) \
      X(dNormBias) X(dGateW) X(dGateB)

#define IAPO_FIELD_ENUM(name) name,
// Position of each field in a pass head (pass_field::rows ...) and in a layer's entry (layer_field::w ...).
namespace pass_field {
enum Index : int { IAPO_PASS_FIELDS(IAPO_FIELD_ENUM) kCount };
}
namespace layer_field {
enum Index : int { IAPO_LAYER_FIELDS(IAPO_FIELD_ENUM) kCount };
}
#undef IAPO_FIELD_ENUM

constexpr int kPassHead = pass_field::kCount;
constexpr int kPassLayer = layer_field::kCount;
constexpr int kMaxDepth = 8;   // layers per pass
constexpr int kMaxPasses = 8;  // passes per call

// A dense layer y = act(x·w + b); or, with `gain`, a normalised one y = act(LN(x·w + b)·gain + normBias); and with
// `gate_w`, a highway one: y = g ⊙ x + (1 − g) ⊙ f, g = sigmoid(x·gate_w + gate_b), f the layer's own output
// (Architecture B of the paper's Table 4). The forward pass keeps what the backward needs: xhat (the normalised
// x·w + b) and rstd = 1/sqrt(var + ε) per row, f, and g.
struct PassLayer {
  const float* w;
  const float* b;  // nullptr: no bias
  int k, n, act;
  float* out;       // the trace's output of this layer [rows, n]
  float* dw;        // nullptr: no weight gradient
  float* db;
  const float* gain = nullptr;    // layer norm: gain and bias [n], or nullptr
  const float* nbias = nullptr;
  float eps = 0.f;
  const float* gate_w = nullptr;  // highway gate [k = n, n] and its bias [n], or nullptr
  const float* gate_b = nullptr;
  float* xhat = nullptr;          // [rows, n]
  float* rstd = nullptr;          // [rows]
  float* f = nullptr;             // [rows, n]: the activation's output (== out without a gate)
  float* g = nullptr;             // [rows, n]: the gate
  float* dgain = nullptr;
  float* dnbias = nullptr;
  float* dgate_w = nullptr;
  float* dgate_b = nullptr;
  // Weights packed for this call (packed_gemm.h), or nullptr where sgemm or a thin kernel runs the product:
  // w for the forward's x·w, wᵀ (the rows past `split` in the first layer) for the backward's dz·wᵀ.
  const iapo::PackedB* packed = nullptr;
  bool Rich() const { return gain || gate_w; }
};

struct Pass {
  int rows, depth, split, base_rows;
  const float* input;  // [rows, k0 − split]
  const float* base;   // [baseRows, n0] or nullptr: the first layer's fixed part, bias included (firstLayerBase)
  const float* d_out;  // backward: [rows, n_last]
  float* d_input;      // backward: [rows, k0 − split] or nullptr
  bool accumulate;
  int max_width;
  PassLayer layers[kMaxDepth];
};

// Reads `count` passes from a table of `length` values and checks every region against the heap; false with a
// JS error.
bool ReadPasses(napi_env env, uint8_t* heap, size_t heap_len, const double* t, size_t length, int count, bool backward,
                std::vector<Pass>* out);

// { pass: { rows: 0, ... }, layer: { w: 0, ... }, widths: { pass, layer }, maxDepth, maxPasses }: the layout above,
// for JavaScript; nullptr with a JS error if N-API fails.
napi_value PassLayoutObject(napi_env env);

}  // namespace iapo_native
