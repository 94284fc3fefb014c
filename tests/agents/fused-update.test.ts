/**
 * The hand-written SAC update (lib/agents/sac/fused-update.ts) against the tfjs path it replaces, and the
 * whole-network heap kernels (lib/backend/heap-mlp.ts) against tfjs "cpu". Skipped where the addon is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { type PackedGemmKernels } from "../../lib/backend/native";
import { nativeForTests } from "../backend/native-available";
import { HeapBlock, HeapMlp, blockSize, runMlpPasses, type GradOffsets, type MlpTrace } from "../../lib/backend/heap-mlp";
import { asWasmBackend, heapOf } from "../../lib/backend/wasm-heap";
import { activeAddon } from "../../lib/backend/wasm-kernels";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { SacAgent, type AgentSnapshot } from "../../lib/agents/sac/agent";
import { FIDELITY_OPTIONS_BEFORE_PRESETS, type SacConfig } from "../../lib/agents/sac/config";
import { defaultSacConfig } from "../../lib/presets";
import type { InputNormalization } from "../../lib/policy/input-normalization";
import type { QArchitecture } from "../../lib/nn/architectures";
import { Mlp } from "../../lib/nn/mlp";
import { ParameterSet } from "../../lib/nn/parameters";
import { setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { Rng } from "../../lib/core/rng";
import { relativeError } from "../backend/compare";

const { skip } = nativeForTests();

type Act = "relu" | "tanh" | "linear" | "elu";

/** A network with random weights on tfjs and the same on the wasm heap, with its trace and gradient buffers. */
interface HeapCase {
  mlp: HeapMlp;
  trace: MlpTrace;
  dOut: number;
  dInput: number;
  grads: GradOffsets[];
  /** tfjs cpu's values: output, d input, dw per layer, db per layer (of Σ dOut ⊙ f(x)). */
  want: { out: Float32Array; dx: Float32Array; dw: Float32Array[]; db: Float32Array[] };
  /** The weights and biases, [k, n] row-major per layer. */
  params: { w: Float32Array[]; b: Float32Array[] };
  dispose(): void;
}

