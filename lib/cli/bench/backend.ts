/**
 * Backend speed, every available backend side by side in one process: 256³ matmul GFLOP/s (plain and
 * transposed, as backward passes use it), the raw OpenBLAS sgemm peak, a 2x256 MLP training step (the shape
 * that dominates a SAC update), and — through measureUpdates from ./updates, where it exists — ms per full
 * direct SAC update and per iterative update (5 iterations), each with 1 and 10 samples, with its FLOPs and the
 * ratio to the limit (ms measured / (FLOPs / (threads x one core's sgemm peak))).
 */
import { tf } from "../../backend/tf";
import { initBackend, useBackend, type BackendName } from "../../backend/select";
import { loadNative } from "../../backend/native";
import { createAdam } from "../../backend/adam";
import { dense } from "../../backend/ops";
import { Rng } from "../../core/rng";
import { median } from "../../core/stats";
import { measureActs, measureUpdates } from "./updates";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";

/** Backends compared, fastest first; the ones that cannot start here are reported and skipped. */
const CANDIDATES: BackendName[] = ["node-gpu", "node", "wasm-native", "wasm-js", "wasm-stock"];

/**
 * The project's speed goals, set on a reference 2-core machine (sgemm 160-220 GFLOP/s per core) where PyTorch 1.13
 * (one thread) takes 9.5, 66 and 326 ms: about 0.6x, 0.5x and 0.5x PyTorch's time. On another machine compare with
 * the pytorch suite's figures from the same run.
 */
const NOTES: Record<string, string> = {
  "direct SAC update": "target <= 6 (reference machine)",
  "iterative update (5 it., N=1)": "target <= 35 (reference machine)",
  "iterative update (5 it., N=10)": "target <= 160 (reference machine)",
};

/** Median ms per call of f over `reps` calls after `warmup` calls; f's results are disposed. */
async function timeMs(f: () => tf.TensorContainer, reps: number, warmup = 3): Promise<number> {
  const run = async (): Promise<number> => {
    const t0 = performance.now();
    const out = f();
    // GPU backends run asynchronously: wait for the result there (on CPU backends the work is done already,
    // and reading would add a copy out of the heap to every timing)
    const first = Array.isArray(out) ? out[0] : out;
    if (tf.getBackend() === "webgpu" && first instanceof tf.Tensor) await first.data();
    const ms = performance.now() - t0;
    tf.dispose(out);
    return ms;
  };
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  return median(times);
}

const MATMUL_FLOPS = 2 * 256 ** 3;

/** One Q-network-shaped training step: [256, 23] → 256 → 256 → 1 (ReLU), MSE loss, Adam. FLOPs: 3 matmuls per layer. */
const MLP_SIZES = [23, 256, 256, 1];
const MLP_FLOPS = 3 * 2 * 256 * MLP_SIZES.slice(1).reduce((sum, n, i) => sum + MLP_SIZES[i] * n, 0);

async function mlpStepMs(reps: number): Promise<number> {
  const rng = new Rng(7);
  const make = (shape: number[], std: number): tf.Tensor => tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((p, d) => p * d, 1)), 0, std) as Float32Array, shape);
  const x = make([256, MLP_SIZES[0]], 1) as tf.Tensor2D;
  const y = make([256, 1], 1);
  const params: tf.Variable[] = [];
  for (let i = 1; i < MLP_SIZES.length; i++) {
    params.push(tf.variable(make([MLP_SIZES[i - 1], MLP_SIZES[i]], 1 / Math.sqrt(MLP_SIZES[i - 1]))));
    params.push(tf.variable(tf.zeros([MLP_SIZES[i]])));
  }
  const adam = createAdam({ learningRate: 3e-4 });
  const step = (): tf.Scalar =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        let h = x;
        for (let l = 0; l < params.length; l += 2) {
          h = dense(h, params[l] as tf.Variable<tf.Rank.R2>, params[l + 1] as tf.Variable<tf.Rank.R1>, l + 2 < params.length ? "relu" : "linear");
        }
        return tf.mean(tf.square(tf.sub(h, y)));
      });
      adam.applyGradients(grads);
      return value;
    });
  const ms = await timeMs(step, reps);
  tf.dispose([x, y, ...params]);
  adam.dispose();
  return ms;
}

