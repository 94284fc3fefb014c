// iapo's native kernels: OpenBLAS sgemm with fused bias + activation, the matching dense backward pass,
// and an in-place Adam. Every function works directly on a caller's ArrayBuffer (the tfjs wasm heap),
// addressed by byte offsets, so no tensor is ever copied between JavaScript and C.
#include <node_api.h>

#include "packed_gemm.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

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

namespace {

// Activation codes shared with lib/backend/native.ts (ACTIVATION_CODES).
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5, kTanh = 6 };
// Bias layouts shared with lib/backend/native.ts: none, one value per output column, one scalar.
enum BiasMode { kNoBias = 0, kPerColumn = 1, kScalar = 2 };

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, nullptr, "iapo_native: " #call);     \
      return nullptr;                                            \
    }                                                            \
  } while (0)

struct Args {
  napi_env env;
  napi_value argv[20];
  size_t argc = 20;
};

bool GetArgs(napi_env env, napi_callback_info info, Args* a, size_t needed) {
  a->env = env;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, nullptr, nullptr) != napi_ok) return false;
  if (a->argc < needed) {
    napi_throw_type_error(env, nullptr, "iapo_native: too few arguments");
    return false;
  }
  return true;
}

// Base pointer and length of an ArrayBuffer (the heap), or nullptr with a JS error thrown.
uint8_t* Heap(napi_env env, napi_value v, size_t* length) {
  void* data = nullptr;
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (!is_ab || napi_get_arraybuffer_info(env, v, &data, length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "iapo_native: the heap must be an ArrayBuffer");
    return nullptr;
  }
  return static_cast<uint8_t*>(data);
}

// The arguments of a kernel call whose first argument is the heap: its base pointer and length, or nullptr with
// a JS error thrown (too few arguments, or no ArrayBuffer).
uint8_t* HeapCall(napi_env env, napi_callback_info info, Args* a, size_t needed, size_t* heap_len) {
  if (!GetArgs(env, info, a, needed)) return nullptr;
  return Heap(env, a->argv[0], heap_len);
}

double Num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

// e^x in plain arithmetic (Cephes' expf: x = n·ln 2 + r, a degree-7 polynomial for e^r, 2^n put into the
// exponent bits), so loops of it vectorise: libm's expf is a call per element, and in a normalised ELU layer
// with a highway gate those calls cost more than the layer's matmul (one B-shaped Q-network's forward on 256
// rows: 18.8 ms with expf, 10.5 with this; its matmuls are ~6 ms). Used for ELU and sigmoid everywhere.
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

// Adds the bias and applies the activation to C [m,n] in place. One loop per activation (not a switch per
// element), so the compiler can vectorise each.
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
// is conditional, which the compiler may not hoist, so it emitted a data-dependent branch: ~6 ns per element
// on random signs (0.4 ms per 256x256, measured), against ~0.1 ns for this form.
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

// Row-major C = op(A)·op(B) + beta·C. OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1, set by
// lib/backend/blas-env.ts): iapo parallelises above it (mlpPasses), where a thread gets a whole network or half
// of the rows, instead of handing every product to a pool (measured here: a 2560x256x6 product took 0.66 ms on
// one BLAS thread and 1.87 ms on two).
// Multiply-adds done by the kernels below since load (macCount()): the benchmark's FLOP counts are checked
// against it.
std::atomic<uint64_t> g_macs{0};
inline void CountMacs(double macs) { g_macs.fetch_add(static_cast<uint64_t>(macs), std::memory_order_relaxed); }

void Sgemm(bool ta, bool tb, int m, int n, int k, const float* A, const float* B, float beta, float* C) {
  CountMacs(static_cast<double>(m) * n * k);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, A, ta ? m : k, B,
              tb ? k : n, beta, C, n);
}

// --- Thin products, where sgemm's packing costs more than the arithmetic ---

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

// y[r] = x[r,:]·w for x [m,k], w [k] (a layer with one output, e.g. a Q-network's last).
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

constexpr int kSmallK = 16;

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

// Bounds check: [offset, offset + bytes) must lie inside the heap.
bool InHeap(napi_env env, size_t heap_len, double offset, double bytes) {
  if (offset < 0 || bytes < 0 || offset + bytes > static_cast<double>(heap_len)) {
    napi_throw_range_error(env, nullptr, "iapo_native: tensor lies outside the heap");
    return false;
  }
  return true;
}

// gemm(heap, batch, m, n, k, transA, transB, aOff, aStride, bOff, bStride, cOff, biasOff, biasMode, act, alpha)
// C[i] = act(op(A[i]) · op(B[i]) + bias) for i < batch; offsets and strides in bytes (stride 0 broadcasts).
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 16, &heap_len);
  if (!heap) return nullptr;
  const int batch = static_cast<int>(Num(env, a.argv[1]));
  const int m = static_cast<int>(Num(env, a.argv[2]));
  const int n = static_cast<int>(Num(env, a.argv[3]));
  const int k = static_cast<int>(Num(env, a.argv[4]));
  bool ta = false, tb = false;
  napi_get_value_bool(env, a.argv[5], &ta);
  napi_get_value_bool(env, a.argv[6], &tb);
  const double a_off = Num(env, a.argv[7]), a_stride = Num(env, a.argv[8]);
  const double b_off = Num(env, a.argv[9]), b_stride = Num(env, a.argv[10]);
  const double c_off = Num(env, a.argv[11]);
  const double bias_off = Num(env, a.argv[12]);
  const int bias_mode = static_cast<int>(Num(env, a.argv[13]));
  const int act = static_cast<int>(Num(env, a.argv[14]));
  const float alpha = static_cast<float>(Num(env, a.argv[15]));
  if (batch < 0 || m < 0 || n < 0 || k < 0) {
    napi_throw_range_error(env, nullptr, "iapo_native: negative dimension");
    return nullptr;
  }
  const double mn = 4.0 * m * n, mk = 4.0 * m * k, kn = 4.0 * k * n;
  if (batch == 0 || mn == 0) return nullptr;
  if (!InHeap(env, heap_len, a_off, a_stride * (batch - 1) + mk) ||
      !InHeap(env, heap_len, b_off, b_stride * (batch - 1) + kn) ||
      !InHeap(env, heap_len, c_off, mn * batch) ||
      (bias_mode == kPerColumn && !InHeap(env, heap_len, bias_off, 4.0 * n)) ||
      (bias_mode == kScalar && !InHeap(env, heap_len, bias_off, 4.0))) {
    return nullptr;
  }
  const float* bias = bias_mode == kNoBias ? nullptr : reinterpret_cast<const float*>(heap + static_cast<size_t>(bias_off));
  for (int i = 0; i < batch; i++) {
    const float* A = reinterpret_cast<const float*>(heap + static_cast<size_t>(a_off + a_stride * i));
    const float* B = reinterpret_cast<const float*>(heap + static_cast<size_t>(b_off + b_stride * i));
    float* C = reinterpret_cast<float*>(heap + static_cast<size_t>(c_off + mn * i));
    if (k == 0) {
      std::memset(C, 0, static_cast<size_t>(mn));
    } else if (n == 1 && !ta) {
      CountMacs(static_cast<double>(m) * k);
      DotRows(C, A, B, m, k);  // B [k,1] is k contiguous values, transposed or not
    } else {
      Sgemm(ta, tb, m, n, k, A, B, 0.f, C);
    }
    if (bias_mode == kNoBias && act == kLinear) continue;
    BiasActivate(C, m, n, bias_mode == kNoBias ? nullptr : bias, bias_mode == kScalar, act, alpha);
  }
  return nullptr;
}

// AddRowProducts for a fixed k: each 16-lane chunk of the row is summed in a register over all k products
// (base + a0·w0 + a1·w1 + …, multiply then add, the order of the loop below), so c is written once instead of
// being read and written k + 2 times. Measured against that loop, alternating in-process blocks of iterative
// N = 10 updates: 146 against 154 ms median on two threads (faster in 8 of 10), 269 against 289 on one (6 of 6).
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

std::vector<float> g_scratch;  // dz of the dense backward pass; JS is single-threaded, so one buffer serves.

