// iapo's native kernels: OpenBLAS sgemm with fused bias + activation, the matching dense backward pass,
// and an in-place Adam. Every function works directly on a caller's ArrayBuffer (the tfjs wasm heap),
// addressed by byte offsets, so no tensor is ever copied between JavaScript and C.
#include <node_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

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

double Num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

__attribute__((always_inline)) inline float Activate(float x, int act, float alpha) {
  switch (act) {
    case kRelu: return std::max(x, 0.f);
    case kRelu6: return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
    case kElu: return x > 0.f ? x : std::exp(x) - 1.f;
    case kLeakyRelu: return x < 0.f ? alpha * x : x;
    case kSigmoid: return 1.f / (1.f + std::exp(-x));
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

template <int A>
void SlopeT(float* __restrict dz, const float* __restrict dy, const float* __restrict y, size_t count, float alpha) {
  for (size_t i = 0; i < count; i++) dz[i] = dy[i] * ActivationSlope(y[i], A, alpha);
}

// ReLU's slope as a select of two values already loaded. Written as `y > 0 ? dy[i] : 0` the load of dy[i]
// is conditional, which the compiler may not hoist, so it emitted a data-dependent branch: ~6 ns per element
// on random signs (0.4 ms per 256x256, measured), against ~0.1 ns for this form.
IAPO_MULTIVERSION
void ReluSlope(float* __restrict dz, const float* __restrict dy, const float* __restrict y, size_t count) {
  for (size_t i = 0; i < count; i++) {
    const float d = dy[i];
    const float v = y[i];
    dz[i] = v > 0.f ? d : 0.f;
  }
}

void Slope(float* dz, const float* dy, const float* y, size_t count, int act, float alpha) {
  switch (act) {
    case kRelu: return ReluSlope(dz, dy, y, count);
    case kRelu6: return SlopeT<kRelu6>(dz, dy, y, count, alpha);
    case kElu: return SlopeT<kElu>(dz, dy, y, count, alpha);
    case kLeakyRelu: return SlopeT<kLeakyRelu>(dz, dy, y, count, alpha);
    case kSigmoid: return SlopeT<kSigmoid>(dz, dy, y, count, alpha);
    case kTanh: return SlopeT<kTanh>(dz, dy, y, count, alpha);
    default: return SlopeT<kLinear>(dz, dy, y, count, alpha);
  }
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
  if (!GetArgs(env, info, &a, 16)) return nullptr;
  size_t heap_len = 0;
  uint8_t* heap = Heap(env, a.argv[0], &heap_len);
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
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, A,
                  ta ? m : k, B, tb ? k : n, 0.f, C, n);
    }
    if (bias_mode == kNoBias && act == kLinear) continue;
    BiasActivate(C, m, n, bias_mode == kNoBias ? nullptr : bias, bias_mode == kScalar, act, alpha);
  }
  return nullptr;
}