async function heapCase(seed: number, sizes: number[], rows: number, acts: Act[]): Promise<HeapCase> {
  const rng = new Rng(seed);
  const L = sizes.length - 1;
  const last = sizes[L];
  const host = {
    x: rng.fillNormal(new Float32Array(rows * sizes[0])) as Float32Array,
    dOut: rng.fillNormal(new Float32Array(rows * last)) as Float32Array,
    w: sizes.slice(1).map((n, i) => rng.fillNormal(new Float32Array(sizes[i] * n), 0, 1 / Math.sqrt(sizes[i])) as Float32Array),
    b: sizes.slice(1).map((n) => rng.fillNormal(new Float32Array(n), 0, 0.5) as Float32Array),
  };
  // Reference: tfjs cpu, stock ops, gradients of Σ dOut ⊙ f(x).
  await useBackend("cpu");
  const got = tf.tidy(() => {
    const ws = host.w.map((w, i) => tf.tensor2d(w, [sizes[i], sizes[i + 1]]));
    const bs = host.b.map((b) => tf.tensor1d(b));
    const f = (x: tf.Tensor, ...params: tf.Tensor[]): tf.Tensor => {
      let h = x;
      for (let i = 0; i < L; i++) {
        const z = tf.add(tf.matMul(h, params[i]), params[L + i]);
        h = acts[i] === "relu" ? tf.relu(z) : acts[i] === "tanh" ? tf.tanh(z) : acts[i] === "elu" ? tf.elu(z) : z;
      }
      return h;
    };
    const x = tf.tensor2d(host.x, [rows, sizes[0]]);
    const dOut = tf.tensor2d(host.dOut, [rows, last]);
    const out = f(x, ...ws, ...bs);
    const grads = tf.grads((xx: tf.Tensor, ...p: tf.Tensor[]) => tf.sum(tf.mul(f(xx, ...p), dOut)))([x, ...ws, ...bs]);
    return [out, ...grads].map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
  await useBackend("wasm-native");
  const addon = activeAddon();
  assert.ok(addon, "wasm-native is active");
  const backend = asWasmBackend(tf.backend());
  const ws = host.w.map((w, i) => tf.variable(tf.tensor2d(w, [sizes[i], sizes[i + 1]])));
  const bs = host.b.map((b) => tf.variable(tf.tensor1d(b)));
  const mlp = new HeapMlp(addon, backend, ws.map((w, i) => ({ w, b: bs[i], activation: acts[i] })));
  const counts = [rows * sizes[0], ...mlp.activationFloats(rows), rows * last, rows * sizes[0], ...sizes.slice(1).flatMap((n, i) => [sizes[i] * n, n])];
  const block = new HeapBlock(backend, blockSize(counts));
  const trace = mlp.makeTrace(block, rows, block.take(rows * sizes[0]));
  const dOut = block.take(rows * last);
  const dInput = block.take(rows * sizes[0]);
  const grads = sizes.slice(1).map((n, i) => ({ w: block.take(sizes[i] * n), b: block.take(n) }));
  heapView(trace.input, host.x.length).set(host.x);
  heapView(dOut, host.dOut.length).set(host.dOut);
  return {
    mlp, trace, dOut, dInput, grads,
    want: { out: got[0], dx: got[1], dw: got.slice(2, 2 + L), db: got.slice(2 + L) },
    params: { w: host.w, b: host.b },
    dispose: () => {
      block.dispose();
      tf.dispose([...ws, ...bs]);
    },
  };
}

const heapView = (off: number, n: number): Float32Array => new Float32Array(heapOf(asWasmBackend(tf.backend())), off, n);

function assertMatches(c: HeapCase, what: string, dwScale = 1): void {
  const rows = c.trace.rows;
  const outs = c.trace.outputs;
  assert.ok(relativeError(heapView(outs[outs.length - 1], c.want.out.length), c.want.out) <= 1e-4, `${what}: forward`);
  assert.ok(relativeError(heapView(c.dInput, c.want.dx.length), c.want.dx) <= 1e-4, `${what}: d input (${rows} rows)`);
  c.grads.forEach((g, i) => {
    assert.ok(relativeError(heapView(g.w, c.want.dw[i].length), c.want.dw[i].map((v) => dwScale * v)) <= 1e-4, `${what}: dw${i}`);
    assert.ok(relativeError(heapView(g.b, c.want.db[i].length), c.want.db[i].map((v) => dwScale * v)) <= 1e-4, `${what}: db${i}`);
  });
}

// Shapes that take each kernel: small layers; many rows in several cache blocks with a one-output layer after a
// ReLU (its outer product applies that ReLU's slope); a few inputs (k <= 16: row dot products) under ELU. For the
// packed GEMM: widths that leave part of a 64-column panel or of a 16-lane vector (300, 50, 72, 3), reductions
// that leave part of a 16 x 16 transpose tile (40, 50), rows that leave part of a 6-row tile, and a ReLU slope
// folded into the backward product (72 -> 50 after a ReLU).
const HEAP_CASES: Array<{ sizes: number[]; rows: number; acts: Act[] }> = [
  { sizes: [7, 16, 16, 3], rows: 9, acts: ["relu", "tanh", "linear"] },
  { sizes: [40, 300, 1], rows: 300, acts: ["relu", "linear"] },
  { sizes: [5, 64, 64, 1], rows: 700, acts: ["elu", "relu", "linear"] },
  { sizes: [20, 72, 50, 1], rows: 301, acts: ["relu", "relu", "linear"] },
  { sizes: [9, 70, 64, 1], rows: 250, acts: ["relu", "relu", "linear"] },
];

/**
 * A one-output last layer's values as DotRows sums them (native/dense_kernels.h Dot16: 16 float32 partial sums by
 * column mod 16, multiply then add, in column order; then the partials in order; then the bias), from the trace's
 * values of the layer below: a fixed order, so the values are the same on every CPU the addon runs on.
 */
function dot16Outputs(c: HeapCase): Float32Array {
  const L = c.params.w.length;
  const k = c.params.w[L - 1].length;
  const h = heapView(c.trace.outputs[L - 2], c.trace.rows * k);
  const w = c.params.w[L - 1];
  const bias = c.params.b[L - 1][0];
  return Float32Array.from({ length: c.trace.rows }, (_, r) => {
    const part = new Float32Array(16);
    for (let j = 0; j < k; j++) part[j % 16] = Math.fround(part[j % 16] + Math.fround(h[r * k + j] * w[j]));
    let sum = 0;
    for (let l = 0; l < 16; l++) sum = Math.fround(sum + part[l]);
    return Math.fround(sum + bias);
  });
}

// The network passes' GEMMs (native/packed_gemm.h's AVX-512 and AVX2 kernels where the CPU runs them, and
// OpenBLAS): each is checked.
const gemmSettings = (): PackedGemmKernels[] => {
  const addon = activeAddon();
  if (!addon?.setPackedGemm) return ["off"];
  const best = addon.setPackedGemm("best");
  return best === "avx512" ? ["avx512", "avx2", "off"] : best === "avx2" ? ["avx2", "off"] : ["off"];
};

test("HeapMlp forward and backward (dx, dw, db; accumulate; dx only) match tfjs cpu, with either GEMM", { skip }, async () => {
  await useBackend("wasm-native");
  const values = new Map<number, Float32Array[]>(); // per case, the first packed kernels' results
  try {
    for (const kernels of gemmSettings()) for (const [n, { sizes, rows, acts }] of HEAP_CASES.entries()) {
      const c = await heapCase(3 + n, sizes, rows, acts);
      activeAddon()?.setPackedGemm?.(kernels);
      const what = `[${sizes.join(", ")}] x ${rows} rows, ${kernels === "off" ? "OpenBLAS" : `packed GEMM, ${kernels}`}`;
      c.mlp.forward(c.trace);
      if (sizes[sizes.length - 1] === 1) {
        assert.deepEqual(heapView(c.trace.outputs[sizes.length - 2], rows), dot16Outputs(c), `${what}: the last layer's row sums, bit for bit`);
      }
      c.mlp.backward(c.trace, { dOut: c.dOut, grads: c.grads, dInput: c.dInput, accumulate: false });
      assertMatches(c, what);
      if (kernels !== "off") {
        // The AVX-512 and AVX2 kernels sum in the same order: the same values bit for bit (outputs, d input; dw
        // comes from sgemm under both).
        const got = [
          ...c.trace.outputs.map((o, i) => heapView(o, rows * sizes[i + 1])),
          heapView(c.dInput, rows * sizes[0]),
          ...c.grads.map((g, i) => heapView(g.w, sizes[i] * sizes[i + 1])),
        ].map((v) => Float32Array.from(v));
        const first = values.get(n);
        if (first) got.forEach((v, i) => assert.deepEqual(v, first[i], `${what}: same values as the other packed kernels (output ${i})`));
        else values.set(n, got);
      }
      // accumulate adds; a dx-only pass leaves the weight gradients alone.
      c.mlp.backward(c.trace, { dOut: c.dOut, grads: c.grads, dInput: -1, accumulate: true });
      heapView(c.dInput, c.want.dx.length).fill(0);
      c.mlp.backward(c.trace, { dOut: c.dOut, grads: null, dInput: c.dInput, accumulate: false });
      assertMatches(c, `${what}, accumulated`, 2);
      c.dispose();
    }
  } finally {
    activeAddon()?.setPackedGemm?.("best");
  }
});

test("two networks' passes in one call (on two threads where there are two cores) equal each run alone", { skip }, async () => {
  const a = await heapCase(11, [9, 64, 64, 1], 600, ["relu", "relu", "linear"]);
  const b = await heapCase(12, [9, 64, 64, 1], 600, ["relu", "relu", "linear"]);
  const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
  const backend = asWasmBackend(tf.backend());
  const snapshot = (c: HeapCase): Float32Array[] => [c.trace.outputs[2], c.dInput, ...c.grads.flatMap((g) => [g.w, g.b])].map((off, i) =>
    Float32Array.from(heapView(off, i === 0 ? c.want.out.length : i === 1 ? c.want.dx.length : i % 2 === 0 ? c.want.dw[(i - 2) / 2].length : c.want.db[(i - 3) / 2].length)));
  const alone: Float32Array[][] = [];
  for (const c of [a, b]) {
    c.mlp.forward(c.trace);
    c.mlp.backward(c.trace, { dOut: c.dOut, grads: c.grads, dInput: c.dInput, accumulate: false });
    alone.push(snapshot(c));
    heapView(c.dInput, c.want.dx.length).fill(0);
  }
  // The thread count never changes a value: one thread, then the machine's (two where it has two cores).
  const threads = addon.blasInfo().threads;
  for (const t of [1, threads]) {
    addon.setThreads(t);
    runMlpPasses(addon, backend, false, [a.mlp.forwardPass(a.trace), b.mlp.forwardPass(b.trace)]);
    runMlpPasses(addon, backend, true, [a, b].map((c) => c.mlp.backwardPass(c.trace, { dOut: c.dOut, grads: c.grads, dInput: c.dInput, accumulate: false })));
    [a, b].forEach((c, i) => {
      snapshot(c).forEach((v, j) => assert.deepEqual(v, alone[i][j], `network ${i}, output ${j}, ${t} thread(s): bit-identical`));
      assertMatches(c, `network ${i} in a pair`);
    });
  }
  addon.setThreads(threads);
  a.dispose();
  b.dispose();
});

test("a forward pass of 256-512 rows (run as four tasks) gives the same values on one thread and two", { skip }, async () => {
  // 301 rows: quarters of 75 and 76 rows, none a whole number of 6-row tiles.
  const c = await heapCase(14, [9, 70, 64, 1], 301, ["relu", "relu", "linear"]);
  const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
  const backend = asWasmBackend(tf.backend());
  const threads = addon.blasInfo().threads;
  const outputs = (): Float32Array[] => c.trace.outputs.map((o, i) => Float32Array.from(heapView(o, 301 * [70, 64, 1][i])));
  try {
    const runs = [1, 2].map((t) => {
      addon.setThreads(t);
      c.trace.outputs.forEach((o, i) => heapView(o, 301 * [70, 64, 1][i]).fill(Number.NaN));
      runMlpPasses(addon, backend, false, [c.mlp.forwardPass(c.trace)]);
      return outputs();
    });
    runs[1].forEach((v, i) => assert.deepEqual(v, runs[0][i], `layer ${i}: two threads bit-identical to one`));
    assert.ok(relativeError(runs[1][2], c.want.out) <= 1e-4, "the output matches tfjs cpu");
  } finally {
    addon.setThreads(threads);
    c.dispose();
  }
});

test("one network on two inputs in one call (its weights packed once) equals each input run alone", { skip }, async () => {
  // Widths past one 64-column panel and a 16-lane tail, so both the forward's and the backward's packed products run.
  const c = await heapCase(13, [11, 80, 72, 5], 260, ["relu", "relu", "linear"]);
  const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
  const backend = asWasmBackend(tf.backend());
  const rows = c.trace.rows;
  const block = new HeapBlock(backend, blockSize([rows * 11, ...c.mlp.activationFloats(rows), rows * 5, rows * 11]));
  const other = c.mlp.makeTrace(block, rows, block.take(rows * 11));
  const otherDOut = block.take(rows * 5);
  const otherDInput = block.take(rows * 11);
  const rng = new Rng(14);
  heapView(other.input, rows * 11).set(rng.fillNormal(new Float32Array(rows * 11)));
  heapView(otherDOut, rows * 5).set(rng.fillNormal(new Float32Array(rows * 5)));
  const out = (t: MlpTrace): Float32Array => Float32Array.from(heapView(t.outputs[2], rows * 5));
  const dx = (off: number): Float32Array => Float32Array.from(heapView(off, rows * 11));
  const backward = (t: MlpTrace, dOut: number, dInput: number): Float64Array => c.mlp.backwardPass(t, { dOut, grads: null, dInput, accumulate: false });
  const alone: Float32Array[] = [];
  for (const [t, dOut, dInput] of [[c.trace, c.dOut, c.dInput], [other, otherDOut, otherDInput]] as const) {
    runMlpPasses(addon, backend, false, [c.mlp.forwardPass(t)]);
    runMlpPasses(addon, backend, true, [backward(t, dOut, dInput)]);
    alone.push(out(t), dx(dInput));
  }
  for (const t of [c.trace, other]) heapView(t.outputs[2], rows * 5).fill(0);
  for (const off of [c.dInput, otherDInput]) heapView(off, rows * 11).fill(0);
  runMlpPasses(addon, backend, false, [c.mlp.forwardPass(c.trace), c.mlp.forwardPass(other)]);
  runMlpPasses(addon, backend, true, [backward(c.trace, c.dOut, c.dInput), backward(other, otherDOut, otherDInput)]);
  const together = [out(c.trace), dx(c.dInput), out(other), dx(otherDInput)];
  together.forEach((v, i) => assert.deepEqual(v, alone[i], `${["output", "d input"][i % 2]} of input ${i >> 1}: bit-identical`));
  assert.ok(relativeError(together[0], c.want.out) <= 1e-4 && relativeError(together[1], c.want.dx) <= 1e-4, "and the first matches tfjs cpu");
  block.dispose();
  c.dispose();
});

test("many calls of varied sizes, back to back, give the same values on two threads as on one", { skip }, async () => {
  // Exercises the caller/worker hand-off (a worker waking late for one call must not touch the next one), both
  // with the worker still spinning from the call before and, every tenth call, after 5 ms idle (it spins for 3 ms,
  // then sleeps and has to be woken).
  const nets = [await heapCase(21, [7, 48, 48, 1], 700, ["relu", "relu", "linear"]), await heapCase(22, [7, 48, 48, 1], 700, ["relu", "relu", "linear"])];
  const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
  const backend = asWasmBackend(tf.backend());
  const threads = addon.blasInfo().threads;
  const rng = new Rng(9);
  const sizes = Array.from({ length: 60 }, () => 100 + rng.int(601)); // 100..700 rows: below and above the thresholds
  const run = async (t: number): Promise<number[]> => {
    addon.setThreads(t);
    for (const c of nets) for (const [i, g] of c.grads.entries()) {
      heapView(g.w, c.want.dw[i].length).fill(0);
      heapView(g.b, c.want.db[i].length).fill(0);
    }
    const sums: number[] = [];
    for (const [k, rows] of sizes.entries()) {
      if (k % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
      runMlpPasses(addon, backend, false, nets.map((c) => c.mlp.forwardPass(c.trace, rows)));
      runMlpPasses(addon, backend, true, nets.map((c) => c.mlp.backwardPass(c.trace, { dOut: c.dOut, grads: c.grads, dInput: c.dInput, accumulate: rows % 2 === 0, rows })));
      // one pass alone too (its halves shared between the threads)
      nets[0].mlp.backward(nets[0].trace, { dOut: nets[0].dOut, grads: nets[0].grads, dInput: nets[0].dInput, accumulate: true, rows });
      for (const c of nets) for (const g of c.grads) sums.push(heapView(g.w, 48).reduce((x, y) => x + y, 0), heapView(g.b, 1)[0]);
      sums.push(heapView(nets[1].dInput, 7 * rows).reduce((x, y) => x + y, 0));
    }
    return sums;
  };
  const one = await run(1);
  const two = await run(threads);
  addon.setThreads(threads);
  assert.deepEqual(two, one);
  nets.forEach((c) => c.dispose());
});

// Architecture B's layers (layer norm, ELU, highway gates), and highway gates alone (a layer without norm).
for (const layerNorm of [true, false]) {
  test(`${layerNorm ? "normalised " : ""}highway layers forward and backward match tfjs cpu`, { skip }, async () => {
    const config = { inputSize: 7, outputSize: 1, hiddenSizes: [24, 24, 24], activation: "elu" as const, layerNorm, connectivity: "highway" as const, outputInit: "fan-in-uniform" as const };
    const rows = 300; // two halves of the rows
    const data = new Rng(31);
    const x = data.fillNormal(new Float32Array(rows * 7)) as Float32Array;
    const dOutHost = data.fillNormal(new Float32Array(rows)) as Float32Array;
    // Reference: the same network (same seed) through lib/nn on tfjs cpu; gradients of Σ dOut ⊙ f(x).
    await useBackend("cpu");
    const refParams = new ParameterSet();
    const ref = Mlp.create(config, new Rng(3), refParams);
    const want = tf.tidy(() => {
      const xt = tf.tensor2d(x, [rows, 7]);
      const dt = tf.tensor2d(dOutHost, [rows, 1]);
      const out = Float32Array.from(ref.apply(xt).dataSync());
      const dx = Float32Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ref.apply(v as tf.Tensor2D), dt)))(xt).dataSync());
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(ref.apply(xt), dt)) as tf.Scalar);
      // in the parameter set's order, which the same config creates the same way on every backend
      const inOrder = refParams.variables().map((v) => Float32Array.from(grads[v.name].dataSync()));
      return { out, dx, inOrder };
    });
    await useBackend("wasm-native");
    const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
    const backend = asWasmBackend(tf.backend());
    const params = new ParameterSet();
    const net = Mlp.create(config, new Rng(3), params);
    const layers = net.heapLayers();
    assert.ok(!layers[0].gate && layers[1].gate && layers[2].gate && !layers[3].gate && !layers[3].norm, "gates after the first hidden layer");
    assert.equal(layers.slice(0, 3).every((l) => Boolean(l.norm) === layerNorm), true, "norm on every hidden layer, or none");
    const mlp = new HeapMlp(addon, backend, layers);
    const vars = layers.flatMap((l) => [l.w, l.b, ...(l.norm ? [l.norm.gain, l.norm.bias] : []), ...(l.gate ? [l.gate.w, l.gate.b] : [])]);
    const block = new HeapBlock(backend, blockSize([rows * 7, ...mlp.activationFloats(rows), rows, rows * 7, ...vars.map((v) => v.size)]));
    const trace = mlp.makeTrace(block, rows, block.take(rows * 7));
    const dOut = block.take(rows);
    const dInput = block.take(rows * 7);
    const buffers = new Map(vars.map((v) => [v, block.take(v.size)]));
    const at = (v: tf.Variable | undefined): number => buffers.get(v as tf.Variable) as number;
    const grads = layers.map((l) => ({ w: at(l.w), b: at(l.b), ...(l.norm ? { gain: at(l.norm.gain), normBias: at(l.norm.bias) } : {}), ...(l.gate ? { gateW: at(l.gate.w), gateB: at(l.gate.b) } : {}) }));
    heapView(trace.input, x.length).set(x);
    heapView(dOut, rows).set(dOutHost);
    mlp.forward(trace);
    assert.ok(relativeError(heapView(trace.outputs[3], rows), want.out) <= 1e-4, "forward");
    for (const accumulate of [false, true]) {
      mlp.backward(trace, { dOut, grads, dInput, accumulate });
      assert.ok(relativeError(heapView(dInput, rows * 7), want.dx) <= 1e-4, "d input");
      params.variables().forEach((v, i) => {
        const name = params.names()[i];
        assert.ok(relativeError(heapView(at(v), v.size), want.inOrder[i].map((g) => (accumulate ? 2 : 1) * g)) <= 1e-4, `${name}${accumulate ? " (accumulated)" : ""}`);
      });
    }
    assert.equal(buffers.size, params.variables().length, "every parameter has its gradient");
    block.dispose();
    params.dispose();
    refParams.dispose();
  });
}

