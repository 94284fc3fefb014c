// The dense layer's building blocks, shared by the single-layer calls (dense_layer.cc) and the whole-network
// passes (mlp_passes.cc): OpenBLAS's sgemm, activations and their slopes, and thin products where sgemm's packing
// costs more than the arithmetic. Per-element helpers are inline here so every caller's loops vectorise them.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

// Declared here rather than taken from cblas.h, so the build needs only libopenblas.so (its header path
// differs between Debian's pthread/openmp/serial variants).
extern "C" {
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace iapo_native {

// Activation codes shared with lib/backend/native.ts (ACTIVATION_CODES).
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5, kTanh = 6 };
// Bias layouts shared with lib/backend/native.ts: none, one value per output column, one scalar.
enum BiasMode { kNoBias = 0, kPerColumn = 1, kScalar = 2 };

// e^x in plain arithmetic (Cephes' expf: x = n·ln 2 + r, a degree-7 polynomial for e^r, 2^n put into the
// exponent bits), so loops of it vectorise: libm's expf is a call per element, and in a normalised ELU layer
// with a highway gate those calls cost more than the layer's matmul. Used for ELU and sigmoid everywhere.
// Within ~2 ulp of expf; inputs clamped to where float neither overflows nor flushes to zero.
__attribute__((always_inline)) inline float ExpF(float x) {
  x = std::min(88.3762626647949f, std::max(-87.3365447504019f, x));
  // n = round(x / ln 2) by adding and subtracting 1.5·2^23 (no floor: that is a branch or a call where the CPU
  // lacks a rounding instruction, and stops the loop vectorising)
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * (r * r) + r + 1.f;
  int32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += static_cast<int32_t>(n) << 23;
  std::memcpy(&p, &bits, 4);
  return p;
}

__attribute__((always_inline)) inline float Activate(float x, int act, float alpha) {
  switch (act) {
    case kRelu: return std::max(x, 0.f);
    case kRelu6: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
    case kElu: return x > 0.f ? x : ExpF(x) - 1.f;
    case kLeakyRelu: return x < 0.f ? alpha * x : x;
    case kSigmoid: return 1.f / (1.f + ExpF(-x));
    case kTanh: return std::tanh(x);
    default: return x;
  }
}

// d activation / d input, written in terms of the activation's output y (what the forward pass kept).
__attribute__((always_inline)) inline float ActivationSlope(float y, int act, float alpha) {
  switch (act) {
    case kRelu: return static_cast<float>(y > 0.f);
    case kRelu6: return (y > 0.f && y < 6.f) ? 1.f : 0.f;
    case kElu: return y >= 0.f ? 1.f : y + 1.f;
    case kLeakyRelu: return y > 0.f ? 1.f : alpha;
    case kSigmoid: return y * (1.f - y);
    case kTanh: return 1.f - y * y;
    default: return 1.f;
  }
}

// Hot elementwise loops are compiled for AVX-512 and AVX2 as well as the baseline, chosen at load time by the
// CPU (GCC function multiversioning), so they run 16 or 8 lanes wide where the machine has them while the addon
// still loads anywhere. Results are bit-identical across versions: -ffp-contract=off forbids fused multiply-adds
// and -fno-math-errno only lets sqrt vectorise (it stays correctly rounded).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define IAPO_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define IAPO_MULTIVERSION
#endif

inline float Sigmoid(float x) { return 1.f / (1.f + ExpF(-x)); }

// Multiply-adds done by the kernels since load (macCount()): the benchmark's FLOP counts are checked against it.
inline std::atomic<uint64_t> g_macs{0};
inline void CountMacs(double macs) { g_macs.fetch_add(static_cast<uint64_t>(macs), std::memory_order_relaxed); }

// Row-major C = op(A)·op(B) + beta·C. OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1, set by
// lib/backend/blas-env.ts): iapo parallelises above it (mlpPasses), where a thread gets a whole network or half
// of the rows, which costs less than handing every product of these sizes to a pool of BLAS threads.
inline void Sgemm(bool ta, bool tb, int m, int n, int k, const float* A, const float* B, float beta, float* C) {
  CountMacs(static_cast<double>(m) * n * k);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, A, ta ? m : k, B,
              tb ? k : n, beta, C, n);
}

// a·b over n values with 16 interleaved partial sums: a fixed order, so the result does not depend on the
// machine's vector width. Inlined into each multiversioned caller, so it is vectorised as that caller is.
__attribute__((always_inline)) inline float Dot16(const float* __restrict a, const float* __restrict b, int n) {
  float part[16] = {0};
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    for (int l = 0; l < 16; l++) part[l] += a[j + l] * b[j + l];
  }
  for (; j < n; j++) part[j % 16] += a[j] * b[j];
  float s = 0.f;
  for (int l = 0; l < 16; l++) s += part[l];
  return s;
}


// Input columns up to which a product runs on the thin kernels (SmallKDx, AddRowProducts) instead of sgemm.
constexpr int kSmallK = 16;

// Adds the bias (per column, or one scalar) and applies the activation to C [m,n] in place.
void BiasActivate(float* C, int m, int n, const float* bias, bool scalar_bias, int act, float alpha);
// dz = dy ⊙ act'(y), the slope written in terms of the activation's output y. dz may be dy (in place).
void Slope(float* dz, const float* dy, const float* y, size_t count, int act, float alpha);
// y[r] = x[r,:]·w for x [m,k], w [k] (a layer with one output, e.g. a Q-network's last).
void DotRows(float* y, const float* x, const float* w, int m, int k);
// dx[r,:] = dz[r]·w for dz [m] and w [k] (a one-output layer's backward); with `relu_slope`, also applies the
// layer below's ReLU slope, read from its output x.
void OuterRows(float* dx, const float* dz, const float* w, const float* x, int m, int k, bool relu_slope);
// dx = dz·wᵀ for dz [m,n], w [k,n]-as-[k rows of n], choosing the kernel by shape.
void DenseDx(float* dx, const float* dz, const float* w, int m, int n, int k);
// One row of C = base + a·B for a short a (k values), with ReLU where `relu`.
void AddRowProducts(float* c, const float* base, const float* a, const float* B, int n, int k, bool relu);
// Adds each column of v [m, n] to its double sum out[n], rows in order.
void AddColumnSums(double* out, const float* v, int m, int n);
// to[e] += from[e].
void AddInto(float* to, const float* from, size_t count);

}  // namespace iapo_native