// denseGrad(heap, m, n, k, xOff, wOff, yOff, dyOff, dxOff, dwOff, dbOff, act, alpha[, accumulate])
// For y = act(x·w + b) with x [m,k], w [k,n]: dz = dy ⊙ act'(y); dx = dz·wᵀ; dw = xᵀ·dz; db = Σ_rows dz.
// dxOff, dwOff or dbOff < 0 skips that output (a backward to the inputs only needs no dw). With accumulate,
// dw and db are added to what they hold (a network applied several times sums its gradients); dx is always
// overwritten.
napi_value DenseGrad(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 13, &heap_len);
  if (!heap) return nullptr;
  const int m = static_cast<int>(Num(env, a.argv[1]));
  const int n = static_cast<int>(Num(env, a.argv[2]));
  const int k = static_cast<int>(Num(env, a.argv[3]));
  const double x_off = Num(env, a.argv[4]), w_off = Num(env, a.argv[5]), y_off = Num(env, a.argv[6]);
  const double dy_off = Num(env, a.argv[7]), dx_off = Num(env, a.argv[8]), dw_off = Num(env, a.argv[9]);
  const double db_off = Num(env, a.argv[10]);
  const int act = static_cast<int>(Num(env, a.argv[11]));
  const float alpha = static_cast<float>(Num(env, a.argv[12]));
  bool accumulate = false;
  if (a.argc > 13) napi_get_value_bool(env, a.argv[13], &accumulate);
  if (m < 0 || n < 0 || k < 0) {
    napi_throw_range_error(env, nullptr, "iapo_native: negative dimension");
    return nullptr;
  }
  const double mn = 4.0 * m * n, mk = 4.0 * m * k, kn = 4.0 * k * n;
  if (!InHeap(env, heap_len, x_off, mk) || !InHeap(env, heap_len, w_off, kn) ||
      !InHeap(env, heap_len, y_off, mn) || !InHeap(env, heap_len, dy_off, mn) ||
      (dw_off >= 0 && !InHeap(env, heap_len, dw_off, kn)) || (dx_off >= 0 && !InHeap(env, heap_len, dx_off, mk)) ||
      (db_off >= 0 && !InHeap(env, heap_len, db_off, 4.0 * n))) {
    return nullptr;
  }
  auto F = [heap](double off) { return reinterpret_cast<float*>(heap + static_cast<size_t>(off)); };
  const float* x = F(x_off);
  const float* w = F(w_off);
  const float* y = F(y_off);
  const float* dy = F(dy_off);
  const size_t count = static_cast<size_t>(m) * n;
  const float* dz = dy;
  if (act != kLinear) {
    if (g_scratch.size() < count) g_scratch.resize(count);
    Slope(g_scratch.data(), dy, y, count, act, alpha);
    dz = g_scratch.data();
  }
  if (db_off >= 0) {
    float* db = F(db_off);
    std::vector<double> sums(n, 0.0);
    for (int r = 0; r < m; r++) {
      const float* row = dz + static_cast<size_t>(r) * n;
      for (int j = 0; j < n; j++) sums[j] += row[j];
    }
    for (int j = 0; j < n; j++) db[j] = accumulate ? db[j] + static_cast<float>(sums[j]) : static_cast<float>(sums[j]);
  }
  if (dw_off >= 0) {
    float* dw = F(dw_off);
    if (m == 0 || n == 0) {
      if (!accumulate) std::memset(dw, 0, static_cast<size_t>(kn));
    } else if (k > 0) {
      Sgemm(true, false, k, n, m, x, dz, accumulate ? 1.f : 0.f, dw);
    }
  }
  if (dx_off >= 0 && m > 0 && k > 0) {
    float* dx = F(dx_off);
    if (n == 0) {
      std::memset(dx, 0, static_cast<size_t>(mk));
    } else {
      DenseDx(dx, dz, w, m, n, k);
    }
  }
  return nullptr;
}

// --- Whole-network passes, blocked by rows, two networks at once ---
//
// mlpPasses runs the forward or the backward pass of one or more plain dense chains (HeapMlp) in one call.
// Each network's rows go through all its layers a block at a time, so a block's activations and gradients stay
// in L2 (a 2560x256 activation does not fit; each separate elementwise pass over it cost ~0.5 ms). Two networks
// (SAC's two Q-networks) run at the same time, one on a worker thread, each with single-threaded BLAS: on two
// cores that halves their time without the per-product thread hand-offs of a threaded sgemm.

int g_threads = 1;  // setThreads: 2 lets mlpPasses and the per-tensor kernels share work with the worker thread (Team)
// Which packed-GEMM kernels mlpPasses runs its products on (packed_gemm.h), kNone for sgemm; setPackedGemm
// chooses (tests compare them).
iapo::Isa g_gemm_isa = iapo::BestIsa();

// The calling thread and one persistent worker share a job's tasks, each claiming tasks as it is free. On a
// shared VM a vCPU can be descheduled for milliseconds (steal time); with fixed halves the caller would wait for
// a worker that is not running, while here it simply runs the remaining tasks itself. The worker only ever runs
// tasks of the job in progress: it registers (active_) before checking that a job is open, and the caller closes
// the job and waits for registered workers before returning (sequentially consistent atomics order the two).
//
// Between jobs the worker spins (pause instructions, a clock check every 64) for kSpinMicros, then sleeps on a
// condition variable; the caller pays for the futex wake only when the worker sleeps. An SAC update's native calls
// are separated by up to a few hundred µs of JavaScript, and a training step's environment step is shorter still,
// so during training the worker never sleeps. Measured here (per-call traces): a woken worker started its first
// task 70-150 µs into a call and then ran it ~1.5x slower than the caller ran its own (a cold core), while a
// spinning one starts within 2 µs; interleaved update by update, direct updates took 5-7% less time than with a
// 200 µs yield loop, iterative ones 3-10% less.
constexpr int kSpinMicros = 3000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Team {
 public:
  static Team* Get() {
    static Team* team = new Team();  // never deleted: the detached worker may outlive statics
    return team;
  }

  static constexpr int kMaxTasks = 32;  // one bit each in claimed_

  // Runs task(0) .. task(n − 1) (n <= kMaxTasks), on this thread and the worker, and returns when all are done.
  // This thread claims tasks from the front, the worker from the back, until they meet: consecutive calls that
  // list the same network's tasks in the same place (a forward pass, then its backward) find its weights and
  // activations in the same core's L2.
  void Run(int n, const std::function<void(int)>& task) {
    if (n > kMaxTasks) {
      for (int i = 0; i < n; i++) task(i);
      return;
    }
    task_ = &task;
    count_ = n;
    claimed_.store(0);
    open_.store(true);
    epoch_.fetch_add(1);
    // Either the worker saw sleeping_ set after this epoch, and its wait's check (under mu_) sees the new epoch,
    // or this thread sees sleeping_ and wakes it, taking mu_ first so the wake cannot fall before the wait.
    if (sleeping_.load()) {
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_.notify_one();
    }
    for (int i = 0; i < n && Claim(i); i++) task(i);
    open_.store(false);
    while (active_.load() != 0) std::this_thread::yield();
  }

 private:
  Team() { std::thread([this] { Loop(); }).detach(); }

  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
      for (int spins = 1; epoch_.load() == seen; spins++) {
        CpuRelax();
        if (spins % 64 == 0 && std::chrono::steady_clock::now() >= spin_until) break;
      }
      if (epoch_.load() == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        sleeping_.store(true);
        cv_.wait(lock, [&] { return epoch_.load() != seen; });
        sleeping_.store(false);
      }
      seen = epoch_.load();
      active_.fetch_add(1);
      if (open_.load()) {
        for (int i = count_ - 1; i >= 0 && Claim(i); i--) (*task_)(i);
      }
      active_.fetch_sub(1);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> epoch_{0};    // one more per job
  std::atomic<bool> sleeping_{false};  // the worker is (about to be) waiting on cv_
  std::atomic<bool> open_{false};
  std::atomic<int> active_{0};
  // Task i is this thread's to run if it set bit i first. Each side claims in its own order without gaps, so
  // the first task it finds taken means the other side has taken all the rest.
  bool Claim(int i) { return (claimed_.fetch_or(1u << i) & (1u << i)) == 0; }

  std::atomic<uint32_t> claimed_{0};
  int count_ = 0;                                    // written before open_ is set
  const std::function<void(int)>* task_ = nullptr;  // likewise
};

// Runs fn(begin, end) over [0, items): in one call, or, where there are two threads and at least `parallel_from`
// items, in 8 consecutive ranges shared by this thread and the worker. For loops whose items are independent, so
// the result never depends on the thread count.
void InChunks(size_t items, size_t parallel_from, const std::function<void(size_t, size_t)>& fn) {
  constexpr int kChunks = 8;
  if (g_threads >= 2 && items >= parallel_from) {
    Team::Get()->Run(kChunks, [&](int c) { fn(items * c / kChunks, items * (c + 1) / kChunks); });
  } else {
    fn(0, items);
  }
}

constexpr int kMaxDepth = 8;
constexpr int kPassHead = 9;   // rows, depth, input, base, baseRows, split, dOut, dInput, accumulate
// Per layer: w, b, k, n, act, out, dw, db, then for a normalised / highway layer (-1 where it has none):
// gain, normBias, epsilon, gateW, gateB, xhat, rstd, f, g, dGain, dNormBias, dGateW, dGateB.
constexpr int kPassLayer = 21;

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