test("HeapMlp with the first layer's fixed inputs precomputed (FirstLayerBase) matches the whole pass", { skip }, async () => {
  await useBackend("wasm-native");
  const addon = activeAddon() as NonNullable<ReturnType<typeof activeAddon>>;
  const backend = asWasmBackend(tf.backend());
  const rng = new Rng(4);
  // Few varying inputs take the row-products kernel (up to 8 with a fixed count, up to 16 with any), many sgemm.
  for (const [fixed, varying, hidden, states] of [[5, 2, 8, 3], [4, 11, 24, 20], [6, 20, 40, 150]]) {
    const rows = 2 * states; // sample-major repeats of the states, as J's rows
    const ws = [tf.variable(tf.randomNormal([fixed + varying, hidden], 0, 0.5, "float32", 1)), tf.variable(tf.randomNormal([hidden, 1], 0, 0.5, "float32", 2))];
    const bs = [tf.variable(tf.randomNormal([hidden], 0, 0.5, "float32", 3)), tf.variable(tf.randomNormal([1], 0, 0.5, "float32", 4))];
    const mlp = new HeapMlp(addon, backend, [{ w: ws[0], b: bs[0], activation: "relu" }, { w: ws[1], b: bs[1], activation: "linear" }]);
    const block = new HeapBlock(backend, blockSize([rows * (fixed + varying), rows * varying, states * fixed, states * hidden, ...mlp.activationFloats(rows), ...mlp.activationFloats(rows), rows, rows * (fixed + varying), rows * varying]));
    const whole = mlp.makeTrace(block, rows, block.take(rows * (fixed + varying)));
    const split = mlp.makeTrace(block, rows, block.take(rows * varying));
    const [stateRows, baseOff, dOut, dWhole, dSplit] = [block.take(states * fixed), block.take(states * hidden), block.take(rows), block.take(rows * (fixed + varying)), block.take(rows * varying)];
    const s = rng.fillNormal(new Float32Array(states * fixed)) as Float32Array;
    const a = rng.fillNormal(new Float32Array(rows * varying)) as Float32Array;
    heapView(stateRows, s.length).set(s);
    heapView(split.input, a.length).set(a);
    for (let r = 0; r < rows; r++) {
      heapView(whole.input + 4 * r * (fixed + varying), fixed).set(s.subarray((r % states) * fixed, (r % states + 1) * fixed));
      heapView(whole.input + 4 * (r * (fixed + varying) + fixed), varying).set(a.subarray(r * varying, (r + 1) * varying));
    }
    heapView(dOut, rows).set(rng.fillNormal(new Float32Array(rows)) as Float32Array);
    mlp.forward(whole);
    mlp.firstLayerBase(stateRows, states, fixed, baseOff);
    const base = { offset: baseOff, rows: states, split: fixed };
    runMlpPasses(addon, backend, false, [mlp.forwardPass(split, rows, base)]);
    assert.ok(relativeError(heapView(split.outputs[1], rows), heapView(whole.outputs[1], rows)) <= 1e-5, `outputs (${varying} varying inputs)`);
    if (varying <= 16) {
      // The row products: base + a0·w0 + a1·w1 + … in float32, multiply then add, in order; then the ReLU.
      const w = ws[0].dataSync() as Float32Array;
      const baseRows = heapView(baseOff, states * hidden);
      const want = Float32Array.from({ length: rows * hidden }, (_, e) => {
        const [r, j] = [Math.floor(e / hidden), e % hidden];
        let v = baseRows[(r % states) * hidden + j];
        for (let i = 0; i < varying; i++) v = Math.fround(v + Math.fround(a[r * varying + i] * w[(fixed + i) * hidden + j]));
        return v < 0 ? 0 : v; // std::max(v, 0.f)
      });
      assert.deepEqual(heapView(split.outputs[0], rows * hidden), want, `first layer on the base, ${varying} varying inputs: exact`);
    }
    mlp.backward(whole, { dOut, grads: null, dInput: dWhole, accumulate: false });
    const wantVarying = Array.from({ length: rows * varying }, (_, i) => heapView(dWhole, rows * (fixed + varying))[Math.floor(i / varying) * (fixed + varying) + fixed + (i % varying)]);
    mlp.backward(split, { dOut, grads: null, dInput: dSplit, accumulate: false, base });
    assert.ok(relativeError(heapView(dSplit, rows * varying), wantVarying) <= 1e-5, `d of the varying inputs (${varying})`);
    assert.throws(() => mlp.backward(split, { dOut, grads: [{ w: dWhole, b: dWhole }, { w: dWhole, b: dWhole }], dInput: -1, accumulate: false, base }), /whole input/);
    block.dispose();
    tf.dispose([...ws, ...bs]);
  }
});

