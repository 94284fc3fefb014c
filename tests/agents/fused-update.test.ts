/**
 * The hand-written SAC update (lib/agents/sac/fused-update.ts) against the tfjs path it replaces, and the
 * whole-network heap kernels (lib/backend/heap-mlp.ts) against tfjs "cpu". Skipped where the addon is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { loadNative } from "../../lib/backend/native";
import { HeapBlock, HeapMlp, blockSize } from "../../lib/backend/heap-mlp";
import { asWasmBackend, heapOf } from "../../lib/backend/wasm-heap";
import { activeAddon } from "../../lib/backend/wasm-kernels";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { SacAgent } from "../../lib/agents/sac/agent";
import { defaultSacConfig, type SacConfig } from "../../lib/agents/sac/config";
import type { InputNormalization } from "../../lib/policy/input-normalization";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { Rng } from "../../lib/core/rng";
import { relativeError } from "../backend/compare";

const native = loadNative();
const skip = native.ok ? false : `native addon not available (${native.ok ? "" : native.why})`;

test("HeapMlp forward and backward (dx, dw, db; accumulate; dx only) match tfjs cpu", { skip }, async () => {
  const rng = new Rng(3);
  const sizes = [7, 16, 16, 3];
  const rows = 9;
  const host = {
    x: rng.fillNormal(new Float32Array(rows * sizes[0])) as Float32Array,
    dOut: rng.fillNormal(new Float32Array(rows * sizes[3])) as Float32Array,
    w: sizes.slice(1).map((n, i) => rng.fillNormal(new Float32Array(sizes[i] * n), 0, 0.5) as Float32Array),
    b: sizes.slice(1).map((n) => rng.fillNormal(new Float32Array(n), 0, 0.5) as Float32Array),
  };
  const acts = ["relu", "tanh", "linear"] as const;
  // Reference: tfjs cpu, stock ops, gradients of Σ dOut ⊙ f(x).
  await useBackend("cpu");
  const want = tf.tidy(() => {
    const ws = host.w.map((w, i) => tf.tensor2d(w, [sizes[i], sizes[i + 1]]));
    const bs = host.b.map((b) => tf.tensor1d(b));
    const f = (x: tf.Tensor, ...params: tf.Tensor[]): tf.Tensor => {
      let h = x;
      for (let i = 0; i < 3; i++) {
        const z = tf.add(tf.matMul(h, params[i]), params[3 + i]);
        h = acts[i] === "relu" ? tf.relu(z) : acts[i] === "tanh" ? tf.tanh(z) : z;
      }
      return h;
    };
    const x = tf.tensor2d(host.x, [rows, sizes[0]]);
    const dOut = tf.tensor2d(host.dOut, [rows, sizes[3]]);
    const out = f(x, ...ws, ...bs);
    const grads = tf.grads((xx: tf.Tensor, ...p: tf.Tensor[]) => tf.sum(tf.mul(f(xx, ...p), dOut)))([x, ...ws, ...bs]);
    return [out, ...grads].map((t) => t.dataSync() as Float32Array).map((a) => Float32Array.from(a));
  });
  await useBackend("wasm-native");
  assert.ok(activeAddon(), "wasm-native is active");
  const backend = asWasmBackend(tf.backend());
  const ws = host.w.map((w, i) => tf.variable(tf.tensor2d(w, [sizes[i], sizes[i + 1]])));
  const bs = host.b.map((b) => tf.variable(tf.tensor1d(b)));
  const mlp = new HeapMlp(activeAddon() as NonNullable<ReturnType<typeof activeAddon>>, backend, ws.map((w, i) => ({ w, b: bs[i], activation: acts[i] })));
  const counts = [rows * sizes[0], ...mlp.activationFloats(rows), rows * sizes[3], rows * sizes[0], 2 * rows * mlp.maxWidth, ...sizes.slice(1).flatMap((n, i) => [sizes[i] * n, n])];
  const block = new HeapBlock(backend, blockSize(counts));
  const trace = mlp.makeTrace(block, rows, block.take(rows * sizes[0]));
  const dOut = block.take(rows * sizes[3]);
  const dInput = block.take(rows * sizes[0]);
  const scratch: [number, number] = [block.take(rows * mlp.maxWidth), block.take(rows * mlp.maxWidth)];
  const grads = sizes.slice(1).map((n, i) => ({ w: block.take(sizes[i] * n), b: block.take(n) }));
  const view = (off: number, n: number): Float32Array => new Float32Array(heapOf(backend), off, n);
  view(trace.input, host.x.length).set(host.x);
  view(dOut, host.dOut.length).set(host.dOut);
  mlp.forward(trace);
  assert.ok(relativeError(view(trace.outputs[2], rows * 3), want[0]) <= 1e-4, "forward");
  mlp.backward(trace, dOut, grads, dInput, scratch, false);
  assert.ok(relativeError(view(dInput, host.x.length), want[1]) <= 1e-4, "d input");
  grads.forEach((g, i) => {
    assert.ok(relativeError(view(g.w, host.w[i].length), want[2 + i]) <= 1e-4, `dw${i}`);
    assert.ok(relativeError(view(g.b, host.b[i].length), want[5 + i]) <= 1e-4, `db${i}`);
  });
  // accumulate adds; a dx-only pass leaves the weight gradients alone.
  mlp.backward(trace, dOut, grads, -1, scratch, true);
  grads.forEach((g, i) => assert.ok(relativeError(view(g.w, host.w[i].length), want[2 + i].map((v) => 2 * v)) <= 1e-4, `accumulated dw${i}`));
  view(dInput, host.x.length).fill(0);
  mlp.backward(trace, dOut, null, dInput, scratch, false);
  assert.ok(relativeError(view(dInput, host.x.length), want[1]) <= 1e-4, "d input without weight gradients");
  grads.forEach((g, i) => assert.ok(relativeError(view(g.w, host.w[i].length), want[2 + i].map((v) => 2 * v)) <= 1e-4, `dw${i} untouched`));
  block.dispose();
  tf.dispose([...ws, ...bs]);
});

test("HeapMlp with the first layer's fixed inputs precomputed (forwardOnBase) matches the whole pass", { skip }, async () => {
  await useBackend("wasm-native");
  const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
  const backend = asWasmBackend(tf.backend());
  const rng = new Rng(4);
  const [fixed, varying, hidden] = [5, 2, 8];
  const states = 3;
  const rows = 2 * states; // sample-major repeats of the states, as J's rows
  const ws = [tf.variable(tf.randomNormal([fixed + varying, hidden], 0, 0.5, "float32", 1)), tf.variable(tf.randomNormal([hidden, 1], 0, 0.5, "float32", 2))];
  const bs = [tf.variable(tf.randomNormal([hidden], 0, 0.5, "float32", 3)), tf.variable(tf.randomNormal([1], 0, 0.5, "float32", 4))];
  const mlp = new HeapMlp(addon, backend, [{ w: ws[0], b: bs[0], activation: "relu" }, { w: ws[1], b: bs[1], activation: "linear" }]);
  assert.ok(mlp.canSplitFirstLayer);
  const block = new HeapBlock(backend, blockSize([rows * (fixed + varying), rows * varying, states * fixed, states * hidden, ...mlp.activationFloats(rows), ...mlp.activationFloats(rows), rows, rows * (fixed + varying), rows * varying, 2 * rows * mlp.maxWidth]));
  const whole = mlp.makeTrace(block, rows, block.take(rows * (fixed + varying)));
  const split = mlp.makeTrace(block, rows, block.take(rows * varying));
  const [stateRows, base, dOut, dWhole, dSplit] = [block.take(states * fixed), block.take(states * hidden), block.take(rows), block.take(rows * (fixed + varying)), block.take(rows * varying)];
  const scratch: [number, number] = [block.take(rows * mlp.maxWidth), block.take(rows * mlp.maxWidth)];
  const view = (off: number, n: number): Float32Array => new Float32Array(heapOf(backend), off, n);
  const s = rng.fillNormal(new Float32Array(states * fixed)) as Float32Array;
  const a = rng.fillNormal(new Float32Array(rows * varying)) as Float32Array;
  view(stateRows, s.length).set(s);
  view(split.input, a.length).set(a);
  for (let r = 0; r < rows; r++) {
    view(whole.input + 4 * r * (fixed + varying), fixed).set(s.subarray((r % states) * fixed, (r % states + 1) * fixed));
    view(whole.input + 4 * (r * (fixed + varying) + fixed), varying).set(a.subarray(r * varying, (r + 1) * varying));
  }
  view(dOut, rows).set(rng.fillNormal(new Float32Array(rows)) as Float32Array);
  mlp.forward(whole);
  mlp.firstLayerBase(stateRows, states, fixed, base);
  mlp.forwardOnBase(split, base, states, fixed);
  assert.ok(relativeError(view(split.outputs[1], rows), view(whole.outputs[1], rows)) <= 1e-5, "outputs");
  mlp.backward(whole, dOut, null, dWhole, scratch, false);
  const wantVarying = Array.from({ length: rows * varying }, (_, i) => view(dWhole, rows * (fixed + varying))[Math.floor(i / varying) * (fixed + varying) + fixed + (i % varying)]);
  mlp.backward(split, dOut, null, dSplit, scratch, false, rows, fixed);
  assert.ok(relativeError(view(dSplit, rows * varying), wantVarying) <= 1e-5, "d of the varying inputs");
  assert.throws(() => mlp.backward(split, dOut, [{ w: dWhole, b: dWhole }, { w: dWhole, b: dWhole }], -1, scratch, false, rows, fixed), /whole input/);
  block.dispose();
  tf.dispose([...ws, ...bs]);
});

function config(optimizer: "direct" | "iterative", inputNormalization: InputNormalization = "layer"): SacConfig {
  return {
    ...defaultSacConfig("HalfCheetah-v2", optimizer, "smoke"),
    inputNormalization,
    qArchitecture: "A",
    batchSize: 32,
    policyHiddenSizes: [32, 32],
    samples: optimizer === "direct" ? 1 : 2,
    iterations: { train: 3, act: 2 },
    learningRate: 3e-3,
  };
}

/** Agents from the same seed, updated on the same batches, with the fused update on or off. */
async function run(optimizer: "direct" | "iterative", fused: boolean, updates: number, normalization: InputNormalization = "layer"): Promise<{ metrics: Record<string, number>[]; agent: SacAgent }> {
  const data = new Rng(0);
  const buffer = new ReplayBuffer(200, 5, 3);
  for (let i = 0; i < 200; i++) {
    buffer.add(data.fillNormal(new Float32Array(5)), data.fillUniform(new Float32Array(3), -1, 1), data.normal(), data.fillNormal(new Float32Array(5)), data.random() < 0.2);
  }
  setFusedSacUpdates(fused);
  try {
    const agent = SacAgent.create(config(optimizer, normalization), { observationSize: 5, actionSize: 3 }, new Rng(5));
    const rng = new Rng(9);
    const metrics: Record<string, number>[] = [];
    for (let i = 0; i < updates; i++) metrics.push(agent.update(buffer.sample(32, rng)));
    return { metrics, agent };
  } finally {
    setFusedSacUpdates(true);
  }
}

