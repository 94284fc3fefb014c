{
  "targets": [
    {
      "target_name": "iapo_native",
      "sources": ["iapo_native.cc", "packed_gemm.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c++17"],
      "libraries": ["-lopenblas"]
    }
  ]
}