// Reads passes from a Float64Array table and checks every region against the heap; false with a JS error.
bool ReadPasses(napi_env env, uint8_t* heap, size_t heap_len, const double* t, size_t length, int count, bool backward,
                std::vector<Pass>* out) {
  auto fail = [env](const char* why) {
    napi_throw_range_error(env, nullptr, why);
    return false;
  };
  auto ptr = [heap](double off) { return off < 0 ? nullptr : reinterpret_cast<float*>(heap + static_cast<size_t>(off)); };
  size_t at = 0;
  for (int p = 0; p < count; p++) {
    if (at + kPassHead > length) return fail("iapo_native: mlpPasses table shorter than its count");
    Pass pass{};
    pass.rows = static_cast<int>(t[at]);
    pass.depth = static_cast<int>(t[at + 1]);
    pass.split = static_cast<int>(t[at + 5]);
    pass.base_rows = static_cast<int>(t[at + 4]);
    pass.accumulate = t[at + 8] != 0;
    if (pass.rows < 0 || pass.depth < 1 || pass.depth > kMaxDepth) return fail("iapo_native: mlpPasses needs rows >= 0 and 1..8 layers");
    if (at + kPassHead + static_cast<size_t>(kPassLayer) * pass.depth > length) return fail("iapo_native: mlpPasses table too short");
    const double* head = t + at;
    at += kPassHead;
    pass.max_width = 0;
    for (int i = 0; i < pass.depth; i++, at += kPassLayer) {
      const double* l = t + at;
      PassLayer& L = pass.layers[i];
      L.k = static_cast<int>(l[2]);
      L.n = static_cast<int>(l[3]);
      L.act = static_cast<int>(l[4]);
      if (L.k < 1 || L.n < 1) return fail("iapo_native: mlpPasses layer with an empty side");
      if (i > 0 && L.k != pass.layers[i - 1].n) return fail("iapo_native: mlpPasses layers do not chain");
      if (!InHeap(env, heap_len, l[0], 4.0 * L.k * L.n) || (l[1] >= 0 && !InHeap(env, heap_len, l[1], 4.0 * L.n)) ||
          !InHeap(env, heap_len, l[5], 4.0 * pass.rows * L.n)) {
        return false;
      }
      L.w = ptr(l[0]);
      L.b = ptr(l[1]);
      L.out = ptr(l[5]);
      L.dw = nullptr;
      L.db = nullptr;
      if (backward) {
        if ((l[6] >= 0 && !InHeap(env, heap_len, l[6], 4.0 * L.k * L.n)) || (l[7] >= 0 && !InHeap(env, heap_len, l[7], 4.0 * L.n))) return false;
        L.dw = ptr(l[6]);
        L.db = ptr(l[7]);
      }
      if (l[8] >= 0 || l[11] >= 0) {
        const double rows_n = 4.0 * pass.rows * L.n;
        const bool norm = l[8] >= 0, gate = l[11] >= 0;
        if (gate && (L.k != L.n || i == 0)) return fail("iapo_native: mlpPasses: a highway gate needs a later layer with as many inputs as outputs");
        if ((norm && (!InHeap(env, heap_len, l[8], 4.0 * L.n) || !InHeap(env, heap_len, l[9], 4.0 * L.n) ||
                      !InHeap(env, heap_len, l[13], rows_n) || !InHeap(env, heap_len, l[14], 4.0 * pass.rows))) ||
            (gate && (!InHeap(env, heap_len, l[11], 4.0 * L.k * L.n) || !InHeap(env, heap_len, l[12], 4.0 * L.n) ||
                      !InHeap(env, heap_len, l[16], rows_n))) ||
            !InHeap(env, heap_len, l[15], rows_n)) {
          return false;
        }
        if (norm) {
          L.gain = ptr(l[8]);
          L.nbias = ptr(l[9]);
          L.eps = static_cast<float>(l[10]);
          L.xhat = ptr(l[13]);
          L.rstd = ptr(l[14]);
        }
        if (gate) {
          L.gate_w = ptr(l[11]);
          L.gate_b = ptr(l[12]);
          L.g = ptr(l[16]);
        }
        L.f = ptr(l[15]);
        if (backward) {
          if ((l[17] >= 0 && !InHeap(env, heap_len, l[17], 4.0 * L.n)) || (l[18] >= 0 && !InHeap(env, heap_len, l[18], 4.0 * L.n)) ||
              (l[19] >= 0 && !InHeap(env, heap_len, l[19], 4.0 * L.k * L.n)) || (l[20] >= 0 && !InHeap(env, heap_len, l[20], 4.0 * L.n))) {
            return false;
          }
          L.dgain = ptr(l[17]);
          L.dnbias = ptr(l[18]);
          L.dgate_w = ptr(l[19]);
          L.dgate_b = ptr(l[20]);
        }
      }
      pass.max_width = std::max({pass.max_width, L.k, L.n});
    }
    const PassLayer& first = pass.layers[0];
    if (pass.split < 0 || pass.split >= first.k) return fail("iapo_native: mlpPasses split must be in [0, k of the first layer)");
    if (pass.split > 0 && first.dw) return fail("iapo_native: mlpPasses: weight gradients need the whole input (split 0)");
    const int kx = first.k - pass.split;
    if (!InHeap(env, heap_len, head[2], 4.0 * pass.rows * kx)) return false;
    pass.input = ptr(head[2]);
    pass.base = nullptr;
    if (head[3] >= 0) {
      if (pass.base_rows < 1 || !InHeap(env, heap_len, head[3], 4.0 * pass.base_rows * first.n)) return fail("iapo_native: mlpPasses base outside the heap or baseRows < 1");
      pass.base = ptr(head[3]);
    } else if (pass.split > 0) {
      return fail("iapo_native: mlpPasses: a split first layer needs its base");
    }
    pass.d_out = nullptr;
    pass.d_input = nullptr;
    if (backward) {
      if (!InHeap(env, heap_len, head[6], 4.0 * pass.rows * pass.layers[pass.depth - 1].n)) return false;
      pass.d_out = ptr(head[6]);
      if (head[7] >= 0) {
        if (!InHeap(env, heap_len, head[7], 4.0 * pass.rows * kx)) return false;
        pass.d_input = ptr(head[7]);
      }
    }
    out->push_back(pass);
  }
  return true;
}

// Rows per block: about 64k floats per activation block (256 KB), so a 256-wide layer's weights, input and output
// blocks fit in this machine's 1.25 MB L2 together while sgemm packs the weights once per 256 rows. Measured
// interleaved against 32k-float blocks: the same on direct updates and on Q architecture B, 0-10% faster on
// iterative ones.
int BlockRows(const Pass& p) { return std::max(8, std::min(p.rows, 65536 / std::max(1, p.max_width))); }

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
thread_local ThreadScratch t_scratch;

inline float Sigmoid(float x) { return 1.f / (1.f + ExpF(-x)); }

// f = act(xhat·gain + bias) along a row, one loop per activation so each vectorises (ELU and sigmoid via ExpF).
IAPO_MULTIVERSION
void NormActivateRow(float* __restrict f, const float* __restrict xhat, const float* __restrict gain, const float* __restrict bias, int n,
                     int act, float alpha) {
  if (act == kElu) {
    for (int j = 0; j < n; j++) {
      const float u = xhat[j] * gain[j] + bias[j];
      const float e = ExpF(u) - 1.f;
      f[j] = u > 0.f ? u : e;
    }
  } else if (act == kRelu) {
    for (int j = 0; j < n; j++) f[j] = std::max(xhat[j] * gain[j] + bias[j], 0.f);
  } else {
    for (int j = 0; j < n; j++) f[j] = Activate(xhat[j] * gain[j] + bias[j], act, alpha);
  }
}

// A normalised layer's row: mean and population variance of z (as tf.moments), xhat = (z − mean)/sqrt(var + ε).
// Returns 1/sqrt(var + ε).
IAPO_MULTIVERSION
float NormalizeRow(float* __restrict xhat, const float* __restrict z, int n, float eps) {
  float part[16] = {0};
  for (int j = 0; j < n; j++) part[j % 16] += z[j];
  float sum = 0.f;
  for (int l = 0; l < 16; l++) sum += part[l];
  const float mu = sum / static_cast<float>(n);
  float sq[16] = {0};
  for (int j = 0; j < n; j++) {
    const float d = z[j] - mu;
    sq[j % 16] += d * d;
  }
  float var = 0.f;
  for (int l = 0; l < 16; l++) var += sq[l];
  const float sd = std::sqrt(var / static_cast<float>(n) + eps);
  for (int j = 0; j < n; j++) xhat[j] = (z[j] - mu) / sd;
  return 1.f / sd;
}

// out = g ⊙ x + (1 − g) ⊙ f along a row, g = sigmoid(gz + gate_b) (kept in g).
IAPO_MULTIVERSION
void HighwayRow(float* __restrict out, float* __restrict g, const float* __restrict gz, const float* __restrict gate_b, const float* __restrict x,
                const float* __restrict f, int n) {
  for (int j = 0; j < n; j++) {
    const float gv = Sigmoid(gz[j] + gate_b[j]);
    g[j] = gv;
    out[j] = gv * x[j] + (1.f - gv) * f[j];
  }
}

// A normalised / highway layer's forward on rows [r0, r0 + m) after x·w + b: with layer norm, z is that
// pre-activation [m, n] and this fills xhat, rstd and f; without, f already holds act(x·w + b). Then the gate.
void RichForward(const PassLayer& L, const float* x, const float* z, int r0, int m, float alpha, float* gate_scratch) {
  const int n = L.n;
  for (int r = 0; L.gain && r < m; r++) {
    float* xr = L.xhat + static_cast<size_t>(r0 + r) * n;
    L.rstd[r0 + r] = NormalizeRow(xr, z + static_cast<size_t>(r) * n, n, L.eps);
    NormActivateRow(L.f + static_cast<size_t>(r0 + r) * n, xr, L.gain, L.nbias, n, L.act, alpha);
  }
  if (!L.gate_w) return;  // f is the output (the trace passes out as f)
  Sgemm(false, false, m, n, L.k, x, L.gate_w, 0.f, gate_scratch);
  for (int r = 0; r < m; r++) {
    const size_t row = static_cast<size_t>(r0 + r) * n;
    HighwayRow(L.out + row, L.g + row, gate_scratch + static_cast<size_t>(r) * n, L.gate_b, x + static_cast<size_t>(r) * L.k, L.f + row, n);
  }
}

