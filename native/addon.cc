// iapo's native kernels: OpenBLAS sgemm with fused bias + activation, the matching dense backward pass, whole
// network passes, in-place Adam and Polyak averaging, and the policy's sampling kernels. Every function works
// directly on a caller's ArrayBuffer (the tfjs wasm heap), addressed by byte offsets, so no tensor is ever copied
// between JavaScript and C.
//
// Besides the functions, the addon exports `version`, a hash of the sources it was built from (native/*.cc, *.h,
// computed by native/sources-hash.js at build time), which lib/backend/native.ts compares with the sources beside
// it, so an addon older than its sources is refused at load instead of failing later; and `passLayout`, the field
// positions of mlpPasses's tables (pass_layout.h).
#include <node_api.h>

#include "entry_points.h"
#include "napi_args.h"
#include "pass_layout.h"

#ifndef IAPO_SOURCES_HASH
#error "IAPO_SOURCES_HASH must be defined by the build (binding.gyp runs native/sources-hash.js)"
#endif
#define IAPO_STRINGIZE2(x) #x
#define IAPO_STRINGIZE(x) IAPO_STRINGIZE2(x)

namespace iapo_native {
namespace {

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
  napi_value version;
  CHECK(napi_create_string_utf8(env, IAPO_STRINGIZE(IAPO_SOURCES_HASH), NAPI_AUTO_LENGTH, &version));
  CHECK(napi_set_named_property(env, exports, "version", version));
  napi_value layout = PassLayoutObject(env);
  if (!layout) return nullptr;
  CHECK(napi_set_named_property(env, exports, "passLayout", layout));
  return exports;
}

}  // namespace
}  // namespace iapo_native

NAPI_MODULE(NODE_GYP_MODULE_NAME, iapo_native::Init)
