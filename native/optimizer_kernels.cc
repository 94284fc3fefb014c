// Per-tensor kernels on the heap (adam, sumSquares, polyak), in pieces on two threads.
//
// Each tensor of a table is cut into pieces of at most kPiece floats; a call's pieces run as tasks of the Team
// (a Q-network's Adam step is ~140k floats). Sums are kept per piece and added in piece order afterwards, so Σ g²
// is the same whichever thread ran which piece, and Adam's and sumSquares's agree exactly.
#include "dense_kernels.h"
#include "entry_points.h"
#include "napi_args.h"
#include "thread_team.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace iapo_native {

namespace {

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
// range, so their share only grows over a run and with it the cost of every Adam step. While in scope, results below the normal range are flushed to zero and such
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

}  // namespace

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
static void PolyakRow(float* __restrict t, const float* __restrict src, uint32_t size, float keep, float take) {
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

}  // namespace iapo_native