// One row of C = base + a·B for a short a (k values): the products added to the base in order of k.
IAPO_MULTIVERSION
void AddRowProducts(float* __restrict c, const float* __restrict base, const float* __restrict a, const float* __restrict B, int n, int k,
                    bool relu) {
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

// gemmOnBase(heap, m, n, k, aOff, bOff, baseOff, baseRows, cOff, act, alpha)
// C[r] = act(base[r mod baseRows] + A[r]·B), A [m,k], B [k,n], base [baseRows,n]. A dense layer whose input is
// [fixed part | varying part]: the fixed part's product plus bias (base) is computed once, and each evaluation
// only multiplies the varying columns (a Q-network's actions, k = |A|), instead of all of them again.
napi_value GemmOnBase(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 11)) return nullptr;
  size_t heap_len = 0;
  uint8_t* heap = Heap(env, a.argv[0], &heap_len);
  if (!heap) return nullptr;
  const int m = static_cast<int>(Num(env, a.argv[1]));
  const int n = static_cast<int>(Num(env, a.argv[2]));
  const int k = static_cast<int>(Num(env, a.argv[3]));
  const double a_off = Num(env, a.argv[4]), b_off = Num(env, a.argv[5]), base_off = Num(env, a.argv[6]);
  const int base_rows = static_cast<int>(Num(env, a.argv[7]));
  const double c_off = Num(env, a.argv[8]);
  const int act = static_cast<int>(Num(env, a.argv[9]));
  const float alpha = static_cast<float>(Num(env, a.argv[10]));
  if (m < 0 || n < 0 || k < 0 || base_rows <= 0) {
    napi_throw_range_error(env, nullptr, "iapo_native: gemmOnBase needs m, n, k >= 0 and baseRows > 0");
    return nullptr;
  }
  if (!InHeap(env, heap_len, a_off, 4.0 * m * k) || !InHeap(env, heap_len, b_off, 4.0 * k * n) ||
      !InHeap(env, heap_len, base_off, 4.0 * base_rows * n) || !InHeap(env, heap_len, c_off, 4.0 * m * n)) {
    return nullptr;
  }
  auto F = [heap](double off) { return reinterpret_cast<float*>(heap + static_cast<size_t>(off)); };
  const float* A = F(a_off);
  const float* B = F(b_off);
  const float* base = F(base_off);
  float* C = F(c_off);
  if (k <= 16) {  // a few columns: one pass per row beats sgemm's packing
    for (int r = 0; r < m; r++) {
      AddRowProducts(C + static_cast<size_t>(r) * n, base + static_cast<size_t>(r % base_rows) * n, A + static_cast<size_t>(r) * k, B, n, k,
                     act == kRelu);
    }
    if (act == kRelu || act == kLinear) return nullptr;
  } else {
    for (int r = 0; r < m; r++) {
      std::memcpy(C + static_cast<size_t>(r) * n, base + static_cast<size_t>(r % base_rows) * n, 4 * static_cast<size_t>(n));
    }
    if (m > 0 && n > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, A, k, B, n, 1.f, C, n);
  }
  if (act != kLinear) BiasActivate(C, m, n, nullptr, false, act, alpha);
  return nullptr;
}

std::vector<float> g_scratch;  // dz of the dense backward pass; JS is single-threaded, so one buffer serves.

// denseGrad(heap, m, n, k, xOff, wOff, yOff, dyOff, dxOff, dwOff, dbOff, act, alpha[, accumulate])
// For y = act(x·w + b) with x [m,k], w [k,n]: dz = dy ⊙ act'(y); dx = dz·wᵀ; dw = xᵀ·dz; db = Σ_rows dz.
// dxOff, dwOff or dbOff < 0 skips that output (a backward to the inputs only needs no dw). With accumulate,
// dw and db are added to what they hold (a network applied several times sums its gradients); dx is always
// overwritten.
napi_value DenseGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 13)) return nullptr;
  size_t heap_len = 0;
  uint8_t* heap = Heap(env, a.argv[0], &heap_len);
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
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m, 1.f, x, k, dz, n, accumulate ? 1.f : 0.f, dw, n);
    }
  }
  if (dx_off >= 0 && m > 0 && k > 0) {
    float* dx = F(dx_off);
    if (n == 0) {
      std::memset(dx, 0, static_cast<size_t>(mk));
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n, 1.f, dz, n, w, n, 0.f, dx, k);
    }
  }
  return nullptr;
}

// tf.train.adam's float32 constants, already rounded.
struct AdamConstants {
  float b1, one_minus_b1, b2, one_minus_b2, eps, neg_lr, c1, c2;
};

// One variable's Adam step, element by element in tf's operation order (divisions, not reciprocals, so the
// values are tf's to the bit). Variables, gradients and slots never overlap.
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
// m and v in place with the same float32 operations, in the same order, as tf.train.adam.
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 9)) return nullptr;
  size_t heap_len = 0;
  uint8_t* heap = Heap(env, a.argv[0], &heap_len);
  if (!heap) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  CHECK(napi_get_typedarray_info(env, a.argv[1], &type, &length, &data, nullptr, nullptr));
  if (type != napi_uint32_array) {
    napi_throw_type_error(env, nullptr, "iapo_native: the Adam table must be a Uint32Array");
    return nullptr;
  }
  const uint32_t* table = static_cast<const uint32_t*>(data);
  const size_t count = static_cast<size_t>(Num(env, a.argv[2]));
  if (count * 5 > length) {
    napi_throw_range_error(env, nullptr, "iapo_native: the Adam table is shorter than its count");
    return nullptr;
  }
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
  for (size_t i = 0; i < count; i++) {
    const uint32_t* row = table + 5 * i;
    float* value = reinterpret_cast<float*>(heap + row[0]);
    const float* grad = reinterpret_cast<const float*>(heap + row[1]);
    float* m = reinterpret_cast<float*>(heap + row[2]);
    float* v = reinterpret_cast<float*>(heap + row[3]);
    AdamRow(value, grad, m, v, row[4], {b1, one_minus_b1, b2, one_minus_b2, eps, neg_lr, c1, c2});
  }
  return nullptr;
}

