// The addon's N-API functions (registered in addon.cc) and the settings they share.
#pragma once

#include <node_api.h>

#include "packed_gemm.h"

namespace iapo_native {

// Which packed-GEMM kernels mlpPasses runs its products on (packed_gemm.h), kNone for sgemm; setPackedGemm
// chooses (tests compare them).
extern iapo::Isa g_gemm_isa;

napi_value Gemm(napi_env env, napi_callback_info info);                // dense_layer.cc
napi_value DenseGrad(napi_env env, napi_callback_info info);           // dense_layer.cc
napi_value MlpPasses(napi_env env, napi_callback_info info);           // mlp_passes.cc
napi_value Adam(napi_env env, napi_callback_info info);                // optimizer_kernels.cc
napi_value SumSquares(napi_env env, napi_callback_info info);          // optimizer_kernels.cc
napi_value Polyak(napi_env env, napi_callback_info info);              // optimizer_kernels.cc
napi_value TanhGaussianSample(napi_env env, napi_callback_info info);  // policy_kernels.cc
napi_value TanhGaussianGrad(napi_env env, napi_callback_info info);    // policy_kernels.cc
napi_value NormalPairs(napi_env env, napi_callback_info info);         // policy_kernels.cc
napi_value SgemmSeconds(napi_env env, napi_callback_info info);        // machine.cc
napi_value MacCount(napi_env env, napi_callback_info info);            // machine.cc
napi_value SetThreads(napi_env env, napi_callback_info info);          // machine.cc
napi_value SetPackedGemm(napi_env env, napi_callback_info info);       // machine.cc
napi_value BlasInfo(napi_env env, napi_callback_info info);            // machine.cc

}  // namespace iapo_native
