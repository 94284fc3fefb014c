// See packed_gemm.h. With AVX-512 a tile of up to 6 rows x 64 columns is summed in 24 registers: per k, four
// loads of the packed B row and one broadcast per row of A (rows read in place, ~6 KB, from L1), 24 fused
// multiply-adds. Against 12 x 32 and 14 x 32 tiles (28 registers, one B vector pair per k), 6 x 64 loads fewer
// values per multiply-add, and runs faster. With AVX2 (16 registers of 8 floats) a tile is 6 rows x 16 columns in
// 12 registers, four per panel.
#include "packed_gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(IAPO_NO_X86_KERNELS)  // the define checks the portable build here
#include <immintrin.h>
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wmaybe-uninitialized reports at every
// inlined use (GCC bug 105593); nothing here reads an uninitialised value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define IAPO_HAS_X86_KERNELS 1
#define IAPO_AVX512 __attribute__((target("avx512f")))
#define IAPO_AVX2 __attribute__((target("avx2,fma")))
#else
#define IAPO_HAS_X86_KERNELS 0
#endif

namespace iapo {

#if IAPO_HAS_X86_KERNELS
namespace {

// Transposes the 16x16 floats in r (row i becomes column i): pairs of rows interleaved as floats, then as
// float pairs, then 128-bit lanes gathered twice.
IAPO_AVX512 inline void Transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // u[4i + c] holds, in its 128-bit lane L, column 4L + c of rows 4i..4i+3.
  for (int c = 0; c < 4; c++) {
    const __m512 a0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), a1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
    const __m512 b0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), b1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
    r[c] = _mm512_shuffle_f32x4(a0, b0, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(a0, b0, 0xdd);
    r[4 + c] = _mm512_shuffle_f32x4(a1, b1, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(a1, b1, 0xdd);
  }
}

// dst[kk·kPanel + j] = b[(c0 + j)·k + kk] for j < 16·groups, kk < 16·(k / 16): whole 16x16 tiles of a panel.
// A scalar loop with either index inner is ten times slower (strided accesses).
IAPO_AVX512 void TransposeTiles(float* dst, const float* b, int k, int c0, int groups) {
  for (int g = 0; g < groups; g++) {
    for (int kk = 0; kk + 16 <= k; kk += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(b + static_cast<size_t>(c0 + 16 * g + i) * k + kk);
      Transpose16(r);
      for (int i = 0; i < 16; i++) _mm512_store_ps(dst + static_cast<size_t>(kk + i) * PackedB::kPanel + 16 * g, r[i]);
    }
  }
}

// Transposes the 8x8 floats in r: pairs of rows interleaved as floats, then as float pairs, then 128-bit halves.
IAPO_AVX2 inline void Transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; c++) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// TransposeTiles with 8x8 tiles.
IAPO_AVX2 void TransposeTiles8(float* dst, const float* b, int k, int c0, int groups) {
  for (int g = 0; g < groups; g++) {
    for (int kk = 0; kk + 8 <= k; kk += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(b + static_cast<size_t>(c0 + 8 * g + i) * k + kk);
      Transpose8(r);
      for (int i = 0; i < 8; i++) _mm256_store_ps(dst + static_cast<size_t>(kk + i) * PackedB::kPanel + 8 * g, r[i]);
    }
  }
}

}  // namespace
#endif

Isa BestIsa() {
#if IAPO_HAS_X86_KERNELS
  static const Isa best = __builtin_cpu_supports("avx512f")                               ? Isa::kAvx512
                          : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::kAvx2
                                                                                            : Isa::kNone;
  return best;
#else
  return Isa::kNone;
#endif
}

const char* IsaName(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : isa == Isa::kAvx2 ? "avx2" : "off"; }

bool ParseIsa(const char* name, Isa* isa) {
  for (Isa candidate : {Isa::kNone, Isa::kAvx2, Isa::kAvx512}) {
    if (std::strcmp(name, IsaName(candidate)) == 0) {
      *isa = candidate;
      return true;
    }
  }
  return false;
}