const UPDATE_CASES: ["direct" | "iterative", InputNormalization][] = [["direct", "layer"], ["iterative", "layer"], ["iterative", "layer+scale"]];
for (const [optimizer, normalization] of UPDATE_CASES) {
  test(`fused SAC update (${optimizer}, ${normalization} inputs) gives the tfjs path's metrics and weights`, { skip }, async () => {
    await useBackend("wasm-native");
    const fused = await run(optimizer, true, 1, normalization);
    const stock = await run(optimizer, false, 1, normalization);
    assert.deepEqual(Object.keys(fused.metrics[0]), Object.keys(stock.metrics[0]), "same metrics in the same order");
    for (const [k, want] of Object.entries(stock.metrics[0])) {
      const got = fused.metrics[0][k];
      assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${k}: fused ${got}, tfjs ${want}`);
    }
    // Adam's first step is lr·g/(|g| + 1e-8): a gradient within rounding of 0 can move by up to lr either way,
    // so a handful of such elements may differ; everything else agrees to float32 rounding.
    const [a, b] = [await fused.agent.getState(), await stock.agent.getState()];
    for (const net of ["q1", "q2", "q1Target", "q2Target", "policy"] as const) {
      let far = 0;
      let count = 0;
      for (const [name, want] of Object.entries(b.networks[net] ?? {})) {
        const got = (a.networks[net] ?? {})[name].values;
        want.values.forEach((v, i) => {
          count++;
          if (Math.abs(got[i] - v) > 1e-5) far++;
        });
      }
      assert.ok(far <= Math.max(2, count * 1e-3), `${net}: ${far} of ${count} weights differ by more than 1e-5`);
    }
    assert.ok(Math.abs(a.logAlpha - b.logAlpha) <= 1e-6, "log α");
    fused.agent.dispose();
    stock.agent.dispose();
  });
}

/** A fixed sequence of act/actBatch calls (both modes, batch 1 and 3), flattened. */
function actSequence(agent: SacAgent): number[] {
  const obs = new Rng(11);
  const out: number[] = [];
  for (let i = 0; i < 3; i++) out.push(...agent.act(obs.fillNormal(new Float32Array(5)), "explore"));
  out.push(...agent.act(obs.fillNormal(new Float32Array(5)), "eval"));
  out.push(...agent.actBatch(obs.fillNormal(new Float32Array(3 * 5)), 3, "explore"));
  out.push(...agent.actBatch(obs.fillNormal(new Float32Array(3 * 5)), 3, "eval"));
  return out;
}

for (const optimizer of ["direct", "iterative"] as const) {
  test(`fused act (${optimizer}) gives the tfjs path's actions and draws the same noise`, { skip }, async () => {
    await useBackend("wasm-native");
    // Two identical agents (same seed, same fused updates, so the iterative output layer is no longer zero).
    const a = (await run(optimizer, true, 3)).agent;
    const b = (await run(optimizer, true, 3)).agent;
    const fused = actSequence(a);
    setFusedSacUpdates(false);
    let stock: number[];
    try {
      stock = actSequence(b);
    } finally {
      setFusedSacUpdates(true);
    }
    assert.equal(fused.length, stock.length);
    assert.ok(relativeError(fused, stock) <= 1e-4, `actions: relative error ${relativeError(fused, stock)}`);
    assert.ok(stock.some((v) => Math.abs(v) > 1e-3), "actions are not trivially zero");
    // Same number of draws in the same order: the agents' Rngs end in the same state.
    assert.deepEqual((await a.getState()).rng, (await b.getState()).rng, "Rng state after acting");
    a.dispose();
    b.dispose();
  });
}