void ForwardBlock(const Pass& p, int r0, int m, float alpha) {
  ThreadScratch* s = &t_scratch;
  for (int i = 0; i < p.depth; i++) {
    const PassLayer& L = p.layers[i];
    // x·w + b: a normalised layer's to scratch (RichForward normalises and activates it), a highway layer's
    // activated into f (RichForward adds the gate), a plain layer's activated into out.
    const bool rich = L.Rich();
    float* y = L.gain ? s->z.data() : (rich ? L.f : L.out) + static_cast<size_t>(r0) * L.n;
    const int act = L.gain ? kLinear : L.act;
    const float* x;
    if (i == 0 && p.base) {
      const int kx = L.k - p.split;
      x = p.input + static_cast<size_t>(r0) * kx;
      const float* w = L.w + static_cast<size_t>(p.split) * L.n;
      if (kx <= kSmallK) {
        CountMacs(static_cast<double>(m) * L.n * kx);
        for (int r = 0; r < m; r++) {
          AddRowProducts(y + static_cast<size_t>(r) * L.n, p.base + static_cast<size_t>((r0 + r) % p.base_rows) * L.n,
                         x + static_cast<size_t>(r) * kx, w, L.n, kx, act == kRelu);
        }
        if (act != kRelu && act != kLinear) BiasActivate(y, m, L.n, nullptr, false, act, alpha);
      } else {
        for (int r = 0; r < m; r++) {
          std::memcpy(y + static_cast<size_t>(r) * L.n, p.base + static_cast<size_t>((r0 + r) % p.base_rows) * L.n, 4 * static_cast<size_t>(L.n));
        }
        Sgemm(false, false, m, L.n, kx, x, w, 1.f, y);
        if (act != kLinear) BiasActivate(y, m, L.n, nullptr, false, act, alpha);
      }
    } else {
      x = i == 0 ? p.input + static_cast<size_t>(r0) * L.k : p.layers[i - 1].out + static_cast<size_t>(r0) * L.k;
      if (L.n == 1) {
        CountMacs(static_cast<double>(m) * L.k);
        DotRows(y, x, L.w, m, L.k);
      } else if (L.packed) {
        CountMacs(static_cast<double>(m) * L.n * L.k);
        iapo::Epilogue e;
        e.bias = L.b;
        e.relu = act == kRelu;
        iapo::GemmPacked(g_gemm_isa, y, L.n, x, L.k, m, *L.packed, e);
        if (act != kRelu && act != kLinear) BiasActivate(y, m, L.n, nullptr, false, act, alpha);
      } else {
        Sgemm(false, false, m, L.n, L.k, x, L.w, 0.f, y);
      }
      if (!L.packed && (L.b || act != kLinear)) BiasActivate(y, m, L.n, L.b, false, act, alpha);
    }
    if (rich) RichForward(L, x, y, r0, m, alpha, s->a.data());
  }
}

// Where one share of a backward pass's rows sums its weight gradients: dw and the gate's dw per layer (the first
// block overwrites them when `fresh`, later blocks add), and the vector gradients as double sums.
struct Reduction {
  float* dw[kMaxDepth];
  float* dgate_w[kMaxDepth];
  bool fresh[kMaxDepth];
  bool fresh_gate[kMaxDepth];
  std::vector<double> db[kMaxDepth], dgain[kMaxDepth], dnbias[kMaxDepth], dgate_b[kMaxDepth];
};

// Adds each column of v [m, n] to its double sum, rows in order: vectorised across columns, so every CPU version
// gives the same sums (measured: direct updates ~0.09 ms faster than the baseline build's two-lane loop).
IAPO_MULTIVERSION
void AddColumnSums(double* __restrict out, const float* __restrict v, int m, int n) {
  for (int r = 0; r < m; r++) {
    const float* row = v + static_cast<size_t>(r) * n;
    for (int j = 0; j < n; j++) out[j] += row[j];
  }
}

// Gate backward along a row: dgz = dy ⊙ (x − f) ⊙ g(1 − g) (d of the gate's pre-activation), df = dy ⊙ (1 − g).
IAPO_MULTIVERSION
void GateBackRow(float* __restrict dgz, float* __restrict df, const float* __restrict dy, const float* __restrict x, const float* __restrict f,
                 const float* __restrict g, int n) {
  for (int j = 0; j < n; j++) {
    const float gv = g[j];
    dgz[j] = dy[j] * (x[j] - f[j]) * gv * (1.f - gv);
    df[j] = dy[j] * (1.f - gv);
  }
}

// Layer norm's backward along a row: dz = rstd·(dxh − mean(dxh) − xhat·mean(dxh ⊙ xhat)), dxh = du ⊙ gain; also
// adds du ⊙ xhat to the gain's sums.
IAPO_MULTIVERSION
void NormBackRow(float* __restrict dz, double* __restrict dgain, const float* __restrict du, const float* __restrict xh, const float* __restrict gain,
                 float rstd, int n) {
  float pa[16] = {0}, pc[16] = {0};
  for (int j = 0; j < n; j++) {
    const float dxh = du[j] * gain[j];
    pa[j % 16] += dxh;
    pc[j % 16] += dxh * xh[j];
  }
  float a = 0.f, c = 0.f;
  for (int l = 0; l < 16; l++) {
    a += pa[l];
    c += pc[l];
  }
  const float mean_dxh = a / static_cast<float>(n), mean_dxh_xh = c / static_cast<float>(n);
  for (int j = 0; j < n; j++) dz[j] = rstd * (du[j] * gain[j] - mean_dxh - xh[j] * mean_dxh_xh);
  if (dgain) {
    for (int j = 0; j < n; j++) dgain[j] += static_cast<double>(du[j]) * xh[j];
  }
}

// A normalised / highway layer's backward on a block: from dy (d out, [m, n]) to dz (d of x·w + b, written to
// scratch), adding the gain, norm-bias and gate gradients to `red`; with a gate, also d x through the gate and the
// direct path, added to dx afterwards (AddGatePaths).
const float* RichBackward(const PassLayer& L, int i, const float* x, const float* dy, int r0, int m, float alpha, Reduction* red,
                          ThreadScratch* s) {
  const int n = L.n;
  const size_t count = static_cast<size_t>(m) * n;
  float* d = s->d.data();
  const float* f = L.f + static_cast<size_t>(r0) * n;
  if (L.gate_w) {
    float* dgz = s->gg.data();
    for (int r = 0; r < m; r++) {
      const size_t e = static_cast<size_t>(r) * n;
      GateBackRow(dgz + e, d + e, dy + e, x + static_cast<size_t>(r) * L.k, f + e, L.g + static_cast<size_t>(r0) * n + e, n);
    }
    if (L.dgate_w) {
      Sgemm(true, false, L.k, n, m, x, dgz, red->fresh_gate[i] ? 0.f : 1.f, red->dgate_w[i]);
      red->fresh_gate[i] = false;
    }
    if (L.dgate_b) AddColumnSums(red->dgate_b[i].data(), dgz, m, n);
    Slope(d, d, f, count, L.act, alpha);  // du = df ⊙ act'(u), in place
  } else {
    Slope(d, dy, f, count, L.act, alpha);
  }
  if (!L.gain) return d;
  if (L.dnbias) AddColumnSums(red->dnbias[i].data(), d, m, n);
  float* dz = s->z.data();
  double* dgain = L.dgain ? red->dgain[i].data() : nullptr;
  for (int r = 0; r < m; r++) {
    const size_t e = static_cast<size_t>(r) * n;
    NormBackRow(dz + e, dgain, d + e, L.xhat + static_cast<size_t>(r0) * n + e, L.gain, L.rstd[r0 + r], n);
  }
  return dz;
}

// d x of a highway layer beyond dz·wᵀ: the gate's dgz·gate_wᵀ and the direct path dy ⊙ g.
void AddGatePaths(const PassLayer& L, const float* dy, int r0, int m, ThreadScratch* s, float* dx) {
  Sgemm(false, true, m, L.k, L.n, s->gg.data(), L.gate_w, 1.f, dx);
  for (int r = 0; r < m; r++) {
    const size_t row = static_cast<size_t>(r0 + r) * L.n;
    for (int j = 0; j < L.n; j++) dx[static_cast<size_t>(r) * L.k + j] += dy[static_cast<size_t>(r) * L.n + j] * L.g[row + j];
  }
}

void BackwardBlock(const Pass& p, int r0, int m, float alpha, Reduction* red) {
  ThreadScratch* s = &t_scratch;
  const float* dy = p.d_out + static_cast<size_t>(r0) * p.layers[p.depth - 1].n;
  bool slope_applied = false;  // dy is already dz (the layer above folded this layer's slope into its dx)
  for (int i = p.depth - 1; i >= 0; i--) {
    const PassLayer& L = p.layers[i];
    const int kx = i == 0 ? L.k - p.split : L.k;
    const float* w = L.w + (i == 0 ? static_cast<size_t>(p.split) * L.n : 0);
    const float* x = i == 0 ? p.input + static_cast<size_t>(r0) * kx : p.layers[i - 1].out + static_cast<size_t>(r0) * L.k;
    const float* y = L.out + static_cast<size_t>(r0) * L.n;
    const float* dz = dy;
    if (L.Rich()) {
      dz = RichBackward(L, i, x, dy, r0, m, alpha, red, s);
    } else if (L.act != kLinear && !slope_applied) {
      Slope(s->z.data(), dy, y, static_cast<size_t>(m) * L.n, L.act, alpha);
      dz = s->z.data();
    }
    if (L.db) AddColumnSums(red->db[i].data(), dz, m, L.n);
    if (L.dw) {
      Sgemm(true, false, L.k, L.n, m, x, dz, red->fresh[i] ? 0.f : 1.f, red->dw[i]);
      red->fresh[i] = false;
    }
    if (i == 0 && !p.d_input) break;
    float* dx = i == 0 ? p.d_input + static_cast<size_t>(r0) * kx : (dy == s->a.data() ? s->b.data() : s->a.data());
    // A one-output layer's outer product, and the packed product, also apply the ReLU slope of the layer below,
    // from its output x (not through a highway gate, whose paths are added to dx afterwards).
    const PassLayer* below = i > 0 ? &p.layers[i - 1] : nullptr;
    const bool fold_slope = !L.gate_w && below && below->act == kRelu && !below->Rich();
    slope_applied = fold_slope && (L.n == 1 || L.packed);
    if (L.n == 1 && slope_applied) {
      CountMacs(static_cast<double>(m) * kx);
      OuterRows(dx, dz, w, x, m, kx, true);
    } else if (L.packed) {
      CountMacs(static_cast<double>(m) * L.n * kx);
      iapo::Epilogue e;
      if (slope_applied) {
        e.mask = x;
        e.ldm = kx;
      }
      iapo::GemmPacked(g_gemm_isa, dx, kx, dz, L.n, m, *L.packed, e);
    } else {
      DenseDx(dx, dz, w, m, L.n, kx);
    }
    if (L.gate_w) AddGatePaths(L, dy, r0, m, s, dx);
    dy = dx;
  }
}

