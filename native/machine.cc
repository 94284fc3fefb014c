// What the addon lets JavaScript set and read about the machine: its threads and GEMM kernels, OpenBLAS's
// configuration, the multiply-add count, and the raw BLAS benchmark.
#include "dense_kernels.h"
#include "entry_points.h"
#include "napi_args.h"
#include "packed_gemm.h"
#include "thread_team.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace iapo_native {


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

}  // namespace iapo_native
