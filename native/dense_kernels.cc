// Dense-layer kernels: bias + activation, activation slopes, thin products (one output column, a few input
// columns) and row sums, each hot loop multiversioned (IAPO_MULTIVERSION in dense_kernels.h).
#include "dense_kernels.h"

namespace iapo_native {

// One loop per activation (not a switch per element), so the compiler can vectorise each.
template <int A>
void BiasActivateT(float* __restrict C, int m, int n, const float* __restrict bias, bool scalar_bias, float alpha) {
  for (int r = 0; r < m; r++) {
    float* row = C + static_cast<size_t>(r) * n;
    if (bias && scalar_bias) {
      const float s = bias[0];
      for (int j = 0; j < n; j++) row[j] = Activate(row[j] + s, A, alpha);
    } else if (bias) {
      for (int j = 0; j < n; j++) row[j] = Activate(row[j] + bias[j], A, alpha);
    } else {
      for (int j = 0; j < n; j++) row[j] = Activate(row[j], A, alpha);
    }
  }
}

// ReLU with a per-column bias, the common case (every hidden layer), in a multiversioned loop of its own:
// 16 lanes where AVX-512 exists (the template above is compiled for the baseline only).
IAPO_MULTIVERSION
void BiasRelu(float* __restrict C, int m, int n, const float* __restrict bias) {
  for (int r = 0; r < m; r++) {
    float* __restrict row = C + static_cast<size_t>(r) * n;
    for (int j = 0; j < n; j++) row[j] = std::max(row[j] + bias[j], 0.f);
  }
}

void BiasActivate(float* C, int m, int n, const float* bias, bool scalar_bias, int act, float alpha) {
  if (act == kRelu && bias && !scalar_bias) return BiasRelu(C, m, n, bias);
  switch (act) {
    case kRelu: return BiasActivateT<kRelu>(C, m, n, bias, scalar_bias, alpha);
    case kRelu6: return BiasActivateT<kRelu6>(C, m, n, bias, scalar_bias, alpha);
    case kElu: return BiasActivateT<kElu>(C, m, n, bias, scalar_bias, alpha);
    case kLeakyRelu: return BiasActivateT<kLeakyRelu>(C, m, n, bias, scalar_bias, alpha);
    case kSigmoid: return BiasActivateT<kSigmoid>(C, m, n, bias, scalar_bias, alpha);
    case kTanh: return BiasActivateT<kTanh>(C, m, n, bias, scalar_bias, alpha);
    default: return BiasActivateT<kLinear>(C, m, n, bias, scalar_bias, alpha);
  }
}

// dz = dy ⊙ act'(y), the slope written in terms of the activation's output y. dz may be dy (in place).
template <int A>
void SlopeT(float* dz, const float* dy, const float* __restrict y, size_t count, float alpha) {
  for (size_t i = 0; i < count; i++) dz[i] = dy[i] * ActivationSlope(y[i], A, alpha);
}

// ReLU's slope as a select of two values already loaded. Written as `y > 0 ? dy[i] : 0` the load of dy[i]
// is conditional, which the compiler may not hoist, so it emits a data-dependent branch that mispredicts on
// random signs; this form vectorises.
IAPO_MULTIVERSION
void ReluSlope(float* dz, const float* dy, const float* __restrict y, size_t count) {
  for (size_t i = 0; i < count; i++) {
    const float d = dy[i];
    const float v = y[i];
    dz[i] = v > 0.f ? d : 0.f;
  }
}

// ELU's slope from its output: 1 where y > 0, else y + 1 (architecture B's every hidden layer).
IAPO_MULTIVERSION
void EluSlope(float* dz, const float* dy, const float* __restrict y, size_t count) {
  for (size_t i = 0; i < count; i++) dz[i] = dy[i] * (y[i] > 0.f ? 1.f : y[i] + 1.f);
}

void Slope(float* dz, const float* dy, const float* y, size_t count, int act, float alpha) {
  switch (act) {
    case kRelu: return ReluSlope(dz, dy, y, count);
    case kRelu6: return SlopeT<kRelu6>(dz, dy, y, count, alpha);
    case kElu: return EluSlope(dz, dy, y, count);
    case kLeakyRelu: return SlopeT<kLeakyRelu>(dz, dy, y, count, alpha);
    case kSigmoid: return SlopeT<kSigmoid>(dz, dy, y, count, alpha);
    case kTanh: return SlopeT<kTanh>(dz, dy, y, count, alpha);
    default: return SlopeT<kLinear>(dz, dy, y, count, alpha);
  }
}


IAPO_MULTIVERSION
void DotRows(float* __restrict y, const float* __restrict x, const float* __restrict w, int m, int k) {
  for (int r = 0; r < m; r++) y[r] = Dot16(x + static_cast<size_t>(r) * k, w, k);
}

// dx[r,:] = dz[r]·w for dz [m] (one output column) and w [k]: the backward of a one-output layer, an outer
// product. With `relu_slope`, also applies the layer below's ReLU slope, read from its output x
// (the layer's input), so the next layer back needs no separate pass.
IAPO_MULTIVERSION
void OuterRows(float* __restrict dx, const float* __restrict dz, const float* __restrict w, const float* __restrict x, int m,
               int k, bool relu_slope) {
  for (int r = 0; r < m; r++) {
    float* __restrict out = dx + static_cast<size_t>(r) * k;
    const float d = dz[r];
    if (relu_slope) {
      const float* __restrict xr = x + static_cast<size_t>(r) * k;
      for (int j = 0; j < k; j++) {
        const float v = d * w[j];
        out[j] = xr[j] > 0.f ? v : 0.f;
      }
    } else {
      for (int j = 0; j < k; j++) out[j] = d * w[j];
    }
  }
}

// dx[r,i] = dz[r,:]·w[i,:] for a few input columns (k <= 16, e.g. a Q-network's action inputs), w [k,n] rows.
IAPO_MULTIVERSION
void SmallKDx(float* __restrict dx, const float* __restrict dz, const float* __restrict w, int m, int n, int k) {
  for (int r = 0; r < m; r++) {
    for (int i = 0; i < k; i++) dx[static_cast<size_t>(r) * k + i] = Dot16(dz + static_cast<size_t>(r) * n, w + static_cast<size_t>(i) * n, n);
  }
}

// dx = dz·wᵀ for dz [m,n], w [k,n]-as-[k rows of n] (row-major w of a layer [k,n]), choosing the kernel by shape.
void DenseDx(float* dx, const float* dz, const float* w, int m, int n, int k) {
  if (n == 1) {
    CountMacs(static_cast<double>(m) * k);
    return OuterRows(dx, dz, w, nullptr, m, k, false);
  }
  if (k <= kSmallK) {
    CountMacs(static_cast<double>(m) * n * k);
    return SmallKDx(dx, dz, w, m, n, k);
  }
  Sgemm(false, true, m, k, n, dz, w, 0.f, dx);
}

// AddRowProducts for a fixed k: each 16-lane chunk of the row is summed in a register over all k products
// (base + a0·w0 + a1·w1 + …, multiply then add, the order of the loop below), so c is written once instead of
// being read and written k + 2 times.
template <int K>
__attribute__((always_inline)) inline void AddRowProductsK(float* __restrict c, const float* __restrict base, const float* __restrict a,
                                                            const float* __restrict B, int n, bool relu) {
  for (int j = 0; j < n; j++) {
    float v = base[j];
    for (int kk = 0; kk < K; kk++) v += a[kk] * B[static_cast<size_t>(kk) * n + j];
    c[j] = relu ? std::max(v, 0.f) : v;
  }
}

// One row of C = base + a·B for a short a (k values): the products added to the base in order of k. Up to 8
// (every paper task's action count) through AddRowProductsK, inlined into each of this function's CPU versions;
// the same values either way.
IAPO_MULTIVERSION
void AddRowProducts(float* __restrict c, const float* __restrict base, const float* __restrict a, const float* __restrict B, int n, int k,
                    bool relu) {
  switch (k) {
    case 1: return AddRowProductsK<1>(c, base, a, B, n, relu);
    case 2: return AddRowProductsK<2>(c, base, a, B, n, relu);
    case 3: return AddRowProductsK<3>(c, base, a, B, n, relu);
    case 4: return AddRowProductsK<4>(c, base, a, B, n, relu);
    case 5: return AddRowProductsK<5>(c, base, a, B, n, relu);
    case 6: return AddRowProductsK<6>(c, base, a, B, n, relu);
    case 7: return AddRowProductsK<7>(c, base, a, B, n, relu);
    case 8: return AddRowProductsK<8>(c, base, a, B, n, relu);
    default: break;
  }
  for (int j = 0; j < n; j++) c[j] = base[j];
  for (int kk = 0; kk < k; kk++) {
    const float s = a[kk];
    const float* __restrict w = B + static_cast<size_t>(kk) * n;
    for (int j = 0; j < n; j++) c[j] += s * w[j];
  }
  if (relu) {  // while the row is in L1
    for (int j = 0; j < n; j++) c[j] = std::max(c[j], 0.f);
  }
}

// Vectorised across columns, so every CPU version gives the same sums.
IAPO_MULTIVERSION
void AddColumnSums(double* __restrict out, const float* __restrict v, int m, int n) {
  for (int r = 0; r < m; r++) {
    const float* row = v + static_cast<size_t>(r) * n;
    for (int j = 0; j < n; j++) out[j] += row[j];
  }
}

IAPO_MULTIVERSION
void AddInto(float* __restrict to, const float* __restrict from, size_t count) {
  for (size_t e = 0; e < count; e++) to[e] += from[e];
}

}  // namespace iapo_native