// Rows [begin, end) of a pass, block by block.
void RunRows(const Pass& p, bool backward, int begin, int end, float alpha, Reduction* red) {
  const int block = BlockRows(p);
  t_scratch.Fit(static_cast<size_t>(block) * p.max_width);
  for (int r0 = begin; r0 < end; r0 += block) {
    const int m = std::min(block, end - r0);
    if (backward) {
      BackwardBlock(p, r0, m, alpha, red);
    } else {
      ForwardBlock(p, r0, m, alpha);
    }
  }
}

// A pass of at least 2·kSplitRows rows runs as two halves (two tasks), so that one network can use two threads.
// A backward pass sums its weight gradients per half, then adds the second half's to the first's, whichever
// threads ran them: the result never depends on the thread count.
constexpr int kSplitRows = 64;
// A forward pass of at most this many rows (a training batch's policy and Q passes) runs as four tasks instead of
// two: with nothing to reduce afterwards, finer tasks let whichever thread finishes first take up the other's
// slack. Measured (median of paired in-process blocks): direct updates −0.07 ms (faster in 20–26 of 30–40 blocks);
// iterative N = 1 within noise (−1.1 to +0.2 ms). Larger passes keep halves: N = 10's 2560-row J passes in
// quarters were 6.3 ms slower (their halves keep a network's rows on the core that runs its backward).
constexpr int kQuarterRows = 512;
// Below this many rows (all passes of a call together) the worker is not asked: a hand-off costs tens of µs and
// is not worth it for acting on one state. Measured here, interleaved update by update in one process on a calm
// VM (median ms; one thread / two with this at 512 / 256 / 128): direct 11.5 / 9.8 / 9.8 / 9.8, iterative N=1
// 60.2 / 45.6 / 37.7 / 36.7. At 256 a single 256-row pass (the policy networks) runs its halves side by side too.
constexpr int kParallelRows = 256;
constexpr int kMaxPasses = 8;
// The second halves' weight gradients, per pass slot and layer (resized on the calling thread only, before the
// worker is given tasks). Like the rest of the addon's state, this assumes JavaScript calls in from one thread.
std::vector<float> g_second_dw[kMaxPasses][kMaxDepth], g_second_dgate_w[kMaxPasses][kMaxDepth];

// Per pass slot and layer, the packed weights of the call in progress.
iapo::PackedB g_packed[kMaxPasses][kMaxDepth];

// Floats below which per-tensor work (packing, Adam, Polyak, Σ g²) stays on the calling thread: a hand-off costs
// more than it saves.
constexpr uint64_t kParallelFloats = 32768;

// Packs the weights of the products the packed GEMM runs in these passes before any pass task starts (~11 µs
// per 256x256 either way), one matrix per task on both threads when there are several. Not the first layer's
// forward on a precomputed base (beta = 1 onto the base rows) nor one-output layers or thin action columns,
// which have kernels of their own.
void PackWeights(std::vector<Pass>* passes, bool backward) {
  struct Job {
    iapo::PackedB* to;
    const float* from;
    int k, n;
    bool transposed;
  };
  Job jobs[kMaxPasses * kMaxDepth];
  int count = 0;
  size_t floats = 0;
  for (size_t i = 0; i < passes->size(); i++) {
    Pass& p = (*passes)[i];
    for (int j = 0; j < p.depth; j++) {
      PassLayer& L = p.layers[j];
      if (L.n == 1) continue;
      if (!backward) {
        if (j == 0 && p.base) continue;
        jobs[count] = {&g_packed[i][j], L.w, L.k, L.n, false};
      } else {
        const int kx = j == 0 ? L.k - p.split : L.k;
        if ((j == 0 && !p.d_input) || kx <= kSmallK) continue;
        jobs[count] = {&g_packed[i][j], L.w + (j == 0 ? static_cast<size_t>(p.split) * L.n : 0), L.n, kx, true};
      }
      // The same matrix in another pass of this call (a network applied to two inputs: a direct policy on s' and
      // on s) is packed once.
      const Job& job = jobs[count];
      int same = 0;
      while (same < count && (jobs[same].from != job.from || jobs[same].k != job.k || jobs[same].n != job.n || jobs[same].transposed != job.transposed)) same++;
      if (same < count) {
        L.packed = jobs[same].to;
        continue;
      }
      count++;
      floats += static_cast<size_t>(L.k) * L.n;
      L.packed = &g_packed[i][j];
    }
  }
  const std::function<void(int)> pack = [&jobs](int t) { jobs[t].to->Pack(jobs[t].from, jobs[t].k, jobs[t].n, jobs[t].transposed, g_gemm_isa); };
  if (g_threads >= 2 && count >= 2 && floats >= kParallelFloats) {
    Team::Get()->Run(count, pack);
  } else {
    for (int t = 0; t < count; t++) pack(t);
  }
}

IAPO_MULTIVERSION
void AddInto(float* __restrict to, const float* __restrict from, size_t count) {
  for (size_t e = 0; e < count; e++) to[e] += from[e];
}

class PassRun {
 public:
  PassRun(const Pass& p, int slot, bool backward, float alpha) : p_(&p), backward_(backward), alpha_(alpha) {
    mid_ = p.rows >= 2 * kSplitRows ? p.rows / 2 : p.rows;
    if (!backward) return;
    auto second_half = [&](std::vector<float>* buf, const float* full, size_t size) -> float* {
      if (!full || Halves() < 2) return nullptr;
      if (buf->size() < size) buf->resize(size);
      return buf->data();
    };
    for (int i = 0; i < p.depth; i++) {
      const PassLayer& L = p.layers[i];
      const size_t kn = static_cast<size_t>(L.k) * L.n;
      first_.dw[i] = L.dw;
      first_.dgate_w[i] = L.dgate_w;
      first_.fresh[i] = first_.fresh_gate[i] = !p.accumulate;
      second_.fresh[i] = second_.fresh_gate[i] = true;
      second_.dw[i] = second_half(&g_second_dw[slot][i], L.dw, kn);
      second_.dgate_w[i] = second_half(&g_second_dgate_w[slot][i], L.dgate_w, kn);
      for (Reduction* r : {&first_, &second_}) {
        if (L.db) r->db[i].assign(L.n, 0.0);
        if (L.dgain) r->dgain[i].assign(L.n, 0.0);
        if (L.dnbias) r->dnbias[i].assign(L.n, 0.0);
        if (L.dgate_b) r->dgate_b[i].assign(L.n, 0.0);
      }
    }
  }

  int Halves() const { return mid_ < p_->rows ? 2 : 1; }

  // The tasks this pass runs as: halves, or quarters for a forward pass of up to kQuarterRows (see there).
  int Parts() const { return !backward_ && p_->rows >= 4 * kSplitRows && p_->rows <= kQuarterRows ? 4 : Halves(); }

  void Part(int part) {
    if (Parts() == 4) {
      RunRows(*p_, false, p_->rows * part / 4, p_->rows * (part + 1) / 4, alpha_, nullptr);
    } else if (part == 0) {
      RunRows(*p_, backward_, 0, mid_, alpha_, &first_);
    } else {
      RunRows(*p_, backward_, mid_, p_->rows, alpha_, &second_);
    }
  }

  // After both halves: matrices += the second half's; vectors = (v +) float(Σ first + Σ second).
  void Finish() {
    if (!backward_) return;
    for (int i = 0; i < p_->depth; i++) {
      const PassLayer& L = p_->layers[i];
      const size_t kn = static_cast<size_t>(L.k) * L.n;
      FinishMatrix(L.dw, second_.dw[i], first_.fresh[i], kn);
      FinishMatrix(L.dgate_w, second_.dgate_w[i], first_.fresh_gate[i], kn);
      FinishVector(L.db, first_.db[i], second_.db[i], L.n);
      FinishVector(L.dgain, first_.dgain[i], second_.dgain[i], L.n);
      FinishVector(L.dnbias, first_.dnbias[i], second_.dnbias[i], L.n);
      FinishVector(L.dgate_b, first_.dgate_b[i], second_.dgate_b[i], L.n);
    }
  }

 private:
  void FinishMatrix(float* to, const float* second, bool untouched, size_t size) const {
    if (!to) return;
    if (Halves() == 2) {
      AddInto(to, second, size);
    } else if (untouched) {
      std::memset(to, 0, 4 * size);  // no rows: a zero gradient
    }
  }

  void FinishVector(float* to, const std::vector<double>& first, const std::vector<double>& second, int n) const {
    if (!to) return;
    for (int j = 0; j < n; j++) {
      const float sum = static_cast<float>(first[j] + second[j]);
      to[j] = p_->accumulate ? to[j] + sum : sum;
    }
  }

  const Pass* p_;
  bool backward_;
  float alpha_;
  int mid_;
  Reduction first_{}, second_{};
};

// mlpPasses(heap, backward, table, count, alpha): runs `count` (<= 8) passes described by `table` (a
// Float64Array; per pass kPassHead values then kPassLayer per layer, offsets in bytes, -1 for none; see
// lib/backend/heap-mlp.ts). Forward fills each layer's `out`; backward reads them and writes dInput and the
// weight gradients (added to what they hold with accumulate, else overwritten). With setThreads(2) the passes'
// halves (quarters for small forward passes) are shared between the calling thread and the worker (SAC's two
// Q-networks run side by side). The
// passes must not write to each other's regions.
napi_value MlpPasses(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 5, &heap_len);
  if (!heap) return nullptr;
  bool backward = false;
  napi_get_value_bool(env, a.argv[1], &backward);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, a.argv[2], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, nullptr, "iapo_native: mlpPasses needs a Float64Array table");
    return nullptr;
  }
  const int count = static_cast<int>(Num(env, a.argv[3]));
  const float alpha = static_cast<float>(Num(env, a.argv[4]));
  if (count < 0 || count > kMaxPasses) {
    napi_throw_range_error(env, nullptr, "iapo_native: mlpPasses runs 0 to 8 passes per call");
    return nullptr;
  }
  std::vector<Pass> passes;
  if (!ReadPasses(env, heap, heap_len, static_cast<const double*>(data), length, count, backward, &passes)) return nullptr;
  if (g_gemm_isa != iapo::Isa::kNone) PackWeights(&passes, backward);
  std::vector<PassRun> runs;
  std::vector<std::pair<int, int>> tasks;  // (run, half)
  int rows = 0;
  for (int i = 0; i < count; i++) {
    runs.emplace_back(passes[i], i, backward, alpha);
    for (int h = 0; h < runs[i].Parts(); h++) tasks.emplace_back(i, h);
    rows += passes[i].rows;
  }
  const std::function<void(int)> task = [&](int t) { runs[tasks[t].first].Part(tasks[t].second); };
  if (g_threads >= 2 && tasks.size() >= 2 && rows >= kParallelRows) {
    Team::Get()->Run(static_cast<int>(tasks.size()), task);
  } else {
    for (size_t t = 0; t < tasks.size(); t++) task(static_cast<int>(t));
  }
  for (PassRun& r : runs) r.Finish();
  return nullptr;
}

