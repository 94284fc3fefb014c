// The single-layer calls behind tfjs's matmul kernels on the wasm backend (lib/backend/wasm-kernels.ts): gemm,
// a batched product with bias and activation, and denseGrad, its backward.
#include "dense_kernels.h"
#include "entry_points.h"
#include "napi_args.h"

#include <vector>

namespace iapo_native {

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

static std::vector<float> g_scratch;  // dz of the dense backward pass; JS is single-threaded, so one buffer serves.

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

}  // namespace iapo_native