/** The policy-side options where the paper and the authors' code differ, set to the code's values. */
type CodeOptions = Partial<Pick<SacConfig, "pessimismStd" | "logStdBounds" | "networkInit" | "normalizeStateInput" | "temperatureLoss">>;
const AUTHORS_CODE: CodeOptions = { pessimismStd: "unbiased", logStdBounds: "soft-clamp", networkInit: "xavier", normalizeStateInput: false };
/** The paper preset's update options: the code's start, log σ bounds and temperature loss, the paper's std and inputs. */
const PAPER_PRESET: CodeOptions = { logStdBounds: "soft-clamp", networkInit: "xavier", temperatureLoss: "alpha" };

function config(
  optimizer: "direct" | "iterative", inputNormalization: InputNormalization = "layer", qArchitecture: QArchitecture = "A", options: CodeOptions = {},
  samples = optimizer === "direct" ? 1 : 2,
): SacConfig {
  return {
    // the options as they were before presets, so each case below names the ones it changes
    ...defaultSacConfig("HalfCheetah-v2", optimizer, "smoke"),
    ...FIDELITY_OPTIONS_BEFORE_PRESETS,
    inputNormalization,
    qArchitecture,
    batchSize: 32,
    policyHiddenSizes: [32, 32],
    samples,
    iterations: { train: 3, act: 2, eval: 2 },
    learningRate: 3e-3,
    ...options,
  };
}

