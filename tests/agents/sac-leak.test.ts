/**
 * No tensor, byte or wasm-heap leak across 1000 SAC updates (with acting in between) on the path training runs
 * (the fused native update), for both amortized optimizers: a training run makes ~10^6 of them. The tfjs paths
 * (IAPO_FUSED_SAC=0, or no addon) take 10-55 ms per update even at these shapes (more while the host steals),
 * so their iterative cases run fewer; a leak in every update shows after the first.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { loadNative } from "../../lib/backend/native";
import { asWasmBackend, heapOf } from "../../lib/backend/wasm-heap";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { SacAgent } from "../../lib/agents/sac/agent";
import { defaultSacConfig, type SacConfig } from "../../lib/agents/sac/config";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { Rng } from "../../lib/core/rng";

const native = loadNative();
const OBS = 3;
const ACT = 2;

function config(optimizer: "direct" | "iterative"): SacConfig {
  return {
    ...defaultSacConfig("Bandit", optimizer, "smoke"),
    batchSize: 16,
    policyHiddenSizes: [16, 16],
    samples: optimizer === "direct" ? 1 : 2,
    iterations: { train: 2, act: 2 },
  };
}

// The fused update; tfjs autodiff over the native kernels and Adam (IAPO_FUSED_SAC=0); the fallback without the addon.
const CASES: { backend: "wasm-native" | "wasm-js"; fused: boolean; optimizer: "direct" | "iterative"; updates: number }[] = [
  { backend: "wasm-native", fused: true, optimizer: "direct", updates: 1000 },
  { backend: "wasm-native", fused: true, optimizer: "iterative", updates: 1000 },
  { backend: "wasm-native", fused: false, optimizer: "direct", updates: 1000 },
  { backend: "wasm-native", fused: false, optimizer: "iterative", updates: 300 },
  { backend: "wasm-js", fused: false, optimizer: "direct", updates: 1000 },
  { backend: "wasm-js", fused: false, optimizer: "iterative", updates: 100 },
];

for (const { backend, fused, optimizer, updates: UPDATES } of CASES) {
  const path = fused ? "fused" : "tfjs";
  const skip = backend === "wasm-native" && !native.ok ? `native addon not available (${native.ok ? "" : native.why})` : false;
  test(`SAC (${optimizer}, ${path} path on ${backend}): no tensor, byte or heap growth across ${UPDATES} updates`, { skip }, async () => {
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
      // optimizer slots, workspaces and packed-weight buffers are made on first use
      for (let i = 0; i < 5; i++) step(i);
      const before = tf.memory();
      const heapBefore = heapOf(asWasmBackend(tf.backend())).byteLength;
      let last: Record<string, number> = {};
      for (let i = 0; i < UPDATES; i++) last = step(i);
      const after = tf.memory();
      assert.equal(after.numTensors, before.numTensors, "updates leaked tensors");
      assert.equal(after.numBytes, before.numBytes, "updates leaked tensor bytes");
      assert.equal(heapOf(asWasmBackend(tf.backend())).byteLength, heapBefore, "the wasm heap grew");
      assert.equal(agent.updates, UPDATES + 5);
      for (const [name, value] of Object.entries(last)) assert.ok(Number.isFinite(value), `${name} is ${value} after ${UPDATES} updates`);
      agent.dispose();
      assert.ok(tf.memory().numTensors < before.numTensors, "dispose frees the agent's tensors");
    } finally {
      setFusedSacUpdates(true);
    }
  });
}