void PackedB::Pack(const float* b, int k, int n, bool transposed, Isa isa) {
  k_ = k;
  n_ = n;
  const size_t floats = static_cast<size_t>(panels()) * k * kPanel;
  if (storage_.size() < floats + 16) storage_.resize(floats + 16);
  const uintptr_t at = reinterpret_cast<uintptr_t>(storage_.data());
  data_ = reinterpret_cast<float*>((at + 63) & ~static_cast<uintptr_t>(63));
  for (int p = 0; p < panels(); p++) {
    float* dst = data_ + static_cast<size_t>(p) * k * kPanel;
    const int c0 = p * kPanel;
    const int valid = width(p);
    if (!transposed) {
      for (int kk = 0; kk < k; kk++) {
        float* row = dst + static_cast<size_t>(kk) * kPanel;
        std::memcpy(row, b + static_cast<size_t>(kk) * n + c0, sizeof(float) * valid);
        std::memset(row + valid, 0, sizeof(float) * (kPanel - valid));
      }
      continue;
    }
    // b [n, k]: column j of the panel is row c0 + j of b. Whole 16x16 (8x8) tiles in registers, the rest one by one.
    int tiled_j = 0, tiled_k = 0;
#if IAPO_HAS_X86_KERNELS
    const int tile = isa == Isa::kAvx512 ? 16 : isa == Isa::kAvx2 ? 8 : 0;
    if (tile > 0) {
      tiled_j = valid / tile * tile;
      tiled_k = k / tile * tile;
      if (tile == 16) {
        TransposeTiles(dst, b, k, c0, valid / 16);
      } else {
        TransposeTiles8(dst, b, k, c0, valid / 8);
      }
    }
#else
    (void)isa;
#endif
    for (int j = 0; j < valid; j++) {
      const float* src = b + static_cast<size_t>(c0 + j) * k;
      for (int kk = j < tiled_j ? tiled_k : 0; kk < k; kk++) dst[static_cast<size_t>(kk) * kPanel + j] = src[kk];
    }
    for (int kk = 0; valid < kPanel && kk < k; kk++) {
      std::memset(dst + static_cast<size_t>(kk) * kPanel + valid, 0, sizeof(float) * (kPanel - valid));
    }
  }
}

#if IAPO_HAS_X86_KERNELS

namespace {

// One tile: C[MR, 16·NV] at C (row stride ldc) from A's MR rows and one panel; `last` masks the tile's last
// 16 columns (the panel's padding). bias and mask point at the tile's first column (mask at its first row).
template <int MR, int NV>
IAPO_AVX512 void Tile(float* C, int ldc, const float* A, int lda, const float* panel, int k, __mmask16 last, const float* bias,
                      bool relu, const float* mask, int ldm) {
  __m512 acc[MR][NV];
  for (int r = 0; r < MR; r++) {
    for (int q = 0; q < NV; q++) acc[r][q] = _mm512_setzero_ps();
  }
  for (int kk = 0; kk < k; kk++) {
    const float* brow = panel + static_cast<size_t>(kk) * PackedB::kPanel;
    __m512 b[NV];
    for (int q = 0; q < NV; q++) b[q] = _mm512_load_ps(brow + 16 * q);
    for (int r = 0; r < MR; r++) {
      const __m512 a = _mm512_set1_ps(A[static_cast<size_t>(r) * lda + kk]);
      for (int q = 0; q < NV; q++) acc[r][q] = _mm512_fmadd_ps(a, b[q], acc[r][q]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int q = 0; q < NV; q++) {
    const __mmask16 cols = q == NV - 1 ? last : static_cast<__mmask16>(0xFFFF);
    const __m512 bq = bias ? _mm512_maskz_loadu_ps(cols, bias + 16 * q) : zero;
    for (int r = 0; r < MR; r++) {
      __m512 v = acc[r][q];
      if (bias) v = _mm512_add_ps(v, bq);
      if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_NLT_UQ), v);  // as std::max(v, 0.f): NaN stays
      if (mask) {
        const __m512 y = _mm512_maskz_loadu_ps(cols, mask + static_cast<size_t>(r) * ldm + 16 * q);
        v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, zero, _CMP_GT_OQ), v);  // as ReluSlope: y > 0 ? v : 0
      }
      _mm512_mask_storeu_ps(C + static_cast<size_t>(r) * ldc + 16 * q, cols, v);
    }
  }
}

using TileFn = void (*)(float*, int, const float*, int, const float*, int, __mmask16, const float*, bool, const float*, int);

template <int MR>
constexpr TileFn kTiles[4] = {Tile<MR, 1>, Tile<MR, 2>, Tile<MR, 3>, Tile<MR, 4>};
constexpr const TileFn* kTileTable[6] = {kTiles<1>, kTiles<2>, kTiles<3>, kTiles<4>, kTiles<5>, kTiles<6>};

// One row of an AVX2 tile at one k: lo/hi += a·(b0, b1).
IAPO_AVX2 __attribute__((always_inline)) inline void AddRow(const float* a, __m256 b0, __m256 b1, __m256& lo, __m256& hi) {
  const __m256 x = _mm256_broadcast_ss(a);
  lo = _mm256_fmadd_ps(x, b0, lo);
  hi = _mm256_fmadd_ps(x, b1, hi);
}

