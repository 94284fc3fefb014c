// iapo's own GEMM for network passes whose weights are packed once per call: C = A·B (+ bias, ReLU, mask).
//
// Why not OpenBLAS here: sgemm packs B again for every call, and mlpPasses calls it per 256-row block, ten
// times per weight matrix in a 2560-row pass (perf: packing ~20% of sgemm's time); a beta = 0 product also
// clears C first, and bias, ReLU and the backward's ReLU slope each take another pass over the block. Packing
// the weights once per mlpPasses call and adding bias, ReLU and slope while the tile is still in registers saves
// the repacking and those passes (IAPO_PACKED_GEMM=0 runs the sgemm path, for comparison).
//
// Kernels for AVX-512 (6 x 64 tiles) and AVX2 with FMA (6 x 16 tiles) over the same packed panels; both sum each
// element's products in the same order with fused multiply-adds, so they give the same values bit for bit.
// BestIsa() says which this CPU runs; on CPUs with neither, mlpPasses keeps sgemm.
#pragma once

#include <cstddef>
#include <vector>

namespace iapo {

// B [k, n] laid out in panels of kPanel columns: panel p holds B[kk][p·kPanel + j] at (p·k + kk)·kPanel + j,
// the last panel zero-padded. 64-byte aligned. Grows, never shrinks (one per mlpPasses pass slot and layer).
// The instruction sets the kernels are written for.
enum class Isa { kNone = 0, kAvx2 = 1, kAvx512 = 2 };
Isa BestIsa();  // the widest this CPU runs (kNone: neither)
const char* IsaName(Isa isa);  // "off", "avx2", "avx512"
bool ParseIsa(const char* name, Isa* isa);  // IsaName's inverse; false for any other name

class PackedB {
 public:
  static constexpr int kPanel = 64;
  // From b [k, n] row-major, or with `transposed` from b [n, k] row-major (B = bᵀ: a layer's backward dz·wᵀ),
  // transposing in registers with `isa`'s instructions (scalar with kNone).
  void Pack(const float* b, int k, int n, bool transposed, Isa isa);
  int k() const { return k_; }
  int n() const { return n_; }
  int panels() const { return (n_ + kPanel - 1) / kPanel; }
  int width(int p) const { return n_ - p * kPanel < kPanel ? n_ - p * kPanel : kPanel; }  // panel p's columns (the rest padding)
  const float* Panel(int p) const { return data_ + static_cast<size_t>(p) * k_ * kPanel; }

 private:
  std::vector<float> storage_;
  float* data_ = nullptr;
  int k_ = 0, n_ = 0;
};

// What is applied to each element of A·B before it is stored, in this order.
struct Epilogue {
  const float* bias = nullptr;  // [n] added per column, or nullptr
  bool relu = false;            // max(·, 0)
  const float* mask = nullptr;  // [m, n] with row stride ldm: the element is kept where mask > 0, else 0
  int ldm = 0;                  //   (the ReLU slope of the layer below, read from its output), or nullptr
};

// C[m, n] (row stride ldc) = epilogue(A[m, k] (row stride lda) · B) with `isa`'s kernel (kAvx2 or kAvx512, one
// this CPU runs). Each element sums its k products in order of k with fused multiply-adds, so a row's values
// depend on nothing but that row: not on blocks, threads or the instruction set.
void GemmPacked(Isa isa, float* C, int ldc, const float* A, int lda, int m, const PackedB& B, const Epilogue& e);

}  // namespace iapo