// A call's per-tensor table: argument 1, a Uint32Array of `width` values per row, and argument 2, the number of
// rows; nullptr with a JS error naming `what` when the table is not a Uint32Array or is shorter than that.
const uint32_t* TableArg(napi_env env, const Args& a, const char* what, size_t width, size_t* count) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, a.argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint32_array) {
    const std::string why = std::string("iapo_native: ") + what + "'s table must be a Uint32Array";
    napi_throw_type_error(env, nullptr, why.c_str());
    return nullptr;
  }
  *count = static_cast<size_t>(Num(env, a.argv[2]));
  if (*count * width > length) {
    const std::string why = std::string("iapo_native: ") + what + "'s table is shorter than its count";
    napi_throw_range_error(env, nullptr, why.c_str());
    return nullptr;
  }
  return static_cast<const uint32_t*>(data);
}

// --- Per-tensor kernels (adam, sumSquares, polyak), in pieces on two threads ---
//
// Each tensor of a table is cut into pieces of at most kPiece floats; a call's pieces run as tasks of the Team
// (a Q-network's Adam step is ~140k floats). Sums are kept per piece and added in piece order afterwards, so Σ g²
// is the same whichever thread ran which piece, and Adam's and sumSquares's agree exactly.
constexpr uint32_t kPiece = 16384;             // a multiple of SumSquaresRow's 8 lanes

struct Piece {
  size_t row;
  uint32_t begin, end;  // elements [begin, end) of the row's tensor
};

// The pieces of `count` tensors whose sizes are table[width·i + size_col]; *floats gets their total.
std::vector<Piece> Pieces(const uint32_t* table, size_t count, size_t width, size_t size_col, uint64_t* floats) {
  std::vector<Piece> pieces;
  *floats = 0;
  for (size_t i = 0; i < count; i++) {
    const uint32_t size = table[width * i + size_col];
    *floats += size;
    for (uint32_t b = 0; b < size; b += std::min(kPiece, size - b)) pieces.push_back({i, b, std::min(size, b + kPiece)});
  }
  return pieces;
}

// Runs fn on every piece (`floats` in all) and returns the sum of its results added in piece order, whichever
// thread ran which: on this thread and the Team's worker where there are two threads and enough floats, each
// task a run of consecutive pieces (the Team takes up to 32 tasks).
double ForPieces(const std::vector<Piece>& pieces, uint64_t floats, const std::function<double(const Piece&)>& fn) {
  std::vector<double> sums(pieces.size());
  const size_t tasks = std::min<size_t>(pieces.size(), Team::kMaxTasks);
  if (g_threads < 2 || tasks < 2 || floats < kParallelFloats) {
    for (size_t p = 0; p < pieces.size(); p++) sums[p] = fn(pieces[p]);
  } else {
    Team::Get()->Run(static_cast<int>(tasks), [&](int t) {
      for (size_t p = t * pieces.size() / tasks; p < (t + 1) * pieces.size() / tasks; p++) sums[p] = fn(pieces[p]);
    });
  }
  double total = 0;
  for (double x : sums) total += x;
  return total;
}

// Σ x² in double with 8 interleaved partial sums (a fixed order, so the result is deterministic, and one the
// compiler can keep in vector registers; a single running sum is a serial chain of dependent adds).
IAPO_MULTIVERSION
double SumSquaresRow(const float* __restrict x, uint32_t size) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t e = 0;
  for (; e + 8 <= size; e += 8) {
    for (int j = 0; j < 8; j++) part[j] += static_cast<double>(x[e + j]) * x[e + j];
  }
  for (; e < size; e++) part[e % 8] += static_cast<double>(x[e]) * x[e];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// Subnormal floats (|x| < 2^-126) cost a microcode assist per vector instruction that meets one (~100+ cycles)
// on x86. Adam's moments fall into that range and stay there: m decays by β1 and v by β2 wherever a weight's
// gradient is zero (a dead ReLU unit), and a subnormal times 0.9 or 0.999 rounds to itself at the bottom of the
// range. After 1000 Hopper steps ~3% of the moments were subnormal and each Adam step took twice as long, a
// share that only grows over a run. While in scope, results below the normal range are flushed to zero and such
// inputs read as zero (MXCSR's FTZ and DAZ; TensorFlow's CPU kernels run the same way, ScopedFlushDenormal).
// A flushed moment moved its variable by less than float32 resolution anyway. The caller's mode comes back on
// exit: V8 runs JavaScript on this thread and needs IEEE arithmetic on doubles.
class FlushSubnormals {
 public:
#if defined(__x86_64__) || defined(__i386__)
  FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFtz | kDaz); }
  ~FlushSubnormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFtz = 0x8000, kDaz = 0x0040;
  unsigned saved_;
#elif defined(__aarch64__)
  FlushSubnormals() {
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved_));
    const uint64_t fz = saved_ | (uint64_t{1} << 24);  // FZ: flush inputs and results
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fz));
  }
  ~FlushSubnormals() { __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_)); }

 private:
  uint64_t saved_;
#endif
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;
};

// tf.train.adam's float32 constants, already rounded.
struct AdamConstants {
  float b1, one_minus_b1, b2, one_minus_b2, eps, neg_lr, c1, c2;
};

// One variable's Adam step, element by element in tf's operation order (divisions, not reciprocals, so the
// values are tf's to the bit, apart from flushed subnormals: FlushSubnormals). Variables, gradients and slots
// never overlap.
IAPO_MULTIVERSION
void AdamRow(float* __restrict value, const float* __restrict grad, float* __restrict m, float* __restrict v, uint32_t size,
             AdamConstants k) {
  for (uint32_t e = 0; e < size; e++) {
    const float g = grad[e];
    const float nm = m[e] * k.b1 + g * k.one_minus_b1;
    const float nv = v[e] * k.b2 + (g * g) * k.one_minus_b2;
    m[e] = nm;
    v[e] = nv;
    const float mhat = nm / k.c1;
    const float vhat = nv / k.c2;
    value[e] = (mhat / (std::sqrt(vhat) + k.eps)) * k.neg_lr + value[e];
  }
}

// adam(heap, table, count, lr, beta1, beta2, epsilon, oneMinusAccBeta1, oneMinusAccBeta2)
// table: Uint32Array of [valueOff, gradOff, mOff, vOff, size] per variable (offsets in bytes). Updates value,
// m and v in place with the same float32 operations, in the same order, as tf.train.adam (with subnormals
// flushed to zero: FlushSubnormals). Returns Σ g² over
// the gradients, as sumSquares over the same tensors in the same order gives it: each gradient is summed right
// after its step reads it (still in cache), so a learner's gradient-norm metric costs no second pass.
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 9, &heap_len);
  if (!heap) return nullptr;
  size_t count = 0;
  const uint32_t* table = TableArg(env, a, "adam", 5, &count);
  if (!table) return nullptr;
  const double lr = Num(env, a.argv[3]), beta1 = Num(env, a.argv[4]), beta2 = Num(env, a.argv[5]);
  // tf.train.adam rounds each JS number to float32 where it becomes a scalar tensor.
  const float b1 = static_cast<float>(beta1), one_minus_b1 = static_cast<float>(1.0 - beta1);
  const float b2 = static_cast<float>(beta2), one_minus_b2 = static_cast<float>(1.0 - beta2);
  const float eps = static_cast<float>(Num(env, a.argv[6]));
  const float neg_lr = static_cast<float>(-lr);
  const float c1 = static_cast<float>(Num(env, a.argv[7])), c2 = static_cast<float>(Num(env, a.argv[8]));
  for (size_t i = 0; i < count; i++) {  // check every row before touching any, so an error changes nothing
    const uint32_t* row = table + 5 * i;
    for (int j = 0; j < 4; j++) {
      if (!InHeap(env, heap_len, row[j], 4.0 * row[4])) return nullptr;
    }
  }
  uint64_t floats = 0;
  const std::vector<Piece> pieces = Pieces(table, count, 5, 4, &floats);
  const AdamConstants k{b1, one_minus_b1, b2, one_minus_b2, eps, neg_lr, c1, c2};
  const double total = ForPieces(pieces, floats, [&](const Piece& pc) {
    const uint32_t* row = table + 5 * pc.row;
    auto at = [&](int col) { return reinterpret_cast<float*>(heap + row[col]) + pc.begin; };
    {
      FlushSubnormals flush;
      AdamRow(at(0), at(1), at(2), at(3), pc.end - pc.begin, k);
    }
    return SumSquaresRow(at(1), pc.end - pc.begin);  // IEEE again: a subnormal gradient still counts, as in sumSquares
  });
  napi_value out;
  CHECK(napi_create_double(env, total, &out));
  return out;
}