// An AVX2 tile: C[mr, 16] (mr <= 6) from A's mr rows and 16 columns of a panel (`slice` = the panel + 16·s). A
// slice with fewer than 16 valid columns (the panel's padding) finishes in scalar code with the same operations.
// The twelve accumulators are named variables: with arrays indexed by row, GCC kept them on the stack inside the
// k loop (a store after every multiply-add pair, ~1.6x slower). Rows past mr repeat row mr − 1 and are not stored.
IAPO_AVX2 void Tile8(int mr, float* C, int ldc, const float* A, int lda, const float* slice, int k, int valid, const float* bias, bool relu,
                     const float* mask, int ldm) {
  const float* a[6];
  for (int r = 0; r < 6; r++) a[r] = A + static_cast<size_t>(r < mr ? r : mr - 1) * lda;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int kk = 0; kk < k; kk++) {
    const float* brow = slice + static_cast<size_t>(kk) * PackedB::kPanel;
    const __m256 b0 = _mm256_load_ps(brow), b1 = _mm256_load_ps(brow + 8);
    AddRow(a[0] + kk, b0, b1, c00, c01);
    AddRow(a[1] + kk, b0, b1, c10, c11);
    AddRow(a[2] + kk, b0, b1, c20, c21);
    AddRow(a[3] + kk, b0, b1, c30, c31);
    AddRow(a[4] + kk, b0, b1, c40, c41);
    AddRow(a[5] + kk, b0, b1, c50, c51);
  }
  alignas(32) float out[6][16];
  const __m256 sums[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < 6; r++) {
    _mm256_store_ps(out[r], sums[r][0]);
    _mm256_store_ps(out[r] + 8, sums[r][1]);
  }
  const __m256 zero = _mm256_setzero_ps();
  if (valid == 16) {
    for (int h = 0; h < 2; h++) {
      const __m256 bh = bias ? _mm256_loadu_ps(bias + 8 * h) : zero;
      for (int r = 0; r < mr; r++) {
        __m256 v = _mm256_load_ps(out[r] + 8 * h);
        if (bias) v = _mm256_add_ps(v, bh);
        if (relu) v = _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));  // as std::max(v, 0.f): NaN stays
        if (mask) v = _mm256_and_ps(v, _mm256_cmp_ps(_mm256_loadu_ps(mask + static_cast<size_t>(r) * ldm + 8 * h), zero, _CMP_GT_OQ));
        _mm256_storeu_ps(C + static_cast<size_t>(r) * ldc + 8 * h, v);
      }
    }
    return;
  }
  for (int r = 0; r < mr; r++) {
    for (int j = 0; j < valid; j++) {
      float v = out[r][j];
      if (bias) v = v + bias[j];
      if (relu) v = std::max(v, 0.f);
      if (mask) v = mask[static_cast<size_t>(r) * ldm + j] > 0.f ? v : 0.f;
      C[static_cast<size_t>(r) * ldc + j] = v;
    }
  }
}

}  // namespace

void GemmPacked(Isa isa, float* C, int ldc, const float* A, int lda, int m, const PackedB& B, const Epilogue& e) {
  if (isa == Isa::kNone) std::abort();  // the caller runs sgemm instead
  const int k = B.k();
  // Rows outer, panels inner: a row group of A stays in L1 while the panels stream from L2.
  for (int r0 = 0; r0 < m; r0 += 6) {
    const int mr = m - r0 < 6 ? m - r0 : 6;
    for (int p = 0; p < B.panels(); p++) {
      const int c0 = p * PackedB::kPanel;
      const int valid = B.width(p);
      const int nv = (valid + 15) / 16;
      const float* mask = e.mask ? e.mask + static_cast<size_t>(r0) * e.ldm + c0 : nullptr;
      float* c = C + static_cast<size_t>(r0) * ldc + c0;
      const float* a = A + static_cast<size_t>(r0) * lda;
      const float* bias = e.bias ? e.bias + c0 : nullptr;
      if (isa == Isa::kAvx512) {
        const int tail = valid - 16 * (nv - 1);
        const __mmask16 last = static_cast<__mmask16>((1u << tail) - 1u);
        kTileTable[mr - 1][nv - 1](c, ldc, a, lda, B.Panel(p), k, last, bias, e.relu, mask, e.ldm);
        continue;
      }
      for (int q = 0; q < nv; q++) {
        Tile8(mr, c + 16 * q, ldc, a, lda, B.Panel(p) + 16 * q, k, std::min(16, valid - 16 * q), bias ? bias + 16 * q : nullptr, e.relu,
              mask ? mask + 16 * q : nullptr, e.ldm);
      }
    }
  }
}

#else

void GemmPacked(Isa, float*, int, const float*, int, int, const PackedB&, const Epilogue&) { std::abort(); }

#endif

}  // namespace iapo