async function runSuite(options: BenchOptions): Promise<BenchFigure[]> {
  // the suite switches backends; later suites must find the one the library picked, as a user would
  const original = await initBackend();
  const figures: BenchFigure[] = [];
  const add = (name: string, variant: string, value: number, unit: string, note?: string): void => {
    figures.push({ suite: "backend", name, variant, value, unit, ...(note ? { note } : {}) });
  };
  const reps = options.quick ? 10 : 50;

  // The limit every ratio refers to: raw OpenBLAS sgemm at 256³ on one core (the addon's own buffers, no
  // tfjs), times the threads the native passes use (a second core runs the second Q-network).
  const native = loadNative();
  let limitGflops: number | null = null;
  if (native.ok) {
    // best of several short runs: on a shared machine other jobs only ever slow a run down
    const n = options.quick ? 20 : 50;
    native.addon.sgemmSeconds(256, 20);
    let peak = 0;
    for (let i = 0; i < 8; i++) peak = Math.max(peak, (MATMUL_FLOPS * n) / native.addon.sgemmSeconds(256, n) / 1e9);
    const threads = native.blas.threads;
    limitGflops = peak * threads;
    add("sgemm peak 256^3, one core", `OpenBLAS ${native.coreName}`, peak, "GFLOP/s", "reference machine: 160-220");
    add("limit", `${threads} thread(s) x sgemm peak`, limitGflops, "GFLOP/s", "what the ratios refer to");
  }
  const ratio = (ms: number, flops: number): number | null => (limitGflops ? ms / ((flops / (limitGflops * 1e9)) * 1e3) : null);

  for (const name of CANDIDATES) {
    try {
      await useBackend(name, "benchmark");
    } catch (err) {
      if (!options.quick || name.startsWith("wasm")) console.error(`bench: backend ${name} skipped: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const a = tf.randomNormal([256, 256]);
    const b = tf.randomNormal([256, 256]);
    const plain = await timeMs(() => tf.matMul(a, b), reps);
    const transposed = await timeMs(() => tf.matMul(a, b, true, false), reps);
    tf.dispose([a, b]);
    add("matmul 256^3", name, MATMUL_FLOPS / plain / 1e6, "GFLOP/s");
    add("matmul 256^3, A transposed", name, MATMUL_FLOPS / transposed / 1e6, "GFLOP/s");

    const mlp = await mlpStepMs(options.quick ? 10 : 40);
    const mlpRatio = ratio(mlp, MLP_FLOPS);
    add("2x256 MLP train step, batch 256", name, mlp, "ms/step", `${(MLP_FLOPS / 1e6).toFixed(0)} MFLOP${mlpRatio ? `; ${mlpRatio.toFixed(1)}x limit` : ""}`);

    if (name === "wasm-stock" && options.quick) continue; // minutes on the stock kernels
    for (const u of await measureUpdates(options)) {
      // the host's steal while the variant's blocks ran (both thread settings together): read beside the figure
      const steal = u.stealPercent === null ? null : `steal ${u.stealPercent.toFixed(0)}%`;
      add(u.name, name, u.msPerUpdate, "ms/update", [NOTES[u.name], steal].filter((x) => x).join("; ") || undefined);
      if (u.flops === null) continue;
      const r = ratio(u.msPerUpdate, u.flops);
      add(`${u.name}: FLOPs`, name, u.flops / 1e6, "MFLOP");
      if (r !== null) add(`${u.name}: ratio to limit`, name, r, "x", "ms / (FLOPs / limit)");
    }
    for (const a of await measureActs(options)) add(a.name, name, a.msPerAct, "ms/act");
  }
  await useBackend(original.name, original.reason);
  return figures;
}

export const backendSuite: BenchSuite = {
  name: "backend",
  description: "matmul GFLOP/s, sgemm peak, MLP step and SAC update ms per available backend",
  run: runSuite,
};