// sumSquares(heap, table, count): Σ x² over count tensors, table [offset, size] per tensor, summed in double
// (a global gradient norm in one call).
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 3, &heap_len);
  if (!heap) return nullptr;
  size_t count = 0;
  const uint32_t* table = TableArg(env, a, "sumSquares", 2, &count);
  if (!table) return nullptr;
  for (size_t i = 0; i < count; i++) {
    if (!InHeap(env, heap_len, table[2 * i], 4.0 * table[2 * i + 1])) return nullptr;
  }
  uint64_t floats = 0;
  const std::vector<Piece> pieces = Pieces(table, count, 2, 1, &floats);
  const double total = ForPieces(pieces, floats, [&](const Piece& pc) {
    return SumSquaresRow(reinterpret_cast<const float*>(heap + table[2 * pc.row]) + pc.begin, pc.end - pc.begin);
  });
  napi_value out;
  CHECK(napi_create_double(env, total, &out));
  return out;
}

// target = float(target·keep) + float(source·take), element by element (two products then a sum, as tf).
IAPO_MULTIVERSION
void PolyakRow(float* __restrict t, const float* __restrict src, uint32_t size, float keep, float take) {
  for (uint32_t e = 0; e < size; e++) {
    const float kept = t[e] * keep;
    const float taken = src[e] * take;
    t[e] = kept + taken;
  }
}

// polyak(heap, table, count, keep, take): target = float(target·keep) + float(source·take) in place, table
// [targetOff, sourceOff, size] per tensor; keep and take are float32, as tf's mul/mul/add on float32 tensors.
napi_value Polyak(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 5, &heap_len);
  if (!heap) return nullptr;
  size_t count = 0;
  const uint32_t* table = TableArg(env, a, "polyak", 3, &count);
  if (!table) return nullptr;
  const float keep = static_cast<float>(Num(env, a.argv[3])), take = static_cast<float>(Num(env, a.argv[4]));
  for (size_t i = 0; i < count; i++) {
    const uint32_t* row = table + 3 * i;
    if (!InHeap(env, heap_len, row[0], 4.0 * row[2]) || !InHeap(env, heap_len, row[1], 4.0 * row[2])) return nullptr;
  }
  uint64_t floats = 0;
  const std::vector<Piece> pieces = Pieces(table, count, 3, 2, &floats);
  ForPieces(pieces, floats, [&](const Piece& pc) {
    const uint32_t* row = table + 3 * pc.row;
    PolyakRow(reinterpret_cast<float*>(heap + row[0]) + pc.begin, reinterpret_cast<const float*>(heap + row[1]) + pc.begin, pc.end - pc.begin, keep,
              take);
    return 0.0;  // nothing to sum
  });
  return nullptr;
}

// --- The tanh-squashed Gaussian of J's action samples (lib/agents/sac/fused-update.ts, evaluate) ---
//
// Host arrays (noise, λ, σ, log π, ∇λ) come as typed arrays, the actions and their gradients as heap offsets.
// Row r = n·B + s is sample n of state s. Arithmetic in double, as the JavaScript it replaces (~10x faster).

// A typed array argument of the given type and at least `count` elements, or nullptr with a JS error.
template <typename T>
T* TypedArg(napi_env env, napi_value v, napi_typedarray_type want, size_t count, const char* what) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != want || length < count) {
    const std::string why = std::string("iapo_native: ") + what + " must be a typed array of the right type with at least " + std::to_string(count) + " elements";
    napi_throw_type_error(env, nullptr, why.c_str());
    return nullptr;
  }
  return static_cast<T*>(data);
}

// rows, B and A from argv[at], argv[at + 1], argv[at + 2]: rows a multiple of B >= 1, A >= 1; else false with a
// JS error naming `what`.
bool SampleShape(napi_env env, const Args& a, size_t at, const char* what, int* rows, int* B, int* A) {
  *rows = static_cast<int>(Num(env, a.argv[at]));
  *B = static_cast<int>(Num(env, a.argv[at + 1]));
  *A = static_cast<int>(Num(env, a.argv[at + 2]));
  if (*rows < 0 || *B < 1 || *A < 1 || *rows % *B != 0) {
    const std::string why = std::string("iapo_native: ") + what + " needs rows a multiple of B >= 1 and A >= 1";
    napi_throw_range_error(env, nullptr, why.c_str());
    return false;
  }
  return true;
}

// tanhGaussianSample(heap, xOff, rows, B, A, mean, logStd, eps, sigma, logPi)
// σ = exp(log σ) per state and action (into sigma, Float64Array [B·A]); per sample row r (state s = r mod B):
// u = μ + σ·ε, x = tanh u (into the heap at xOff, float32 [rows, A]) and
// log π(x) = Σ_i −(ε²/2 + log σ + log √(2π)) − 2(log 2 − u − softplus(−2u)) (into logPi, Float64Array [rows]).
// tanh u and softplus(−2u) come from one exp: e = exp(−2|u|), tanh u = sign(u)(1 − e)/(1 + e),
// softplus(−2u) = log1p(e) + max(−2u, 0).
napi_value TanhGaussianSample(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 10, &heap_len);
  if (!heap) return nullptr;
  const double x_off = Num(env, a.argv[1]);
  int rows = 0, B = 0, A = 0;
  if (!SampleShape(env, a, 2, "tanhGaussianSample", &rows, &B, &A)) return nullptr;
  const size_t ba = static_cast<size_t>(B) * A, ra = static_cast<size_t>(rows) * A;
  const float* mean = TypedArg<const float>(env, a.argv[5], napi_float32_array, ba, "tanhGaussianSample's mean");
  const float* log_std = mean ? TypedArg<const float>(env, a.argv[6], napi_float32_array, ba, "tanhGaussianSample's logStd") : nullptr;
  const float* eps = log_std ? TypedArg<const float>(env, a.argv[7], napi_float32_array, ra, "tanhGaussianSample's eps") : nullptr;
  double* sigma = eps ? TypedArg<double>(env, a.argv[8], napi_float64_array, ba, "tanhGaussianSample's sigma") : nullptr;
  double* log_pi = sigma ? TypedArg<double>(env, a.argv[9], napi_float64_array, static_cast<size_t>(rows), "tanhGaussianSample's logPi") : nullptr;
  if (!log_pi || !InHeap(env, heap_len, x_off, 4.0 * ra)) return nullptr;
  float* x = reinterpret_cast<float*>(heap + static_cast<size_t>(x_off));
  const double half_log_2pi = 0.5 * std::log(2 * M_PI), ln2 = std::log(2.0);
  for (size_t p = 0; p < ba; p++) sigma[p] = std::exp(static_cast<double>(log_std[p]));
  // Rows are independent (an exp and a log1p per element, ~65 ns; ~4% of an N = 10 update on one thread): on both
  // threads from 512 elements (~35 µs), which takes in a direct update's 256 x 6. During an update the worker is
  // spinning, so a hand-off costs a few µs: measured in alternating in-process blocks (with normalPairs' 384
  // below), direct updates 0.16 ms faster (median of paired differences, 22 of 30 blocks) than from 4096.
  InChunks(static_cast<size_t>(rows), (512 + A - 1) / static_cast<size_t>(A), [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; r++) {
      const size_t s = (r % B) * A, e0 = r * A;
      double lp = 0;
      for (int i = 0; i < A; i++) {
        const double z = eps[e0 + i];
        const double u = mean[s + i] + sigma[s + i] * z;
        const double e = std::exp(-2 * std::fabs(u));
        const double t = (1 - e) / (1 + e);
        lp += -(0.5 * z * z + log_std[s + i] + half_log_2pi) - 2 * (ln2 - u - (std::log1p(e) + std::max(-2 * u, 0.0)));
        x[e0 + i] = static_cast<float>(u < 0 ? -t : t);
      }
      log_pi[r] = lp;
    }
  });
  return nullptr;
}

// tanhGaussianGrad(heap, xOff, dx1Off, dx2Off, rows, B, A, eps, sigma, dLogPi, gradMean, gradLogStd)
// Adds ∇λ of Σ_r (Q-part + dLogPi·log π) to gradMean and gradLogStd (Float32Array [B·A], float32 after each
// sample, in row order), from d/dx of the Q-part (dx1 + dx2 on the heap, float32 [rows, A]) and the samples of
// tanhGaussianSample: du = (dx1 + dx2)(1 − x²) + dLogPi(−ε/σ + 2x); dμ += du + dLogPi·ε/σ (log π's own
// −log σ − ε²/2 term through ε = (u − μ)/σ); d log σ += du·σ·ε + dLogPi(ε² − 1).
napi_value TanhGaussianGrad(napi_env env, napi_callback_info info) {
  Args a;
  size_t heap_len = 0;
  uint8_t* heap = HeapCall(env, info, &a, 12, &heap_len);
  if (!heap) return nullptr;
  const double x_off = Num(env, a.argv[1]), dx1_off = Num(env, a.argv[2]), dx2_off = Num(env, a.argv[3]);
  int rows = 0, B = 0, A = 0;
  if (!SampleShape(env, a, 4, "tanhGaussianGrad", &rows, &B, &A)) return nullptr;
  const size_t ba = static_cast<size_t>(B) * A, ra = static_cast<size_t>(rows) * A;
  const float* eps = TypedArg<const float>(env, a.argv[7], napi_float32_array, ra, "tanhGaussianGrad's eps");
  const double* sigma = eps ? TypedArg<const double>(env, a.argv[8], napi_float64_array, ba, "tanhGaussianGrad's sigma") : nullptr;
  const double d_log_pi = Num(env, a.argv[9]);
  float* g_mean = sigma ? TypedArg<float>(env, a.argv[10], napi_float32_array, ba, "tanhGaussianGrad's gradMean") : nullptr;
  float* g_log_std = g_mean ? TypedArg<float>(env, a.argv[11], napi_float32_array, ba, "tanhGaussianGrad's gradLogStd") : nullptr;
  if (!g_log_std || !InHeap(env, heap_len, x_off, 4.0 * ra) || !InHeap(env, heap_len, dx1_off, 4.0 * ra) || !InHeap(env, heap_len, dx2_off, 4.0 * ra)) {
    return nullptr;
  }
  auto F = [heap](double off) { return reinterpret_cast<const float*>(heap + static_cast<size_t>(off)); };
  const float *x = F(x_off), *dx1 = F(dx1_off), *dx2 = F(dx2_off);
  for (int r = 0; r < rows; r++) {
    const size_t s = static_cast<size_t>(r % B) * A, e0 = static_cast<size_t>(r) * A;
    for (int i = 0; i < A; i++) {
      const size_t p = s + i, e = e0 + i;
      const double sg = sigma[p], xv = x[e], z = eps[e];
      const double du = (static_cast<double>(dx1[e]) + dx2[e]) * (1 - xv * xv) + d_log_pi * (-z / sg + 2 * xv);
      g_mean[p] = static_cast<float>(g_mean[p] + (du + d_log_pi * z / sg));
      g_log_std[p] = static_cast<float>(g_log_std[p] + (du * sg * z + d_log_pi * (z * z - 1)));
    }
  }
  return nullptr;
}