// Reads a Uint32Array argument; nullptr with a JS error thrown when it is something else.
const uint32_t* U32(napi_env env, napi_value v, size_t* length) {
  napi_typedarray_type type;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr) != napi_ok || type != napi_uint32_array) {
    napi_throw_type_error(env, nullptr, "iapo_native: expected a Uint32Array table");
    return nullptr;
  }
  return static_cast<const uint32_t*>(data);
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

// sumSquares(heap, table, count): Σ x² over count tensors, table [offset, size] per tensor, summed in double
// (a global gradient norm in one call).
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 3)) return nullptr;
  size_t heap_len = 0, length = 0;
  uint8_t* heap = Heap(env, a.argv[0], &heap_len);
  if (!heap) return nullptr;
  const uint32_t* table = U32(env, a.argv[1], &length);
  if (!table) return nullptr;
  const size_t count = static_cast<size_t>(Num(env, a.argv[2]));
  if (count * 2 > length) {
    napi_throw_range_error(env, nullptr, "iapo_native: table shorter than its count");
    return nullptr;
  }
  double total = 0;
  for (size_t i = 0; i < count; i++) {
    if (!InHeap(env, heap_len, table[2 * i], 4.0 * table[2 * i + 1])) return nullptr;
    const float* x = reinterpret_cast<const float*>(heap + table[2 * i]);
    total += SumSquaresRow(x, table[2 * i + 1]);
  }
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
  if (!GetArgs(env, info, &a, 5)) return nullptr;
  size_t heap_len = 0, length = 0;
  uint8_t* heap = Heap(env, a.argv[0], &heap_len);
  if (!heap) return nullptr;
  const uint32_t* table = U32(env, a.argv[1], &length);
  if (!table) return nullptr;
  const size_t count = static_cast<size_t>(Num(env, a.argv[2]));
  const float keep = static_cast<float>(Num(env, a.argv[3])), take = static_cast<float>(Num(env, a.argv[4]));
  if (count * 3 > length) {
    napi_throw_range_error(env, nullptr, "iapo_native: table shorter than its count");
    return nullptr;
  }
  for (size_t i = 0; i < count; i++) {
    const uint32_t* row = table + 3 * i;
    if (!InHeap(env, heap_len, row[0], 4.0 * row[2]) || !InHeap(env, heap_len, row[1], 4.0 * row[2])) return nullptr;
  }
  for (size_t i = 0; i < count; i++) {
    const uint32_t* row = table + 3 * i;
    PolyakRow(reinterpret_cast<float*>(heap + row[0]), reinterpret_cast<const float*>(heap + row[1]), row[2], keep, take);
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

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, &a, 1)) return nullptr;
  openblas_set_num_threads(static_cast<int>(Num(env, a.argv[0])));
  return nullptr;
}

// blasInfo(): { coreName, config, threads } as OpenBLAS reports them (coreName shows whether
// OPENBLAS_CORETYPE took effect).
napi_value BlasInfo(napi_env env, napi_callback_info) {
  napi_value out, core, config, threads;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &threads));
  CHECK(napi_set_named_property(env, out, "coreName", core));
  CHECK(napi_set_named_property(env, out, "config", config));
  CHECK(napi_set_named_property(env, out, "threads", threads));
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemmOnBase", nullptr, GemmOnBase, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"denseGrad", nullptr, DenseGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"polyak", nullptr, Polyak, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemmSeconds", nullptr, SgemmSeconds, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasInfo", nullptr, BlasInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
