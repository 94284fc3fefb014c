// Whole-network passes, blocked by rows, two networks at once.
//
// mlpPasses runs the forward or the backward pass of one or more dense chains (HeapMlp) in one call. Each
// network's rows go through all its layers a block at a time, so a block's activations and gradients stay in L2
// (a 2560x256 activation does not; a separate elementwise pass over it would go to memory). Two networks (SAC's
// two Q-networks) run at the same time, one on the Team's worker, each with single-threaded BLAS: on two cores
// that halves their time without the per-product thread hand-offs of a threaded sgemm.
#include "dense_kernels.h"
#include "entry_points.h"
#include "mlp_layers.h"
#include "napi_args.h"
#include "packed_gemm.h"
#include "pass_layout.h"
#include "thread_team.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

namespace iapo_native {

iapo::Isa g_gemm_isa = iapo::BestIsa();

namespace {

// Rows per block: about 64k floats per activation block (256 KB), so a 256-wide layer's weights, input and output
// blocks fit in a 1.25 MB L2 together while sgemm packs the weights once per 256 rows.
int BlockRows(const Pass& p) { return std::max(8, std::min(p.rows, 65536 / std::max(1, p.max_width))); }

thread_local ThreadScratch t_scratch;

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
// slack. Larger passes keep halves: those keep a network's rows on the core that runs its backward.
constexpr int kQuarterRows = 512;
// Below this many rows (all passes of a call together) the worker is not asked: a hand-off costs tens of µs and
// is not worth it for acting on one state. At 256 a single 256-row pass (a training batch through the policy
// network) runs its halves side by side too.
constexpr int kParallelRows = 256;
// The second halves' weight gradients, per pass slot and layer (resized on the calling thread only, before the
// worker is given tasks). Like the rest of the addon's state, this assumes JavaScript calls in from one thread.
std::vector<float> g_second_dw[kMaxPasses][kMaxDepth], g_second_dgate_w[kMaxPasses][kMaxDepth];

// Per pass slot and layer, the packed weights of the call in progress.
iapo::PackedB g_packed[kMaxPasses][kMaxDepth];

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

}  // namespace

// mlpPasses(heap, backward, table, count, alpha): runs `count` (<= 8) passes described by `table` (a
// Float64Array; per pass the fields of IAPO_PASS_FIELDS, then IAPO_LAYER_FIELDS per layer: pass_layout.h).
// Forward fills each layer's `out`; backward reads them and writes dInput and the weight gradients (added to what
// they hold with accumulate, else overwritten). With setThreads(2) the passes' halves (quarters for small forward
// passes) are shared between the calling thread and the worker (SAC's two Q-networks run side by side). The
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

}  // namespace iapo_native
