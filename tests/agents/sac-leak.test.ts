/**
 * No tensor, byte or wasm-heap leak across SAC updates (with acting in between) on every update path, for both
 * amortized optimizers: a training run makes ~10^6 of them.
 *
 * How many updates each case needs: a leaked tensor (or its bytes) shows in tf.memory() after the update that leaks
 * it, so the tfjs paths (IAPO_FUSED_SAC=0, or no addon; 10-150 ms per update) run 40, which covers every periodic
 * branch twice (acting every 10 updates, exploring every 20). A leak of wasm-heap memory that is not a tensor (a
 * storage record re-registered by the fused path's in-place Adam and not freed) shows only once the heap has to
 * grow, after thousands of bytes; the fused path, which training runs and which takes about a millisecond per
 * update here, runs 1000. A last test injects each kind of leak and checks that the same measurement reports it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { nativeForTests } from "../backend/native-available";
import { asWasmBackend, heapOf } from "../../lib/backend/wasm-heap";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { SacAgent } from "../../lib/agents/sac/agent";
import type { SacConfig } from "../../lib/agents/sac/config";
import { defaultSacConfig } from "../../lib/presets";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { Rng } from "../../lib/core/rng";
import type { WasmBackend } from "../../lib/backend/wasm-heap";

const { skip: nativeSkip } = nativeForTests();
const OBS = 3;
const ACT = 2;

function config(optimizer: "direct" | "iterative"): SacConfig {
  return {
    ...defaultSacConfig("Bandit", optimizer, "smoke"),
    batchSize: 16,
    policyHiddenSizes: [16, 16],
    samples: optimizer === "direct" ? 1 : 2,
    iterations: { train: 2, act: 2, eval: 2 },
  };
}

/** What one leak measurement saw: growth across the timed updates, and the last update's metrics. */
interface Growth {
  tensors: number;
  bytes: number;
  heapBytes: number;
  last: Record<string, number>;
  /** Live tensors after the agent was disposed minus before the timed updates (negative: dispose frees). */
  afterDispose: number;
}

/** Raw allocations in the wasm heap (emscripten's malloc), for the injected heap leak. */
type Malloc = { _malloc(bytes: number): number; _free(pointer: number): void };

/**
 * Runs `updates` updates (acting every 10th, exploring every 20th) after 5 untimed ones that create optimizer
 * slots, workspaces and packed-weight buffers, and reports the growth. `leak`, called once per timed update,
 * injects a leak to show the measurement catches it.
 */
async function measureGrowth(backend: "wasm-native" | "wasm-js", fused: boolean, optimizer: "direct" | "iterative", updates: number, leak?: () => void): Promise<Growth> {
  await useBackend(backend);
  setFusedSacUpdates(fused);
  try {
    const data = new Rng(4);
    const buffer = new ReplayBuffer(256, OBS, ACT);
    for (let i = 0; i < 256; i++) {
      buffer.add(data.fillNormal(new Float32Array(OBS)), data.fillUniform(new Float32Array(ACT), -1, 1), data.normal(), data.fillNormal(new Float32Array(OBS)), data.random() < 0.1);
    }
    const agent = SacAgent.create(config(optimizer), { observationSize: OBS, actionSize: ACT }, new Rng(8));
    assert.equal(agent.updatePath().path, fused ? "fused" : "tfjs", agent.updatePath().why);
    const rng = new Rng(15);
    const step = (i: number): Record<string, number> => {
      const metrics = agent.update(buffer.sample(16, rng));
      if (i % 10 === 0) agent.act(data.fillNormal(new Float32Array(OBS)), i % 20 === 0 ? "explore" : "eval");
      return metrics;
    };
    for (let i = 0; i < 5; i++) step(i);
    const heap = (): number => heapOf(asWasmBackend(tf.backend())).byteLength;
    const before = tf.memory();
    const heapBefore = heap();
    let last: Record<string, number> = {};
    for (let i = 0; i < updates; i++) {
      last = step(i);
      leak?.();
    }
    const after = tf.memory();
    const heapBytes = heap() - heapBefore;
    assert.equal(agent.updates, updates + 5);
    agent.dispose();
    return { tensors: after.numTensors - before.numTensors, bytes: after.numBytes - before.numBytes, heapBytes, last, afterDispose: tf.memory().numTensors - before.numTensors };
  } finally {
    setFusedSacUpdates(true);
  }
}

// The fused update; tfjs autodiff over the native kernels and Adam (IAPO_FUSED_SAC=0); the fallback without the addon.
const CASES: { backend: "wasm-native" | "wasm-js"; fused: boolean; optimizer: "direct" | "iterative"; updates: number }[] = [
  { backend: "wasm-native", fused: true, optimizer: "direct", updates: 1000 },
  { backend: "wasm-native", fused: true, optimizer: "iterative", updates: 1000 },
  { backend: "wasm-native", fused: false, optimizer: "direct", updates: 40 },
  { backend: "wasm-native", fused: false, optimizer: "iterative", updates: 40 },
  { backend: "wasm-js", fused: false, optimizer: "direct", updates: 40 },
  { backend: "wasm-js", fused: false, optimizer: "iterative", updates: 40 },
];

for (const { backend, fused, optimizer, updates } of CASES) {
  const path = fused ? "fused" : "tfjs";
  const skip = backend === "wasm-native" ? nativeSkip : false;
  test(`SAC (${optimizer}, ${path} path on ${backend}): no tensor, byte or heap growth across ${updates} updates`, { skip }, async () => {
    const g = await measureGrowth(backend, fused, optimizer, updates);
    assert.equal(g.tensors, 0, "updates leaked tensors");
    assert.equal(g.bytes, 0, "updates leaked tensor bytes");
    assert.equal(g.heapBytes, 0, "the wasm heap grew");
    for (const [name, value] of Object.entries(g.last)) assert.ok(Number.isFinite(value), `${name} is ${value} after ${updates} updates`);
    assert.ok(g.afterDispose < 0, "dispose frees the agent's tensors");
  });
}

test("the measurement catches an injected leak: one tensor per update, and heap memory that is not a tensor", async () => {
  const kept: tf.Tensor[] = [];
  const tensorLeak = await measureGrowth("wasm-js", false, "direct", 3, () => kept.push(tf.zeros([4])));
  tf.dispose(kept);
  assert.equal(tensorLeak.tensors, 3);
  assert.equal(tensorLeak.bytes, 3 * 4 * 4);
  // 1 MiB per update outgrows any free space the heap has after a few; the real cases leave it exactly unchanged
  const pointers: number[] = [];
  let wasm: Malloc | undefined;
  const heapLeak = await measureGrowth("wasm-js", false, "direct", 20, () => {
    wasm = (asWasmBackend(tf.backend()) as WasmBackend).wasm as unknown as Malloc;
    pointers.push(wasm._malloc(1 << 20));
  });
  for (const p of pointers) wasm?._free(p);
  assert.equal(heapLeak.tensors, 0);
  assert.ok(heapLeak.heapBytes > 0, "20 MiB of raw allocations grew the heap");
});
