{
  "targets": [
    {
      "target_name": "iapo_native",
      "sources": [
        "addon.cc",
        "dense_kernels.cc",
        "dense_layer.cc",
        "machine.cc",
        "mlp_layers.cc",
        "mlp_passes.cc",
        "optimizer_kernels.cc",
        "packed_gemm.cc",
        "pass_table.cc",
        "policy_kernels.cc"
      ],
      "defines": ["NAPI_VERSION=8", "IAPO_SOURCES_HASH=<!(node sources-hash.js)"],
      "cflags_cc": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c++17"],
      "libraries": ["-lopenblas"]
    }
  ]
}