/** Agents from the same seed, updated on the same batches, with the fused update on or off. */
async function run(
  optimizer: "direct" | "iterative", fused: boolean, updates: number, normalization: InputNormalization = "layer", qArchitecture: QArchitecture = "A",
  options: CodeOptions = {}, samples?: number,
): Promise<{ metrics: Record<string, number>[]; agent: SacAgent; first: AgentSnapshot }> {
  const data = new Rng(0);
  const buffer = new ReplayBuffer(200, 5, 3);
  for (let i = 0; i < 200; i++) {
    buffer.add(data.fillNormal(new Float32Array(5)), data.fillUniform(new Float32Array(3), -1, 1), data.normal(), data.fillNormal(new Float32Array(5)), data.random() < 0.2);
  }
  setFusedSacUpdates(fused);
  try {
    const agent = SacAgent.create(config(optimizer, normalization, qArchitecture, options, samples), { observationSize: 5, actionSize: 3 }, new Rng(5));
    assert.equal(agent.updatePath().path, fused ? "fused" : "tfjs", agent.updatePath().why);
    const rng = new Rng(9);
    const metrics: Record<string, number>[] = [];
    let first: AgentSnapshot | null = null;
    for (let i = 0; i < updates; i++) {
      metrics.push(agent.update(buffer.sample(32, rng)));
      first ??= await agent.getState(); // reads only: the next updates are the same with or without it
    }
    return { metrics, agent, first: first as AgentSnapshot };
  } finally {
    setFusedSacUpdates(true);
  }
}

