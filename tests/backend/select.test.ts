/** Backend selection: the order and its reasons, forcing by IAPO_BACKEND, and the OpenBLAS environment. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend, useBackend, AUTO_ORDER } from "../../lib/backend/select";
import { loadNative, packedGemmWanted } from "../../lib/backend/native";
import { coreTypeForFlags, describeThreads, prepareBlasEnv } from "../../lib/backend/blas-env";
import { ConfigError } from "../../lib/core/errors";
import { nativeForTests } from "./native-available";

test("IAPO_BACKEND with an unknown name is an error that lists the known ones", async () => {
  await assert.rejects(initBackend({ IAPO_BACKEND: "tpu" }), (err: unknown) => err instanceof ConfigError && /known: .*wasm-native/.test(err.message));
});

test("the automatic order skips the node backends with reasons and picks the fastest wasm setup", async () => {
  const info = await initBackend({});
  const native = loadNative();
  assert.equal(info.name, native.ok ? "wasm-native" : "wasm-js");
  assert.equal(tf.getBackend(), "wasm");
  assert.deepEqual(info.skipped.slice(0, 2).map((s) => s.name), AUTO_ORDER.slice(0, 2));
  for (const s of info.skipped) assert.ok(s.why.length > 0);
  // here @tensorflow/tfjs-node resolves to plain tfjs through npm overrides: detected, not mistaken for libtensorflow
  const node = info.skipped.find((s) => s.name === "node");
  assert.ok(node && /not installed|no native 'tensorflow' backend/.test(node.why), node?.why);
  assert.equal(await initBackend({ IAPO_BACKEND: "cpu" }), info, "initBackend is idempotent");
});

test("useBackend switches between setups and reports a failure clearly", async () => {
  assert.equal((await useBackend("cpu")).tfjsBackend, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.equal((await useBackend("wasm-js")).tfjsBackend, "wasm");
  await assert.rejects(useBackend("node-gpu"), /node-gpu failed to start: package @tensorflow\/tfjs-node-gpu is not installed/);
});

test("OPENBLAS_CORETYPE comes from the CPU flags unless already set", () => {
  assert.equal(coreTypeForFlags(new Set(["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"])), "SkylakeX");
  assert.equal(coreTypeForFlags(new Set(["avx2", "fma", "avx512f"])), "Haswell");
  assert.equal(coreTypeForFlags(new Set(["sse2", "avx"])), null);
  const env: NodeJS.ProcessEnv = {};
  assert.deepEqual(prepareBlasEnv(env, new Set(["avx2", "fma"]), 16), { coreType: "Haswell", coreTypeSource: "from cpu flags", threads: 2, threadsSource: "cores" });
  assert.equal(env.OPENBLAS_CORETYPE, "Haswell");
  assert.equal(env.OPENBLAS_NUM_THREADS, "1", "BLAS single-threaded: iapo parallelises above it");
  const preset: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: "Zen", IAPO_THREADS: "1" };
  assert.deepEqual(prepareBlasEnv(preset, new Set(["avx2", "fma"]), 2), { coreType: "Zen", coreTypeSource: "already set", threads: 1, threadsSource: "IAPO_THREADS" });
  assert.equal(prepareBlasEnv({ IAPO_THREADS: "8" }, new Set(), 8).threads, 2, "at most two");
  assert.equal(prepareBlasEnv({}, new Set(), 1).threads, 1, "one core: one thread");
  assert.throws(() => prepareBlasEnv({ IAPO_THREADS: "two" }, new Set(), 2), /IAPO_THREADS must be a whole number >= 1, got "two"/);
  assert.equal(prepareBlasEnv({}, new Set()).coreTypeSource, "left to OpenBLAS");
});

test("the backend report says whether training runs tune the thread count", () => {
  assert.equal(describeThreads({ threads: 2, threadsSource: "cores" }), "2 threads (cores; training runs move between 1 and 2 by their update times)");
  assert.equal(describeThreads({ threads: 2, threadsSource: "IAPO_THREADS" }), "2 threads (IAPO_THREADS)");
  assert.equal(describeThreads({ threads: 1, threadsSource: "cores" }), "1 thread (cores)");
});

test("IAPO_PACKED_GEMM chooses the network passes' GEMM and refuses other values", () => {
  assert.equal(packedGemmWanted({}), "best");
  assert.equal(packedGemmWanted({ IAPO_PACKED_GEMM: "1" }), "best");
  assert.equal(packedGemmWanted({ IAPO_PACKED_GEMM: "0" }), "off");
  assert.equal(packedGemmWanted({ IAPO_PACKED_GEMM: "avx2" }), "avx2");
  assert.equal(packedGemmWanted({ IAPO_PACKED_GEMM: "avx512" }), "avx512");
  assert.throws(() => packedGemmWanted({ IAPO_PACKED_GEMM: "off" }), /IAPO_PACKED_GEMM must be 0, 1, avx2 or avx512, got "off"/);
  assert.throws(() => packedGemmWanted({ IAPO_PACKED_GEMM: "constructor" }), /got "constructor"/, "not an object's inherited key");
});

test("setPackedGemm names the kernels in effect and refuses unknown modes", { skip: nativeForTests().skip }, () => {
  const native = loadNative();
  assert.ok(native.ok);
  const addon = native.addon;
  const before = addon.blasInfo().packedGemm;
  assert.equal(before, native.packedGemm.kernels);
  assert.equal(addon.setPackedGemm("off"), "off");
  assert.equal(addon.blasInfo().packedGemm, "off");
  const best = addon.setPackedGemm("best");
  assert.ok(["avx512", "avx2", "off"].includes(best));
  if (best === "avx512") assert.equal(addon.setPackedGemm("avx2"), "avx2", "AVX-512 CPUs run the AVX2 kernels too");
  if (best !== "avx512") assert.throws(() => addon.setPackedGemm("avx512"), /cannot run the avx512 kernels/);
  assert.throws(() => addon.setPackedGemm("sse" as never), /unknown mode "sse"/);
  addon.setPackedGemm(before);
});

test("the addon's OpenBLAS runs the core type chosen for this CPU", { skip: nativeForTests().skip }, () => {
  const native = loadNative();
  assert.ok(native.ok);
  if (native.blas.coreType) assert.equal(native.coreName.toLowerCase(), native.blas.coreType.toLowerCase());
  assert.equal(native.addon.blasInfo().threads, native.blas.threads);
  assert.equal(native.addon.blasInfo().blasThreads, Number(process.env.OPENBLAS_NUM_THREADS));
});