// sgemmSeconds(n, reps): wall time of `reps` n×n×n sgemm calls on private buffers (the raw BLAS peak).
napi_value SgemmSeconds(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 2)) return nullptr;
  const int n = static_cast<int>(Num(env, a.argv[0]));
  const int reps = static_cast<int>(Num(env, a.argv[1]));
  if (n <= 0 || reps <= 0) {
    napi_throw_range_error(env, nullptr, "iapo_native: sgemmSeconds needs n > 0 and reps > 0");
    return nullptr;
  }
  const size_t size = static_cast<size_t>(n) * n;
  std::vector<float> A(size), B(size), C(size);
  for (size_t i = 0; i < size; i++) {
    A[i] = static_cast<float>((i * 7919) % 1000) / 1000.f - 0.5f;
    B[i] = static_cast<float>((i * 104729) % 1000) / 1000.f - 0.5f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, A.data(), n, B.data(), n, 0.f, C.data(), n);
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; r++) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, A.data(), n, B.data(), n, 0.f, C.data(), n);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  napi_value out;
  CHECK(napi_create_double(env, seconds, &out));
  return out;
}

// macCount(): multiply-adds done by the kernels since the addon loaded (sgemmSeconds not counted).
napi_value MacCount(napi_env env, napi_callback_info) {
  napi_value out;
  CHECK(napi_create_double(env, static_cast<double>(g_macs.load(std::memory_order_relaxed)), &out));
  return out;
}

// --- Standard normals for J's samples (lib/core/rng.ts, fillStandardNormal) ---
//
// normalPairs(state, out, start, pairs): the Rng's Box-Muller pairs, from its xoshiro128** state (Uint32Array [4],
// advanced in place), into out[start ..] (Float32Array) as float32: per pair four words a, b, c, d,
// u = unit53(a, b), r = sqrt(−2 log u), angle = 2π·unit53(c, d), then r cos(angle) and r sin(angle). The same
// arithmetic as the JavaScript in double, with the C library's log, cos and sin: those differ from V8's in the last
// bit of ~6% of doubles, which changed none of 8 million float32 results (one in ~10⁹ can differ). Stops before a
// pair whose u is 0 (probability 2⁻⁵³; JavaScript draws u again there) without consuming its words, and returns
// the pairs written. On one thread ~1.7x faster than the JavaScript (glibc's log and sincos are no faster than V8's
// own), on two ~3x (an iterative update at N = 10 draws ~180k normals).
napi_value NormalPairs(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 4)) return nullptr;
  uint32_t* st = TypedArg<uint32_t>(env, a.argv[0], napi_uint32_array, 4, "normalPairs's state");
  if (!st) return nullptr;
  const double start = Num(env, a.argv[2]), pairs = Num(env, a.argv[3]);
  if (!(start >= 0) || !(pairs >= 0) || start != std::floor(start) || pairs != std::floor(pairs)) {
    napi_throw_range_error(env, nullptr, "iapo_native: normalPairs needs whole start >= 0 and pairs >= 0");
    return nullptr;
  }
  const size_t begin = static_cast<size_t>(start), n = static_cast<size_t>(pairs);
  float* out = TypedArg<float>(env, a.argv[1], napi_float32_array, begin + 2 * n, "normalPairs's out (start + 2·pairs)");
  if (!out) return nullptr;
  // The stream is sequential: its words first, on this thread (~1 ns each), then the pairs' log and sincos
  // (~95% of the time) in chunks, on both threads where there are two; each pair depends only on its own words.
  uint32_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  auto next = [&]() {
    const uint32_t x = s1 * 5u;
    const uint32_t result = ((x << 7) | (x >> 25)) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >> 21);
    return result;
  };
  auto unit53 = [](uint32_t hi, uint32_t lo) { return (static_cast<double>(hi >> 5) * 67108864.0 + static_cast<double>(lo >> 6)) / 9007199254740992.0; };
  static thread_local std::vector<double> uniforms;  // u and the angle's uniform per pair
  uniforms.resize(2 * n);
  size_t done = 0;
  for (; done < n; done++) {
    const uint32_t saved[4] = {s0, s1, s2, s3};
    const uint32_t w0 = next(), w1 = next(), w2 = next(), w3 = next();
    const double u = unit53(w0, w1);
    if (u == 0) {
      s0 = saved[0], s1 = saved[1], s2 = saved[2], s3 = saved[3];
      break;
    }
    uniforms[2 * done] = u;
    uniforms[2 * done + 1] = unit53(w2, w3);
  }
  float* o = out + begin;
  const double* uv = uniforms.data();
  // from 384 pairs (~25 µs of work; tanhGaussianSample above says why so few)
  InChunks(done, 384, [o, uv](size_t first, size_t end) {
    for (size_t p = first; p < end; p++) {
      const double r = std::sqrt(-2 * std::log(uv[2 * p]));
      double sin_a, cos_a;
      sincos(2 * M_PI * uv[2 * p + 1], &sin_a, &cos_a);
      o[2 * p] = static_cast<float>(0.0 + r * cos_a);
      o[2 * p + 1] = static_cast<float>(0.0 + r * sin_a);
    }
  });
  st[0] = s0, st[1] = s1, st[2] = s2, st[3] = s3;
  napi_value result;
  CHECK(napi_create_double(env, static_cast<double>(done), &result));
  return result;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 1)) return nullptr;
  const int n = static_cast<int>(Num(env, a.argv[0]));
  if (n < 1) {
    napi_throw_range_error(env, nullptr, "iapo_native: setThreads needs n >= 1");
    return nullptr;
  }
  g_threads = std::min(n, 2);  // one worker beside the calling thread
  return nullptr;
}

// setPackedGemm(mode): which kernels mlpPasses runs its products on: "best" (the widest this CPU runs, else sgemm),
// "avx512", "avx2" (a CPU without them is a RangeError) or "off" (sgemm). Returns the one in effect: "avx512",
// "avx2" or "off".
napi_value SetPackedGemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 1)) return nullptr;
  char mode[16] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(env, a.argv[0], mode, sizeof(mode), &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "iapo_native: setPackedGemm needs \"best\", \"avx512\", \"avx2\" or \"off\"");
    return nullptr;
  }
  const std::string m(mode, len);
  const iapo::Isa best = iapo::BestIsa();
  iapo::Isa isa = best;
  if (m != "best" && !iapo::ParseIsa(m.c_str(), &isa)) {
    const std::string why = "iapo_native: setPackedGemm: unknown mode \"" + m + "\" (best, avx512, avx2, off)";
    napi_throw_range_error(env, nullptr, why.c_str());
    return nullptr;
  }
  if (static_cast<int>(isa) > static_cast<int>(best)) {
    const std::string why = "iapo_native: setPackedGemm: this CPU cannot run the " + m + " kernels";
    napi_throw_range_error(env, nullptr, why.c_str());
    return nullptr;
  }
  g_gemm_isa = isa;
  napi_value result;
  CHECK(napi_create_string_utf8(env, iapo::IsaName(isa), NAPI_AUTO_LENGTH, &result));
  return result;
}

// blasInfo(): { coreName, config, blasThreads } as OpenBLAS reports them, and iapo's own threads (coreName shows whether
// OPENBLAS_CORETYPE took effect), and the packed GEMM's kernels in use (packedGemm: "avx512", "avx2" or "off").
napi_value BlasInfo(napi_env env, napi_callback_info) {
  napi_value out, core, config, blas_threads, threads;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &blas_threads));
  CHECK(napi_create_int32(env, g_threads, &threads));
  CHECK(napi_set_named_property(env, out, "coreName", core));
  CHECK(napi_set_named_property(env, out, "blasThreads", blas_threads));
  CHECK(napi_set_named_property(env, out, "config", config));
  CHECK(napi_set_named_property(env, out, "threads", threads));
  napi_value packed;
  CHECK(napi_create_string_utf8(env, iapo::IsaName(g_gemm_isa), NAPI_AUTO_LENGTH, &packed));
  CHECK(napi_set_named_property(env, out, "packedGemm", packed));
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"denseGrad", nullptr, DenseGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mlpPasses", nullptr, MlpPasses, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"polyak", nullptr, Polyak, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tanhGaussianSample", nullptr, TanhGaussianSample, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tanhGaussianGrad", nullptr, TanhGaussianGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"normalPairs", nullptr, NormalPairs, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemmSeconds", nullptr, SgemmSeconds, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setPackedGemm", nullptr, SetPackedGemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"macCount", nullptr, MacCount, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasInfo", nullptr, BlasInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