/**
 * Consecutive updates each path runs from the same start on the same batches: 20 on Q architecture A; 5 on B,
 * whose 3 x 512 networks make each tfjs-path update seconds long (B adds layer kernels, not maths).
 */
const UPDATES: Record<QArchitecture, number> = { A: 20, B: 5 };
/** Relative difference of the two paths' metrics allowed after the first update (the largest seen is ~1.4e-4). */
const SEQUENCE_TOLERANCE = 1e-3;

// Q architecture B (layer norm, ELU, highway) takes the normalised / highway layers of the native passes. The
// authors' code's options (unbiased std in Eq. 12, soft clamp of log σ, Xavier start, raw state input) each change
// both paths' maths: a path that ignored one would part from the other. The direct optimizer with J on 10 samples
// is the authors' code's setting.
const UPDATE_CASES: ["direct" | "iterative", InputNormalization, QArchitecture, CodeOptions, number?][] = [
  ["direct", "layer", "A", {}], ["iterative", "layer", "A", {}], ["iterative", "layer+scale", "A", {}], ["direct", "layer", "B", {}], ["iterative", "layer", "B", {}],
  ["direct", "layer", "A", AUTHORS_CODE], ["iterative", "layer+scale", "A", AUTHORS_CODE], ["iterative", "layer", "B", AUTHORS_CODE],
  ["direct", "layer", "A", {}, 10], ["direct", "layer", "A", PAPER_PRESET, 10],
];
for (const [optimizer, normalization, q, options, samples] of UPDATE_CASES) {
  const named = options === AUTHORS_CODE ? ", the authors' code's options" : options === PAPER_PRESET ? ", the paper preset's options" : "";
  test(`fused SAC update (${optimizer}${samples ? `, N = ${samples}` : ""}, ${normalization} inputs, Q architecture ${q}${named}) gives the tfjs path's metrics and weights over ${UPDATES[q]} updates`, { skip }, async () => {
    await useBackend("wasm-native");
    const fused = await run(optimizer, true, UPDATES[q], normalization, q, options, samples);
    const stock = await run(optimizer, false, UPDATES[q], normalization, q, options, samples);
    assert.deepEqual(Object.keys(fused.metrics[0]), Object.keys(stock.metrics[0]), "same metrics in the same order");
    for (const [k, want] of Object.entries(stock.metrics[0])) {
      const got = fused.metrics[0][k];
      assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${k}: fused ${got}, tfjs ${want}`);
    }
    // Over consecutive updates the two paths' float32 roundings compound (Adam's first steps move a weight whose
    // gradient is within rounding of 0 by up to lr either way): the metrics stay within SEQUENCE_TOLERANCE of each
    // other, gradient norms (the most sensitive) within 5 times that. A change of the maths in one path alone
    // moves them far more.
    for (let u = 1; u < UPDATES[q]; u++) {
      assert.deepEqual(Object.keys(fused.metrics[u]), Object.keys(stock.metrics[u]), `update ${u + 1}: same metrics`);
      for (const [k, want] of Object.entries(stock.metrics[u])) {
        const got = fused.metrics[u][k];
        const tolerance = k.startsWith("train/grad_norm") ? 5 * SEQUENCE_TOLERANCE : SEQUENCE_TOLERANCE;
        assert.ok(Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want)), `update ${u + 1}, ${k}: fused ${got}, tfjs ${want}`);
      }
    }
    // The weights after the first update. Adam's first step is lr·g/(|g| + 1e-8): a gradient within rounding of 0
    // can move by up to lr either way, so a handful of such elements may differ; everything else agrees to float32
    // rounding.
    const [a, b] = [fused.first, stock.first];
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
    // (Not after all the updates: those few weights, moved by ±lr at each step, drift apart by multiples of lr while
    // the networks' outputs, and so the metrics above, still agree.)
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

for (const [optimizer, options] of [["direct", {}], ["iterative", {}], ["iterative", AUTHORS_CODE]] as const) {
  const named = options === AUTHORS_CODE ? ", the authors' code's options" : options === PAPER_PRESET ? ", the paper preset's options" : "";
  test(`fused act (${optimizer}${named}) gives the tfjs path's actions and draws the same noise`, { skip }, async () => {
    await useBackend("wasm-native");
    // Two identical agents (same seed, same fused updates, so the iterative output layer is no longer zero).
    const a = (await run(optimizer, true, 3, "layer", "A", options)).agent;
    const b = (await run(optimizer, true, 3, "layer", "A", options)).agent;
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
