// The policy's sampling kernels for J (lib/agents/sac/fused-update.ts): the tanh-squashed Gaussian's samples,
// log-densities and gradients, and the standard normals they start from.
#include "entry_points.h"
#include "napi_args.h"
#include "thread_team.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace iapo_native {

// The tanh-squashed Gaussian of J's action samples.
// Host arrays (noise, λ, σ, log π, ∇λ) come as typed arrays, the actions and their gradients as heap offsets.
// Row r = n·B + s is sample n of state s. Arithmetic in double, as the JavaScript it replaces (~10x faster).

// rows, B and A from argv[at], argv[at + 1], argv[at + 2]: rows a multiple of B >= 1, A >= 1; else false with a
// JS error naming `what`.
static bool SampleShape(napi_env env, const Args& a, size_t at, const char* what, int* rows, int* B, int* A) {
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
  // Rows are independent (an exp and a log1p per element): on both threads from 512 elements (tens of µs of work),
  // which takes in a direct update's 256 x 6. During an update the worker is spinning, so a hand-off costs only a
  // few µs.
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

// Standard normals for J's samples (lib/core/rng.ts, fillStandardNormal).
//
// normalPairs(state, out, start, pairs): the Rng's Box-Muller pairs, from its xoshiro128** state (Uint32Array [4],
// advanced in place), into out[start ..] (Float32Array) as float32: per pair four words a, b, c, d,
// u = unit53(a, b), r = sqrt(−2 log u), angle = 2π·unit53(c, d), then r cos(angle) and r sin(angle). The same
// arithmetic as the JavaScript in double, with the C library's log, cos and sin: those differ from V8's in the last
// bit of a few % of doubles, which after rounding to float32 changes about one result in 10⁹. Stops before a
// pair whose u is 0 (probability 2⁻⁵³; JavaScript draws u again there) without consuming its words, and returns
// the pairs written. Faster than the JavaScript on one thread (the loop around log and sincos is cheaper) and
// shared between two (an iterative update at N = 10 draws ~180k normals).
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

}  // namespace iapo_native
