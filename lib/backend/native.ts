/**
 * Loader for iapo's own N-API addon (native/*.cc, entry points registered in native/addon.cc; built by
 * native/build.js during `npm ci`). The addon is optional: when it is missing, cannot load, or was built from
 * other sources than those beside it, `loadNative()` says why and the library runs on the pure-JS fallback.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import { prepareBlasEnv, type BlasEnv } from "./blas-env";
import { ConfigError } from "../core/errors";

/** Activation codes of the addon (enum Act in native/dense_kernels.h). */
export const ACTIVATION_CODES = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  tanh: 6,
} as const;
export type NativeActivation = keyof typeof ACTIVATION_CODES;

/** Bias layouts of the addon (enum BiasMode in native/dense_kernels.h). */
export const BIAS_NONE = 0;
export const BIAS_PER_COLUMN = 1;
export const BIAS_SCALAR = 2;

/** Fields of a pass head in a mlpPasses table, in no particular order (the addon's passLayout gives positions). */
export const PASS_FIELDS = ["rows", "depth", "input", "base", "baseRows", "split", "dOut", "dInput", "accumulate"] as const;
/** Fields of one layer's entry in a mlpPasses table (see IAPO_LAYER_FIELDS in native/pass_layout.h for meanings). */
export const LAYER_FIELDS = [
  "w", "b", "k", "n", "act", "out", "dw", "db", "gain", "normBias", "epsilon", "gateW", "gateB",
  "xhat", "rstd", "f", "g", "dGain", "dNormBias", "dGateW", "dGateB",
] as const;
export type PassField = (typeof PASS_FIELDS)[number];
export type LayerField = (typeof LAYER_FIELDS)[number];

/**
 * Where each field of a mlpPasses table goes, as the addon defines it (IAPO_PASS_FIELDS / IAPO_LAYER_FIELDS in
 * native/pass_layout.h, the one definition): a pass is `widths.pass` values from its head fields, then
 * `widths.layer` values per layer.
 */
export interface PassLayout {
  pass: Record<PassField, number>;
  layer: Record<LayerField, number>;
  widths: { pass: number; layer: number };
  /** Layers per pass and passes per call the addon runs. */
  maxDepth: number;
  maxPasses: number;
}

/** The addon's functions. Offsets and strides are in bytes into `heap`; all tensors are float32. */
export interface NativeAddon {
  /** A hash of the sources the addon was built from (native/sources-hash.js); loadNative checks it. */
  readonly version: string;
  /** The field positions of mlpPasses's tables. */
  readonly passLayout: PassLayout;
  /** C[i] = act(op(A[i])·op(B[i]) + bias) for i < batch; A[i] is [m,k] after op, B[i] [k,n], C[i] [m,n]. */
  gemm(
    heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    aOff: number, aStride: number, bOff: number, bStride: number, cOff: number,
    biasOff: number, biasMode: number, activation: number, alpha: number,
  ): void;
  /**
   * Backward of y = act(x·w + b), x [m,k], w [k,n]: writes dx, dw, db (each skipped when its offset is < 0).
   * With `accumulate`, dw and db are added to what they hold.
   */
  denseGrad(
    heap: ArrayBuffer, m: number, n: number, k: number, xOff: number, wOff: number, yOff: number, dyOff: number,
    dxOff: number, dwOff: number, dbOff: number, activation: number, alpha: number, accumulate?: boolean,
  ): void;
  /**
   * Whole-network passes described by `table` (HeapMlp.forwardPass / backwardPass, concatenated): forward
   * fills each layer's output, backward writes d input and weight gradients. Two passes run on two threads
   * when setThreads(>= 2).
   */
  mlpPasses(heap: ArrayBuffer, backward: boolean, table: Float64Array, count: number, leakyReluAlpha: number): void;
  /**
   * In-place Adam; table holds [valueOff, gradOff, mOff, vOff, size] per variable. Returns Σ g² over the
   * gradients as sumSquares would.
   */
  adam(
    heap: ArrayBuffer, table: Uint32Array, count: number, learningRate: number, beta1: number, beta2: number,
    epsilon: number, oneMinusAccBeta1: number, oneMinusAccBeta2: number,
  ): number;
  /** Σ x² over tensors given as [offset, size] rows of `table` (double precision). */
  sumSquares(heap: ArrayBuffer, table: Uint32Array, count: number): number;
  /** target ← float32(target·keep) + float32(source·take) in place; table rows [targetOff, sourceOff, size]. */
  polyak(heap: ArrayBuffer, table: Uint32Array, count: number, keep: number, take: number): void;
  /**
   * J's action samples (row r = n·B + s, sample n of state s): σ = exp(log σ) into `sigma` [B·A], the
   * tanh-squashed x = tanh(μ + σ·ε) into the heap at xOff (float32 [rows, A]), log π(x) into `logPi` [rows].
   */
  tanhGaussianSample(
    heap: ArrayBuffer, xOff: number, rows: number, B: number, A: number, mean: Float32Array, logStd: Float32Array,
    eps: Float32Array, sigma: Float64Array, logPi: Float64Array,
  ): void;
  /**
   * Adds ∇λ Σ_r (Q-part + dLogPi·log π) to gradMean and gradLogStd [B·A] (float32 after each sample, in row order),
   * from d/dx of the Q-part, dx1 + dx2 (heap, float32 [rows, A]), and tanhGaussianSample's x, ε and σ.
   */
  tanhGaussianGrad(
    heap: ArrayBuffer, xOff: number, dx1Off: number, dx2Off: number, rows: number, B: number, A: number,
    eps: Float32Array, sigma: Float64Array, dLogPi: number, gradMean: Float32Array, gradLogStd: Float32Array,
  ): void;
  /**
   * Rng.fillNormal's Box-Muller pairs (float32) from xoshiro128** state words, advanced in place; see
   * NormalPairsKernel in lib/core/rng.ts.
   */
  normalPairs(state: Uint32Array, out: Float32Array, start: number, pairs: number): number;
  /** Seconds for `reps` n³ sgemm calls on private buffers. */
  sgemmSeconds(n: number, reps: number): number;
  /** Multiply-adds the kernels have done since the addon loaded (benchmarks check their FLOP counts with it). */
  macCount(): number;
  /** Threads mlpPasses may use (at most 2: two networks at once, or one network's two halves of the rows). */
  setThreads(n: number): void;
  /**
   * Which kernels mlpPasses runs its products on: iapo's own GEMM on weights packed once per call
   * (native/packed_gemm.h) for AVX-512 or AVX2, or OpenBLAS ("off"). "best" picks the widest this CPU runs; asking
   * for one it cannot run throws. Returns the kernels in effect.
   */
  setPackedGemm(mode: PackedGemmMode): PackedGemmKernels;
  /** OpenBLAS's core and threads, the threads set by setThreads, and the packed GEMM's kernels in use. */
  blasInfo(): { coreName: string; config: string; blasThreads: number; threads: number; packedGemm: PackedGemmKernels };
}

export type NativeLoad =
  | { ok: true; addon: NativeAddon; path: string; blas: BlasEnv; coreName: string; packedGemm: PackedGemmState }
  | { ok: false; why: string };

/** Where native/build.js puts the addon: native/build/Release under the package root (this file runs from
 * lib/backend through ts tooling, or from dist/lib/backend when compiled). */
export function addonPath(): string {
  const tail = ["native", "build", "Release", "iapo_native.node"];
  const candidates = [path.resolve(__dirname, "..", "..", ...tail), path.resolve(__dirname, "..", "..", "..", ...tail)];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[candidates.length - 1];
}

/** The packed GEMM's kernels network passes run on; "off": OpenBLAS. */
export type PackedGemmKernels = "avx512" | "avx2" | "off";
/** What may be asked of setPackedGemm: a kernel set, or "best" (the widest the CPU runs). */
export type PackedGemmMode = PackedGemmKernels | "best";

/** Which GEMM network passes run on, and why. */
export interface PackedGemmState {
  kernels: PackedGemmKernels;
  why: string;
}

const PACKED_GEMM_SETTINGS = new Map<string, PackedGemmMode>([["1", "best"], ["0", "off"], ["avx512", "avx512"], ["avx2", "avx2"]]);

/**
 * `IAPO_PACKED_GEMM`: unset or 1 runs network passes on the packed GEMM's widest kernels the CPU runs, 0 keeps
 * OpenBLAS, avx2 / avx512 ask for those kernels (comparisons).
 */
export function packedGemmWanted(env: NodeJS.ProcessEnv): PackedGemmMode {
  const v = env.IAPO_PACKED_GEMM;
  if (v === undefined) return "best";
  const mode = PACKED_GEMM_SETTINGS.get(v);
  if (!mode) throw new ConfigError(`IAPO_PACKED_GEMM must be 0, 1, avx2 or avx512, got "${v}"`);
  return mode;
}

/** Sets the addon's packed GEMM as wanted and says which GEMM the network passes use. */
function choosePackedGemm(addon: NativeAddon, wanted: PackedGemmMode): PackedGemmState {
  let kernels: PackedGemmKernels;
  try {
    kernels = addon.setPackedGemm(wanted);
  } catch (err) {
    throw new ConfigError(`IAPO_PACKED_GEMM=${wanted}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (wanted === "off") return { kernels, why: "IAPO_PACKED_GEMM=0" };
  if (wanted !== "best") return { kernels, why: `IAPO_PACKED_GEMM=${wanted}` };
  return { kernels, why: kernels === "off" ? "CPU has neither AVX-512 nor AVX2 with FMA" : `widest this CPU runs` };
}

/** The command that rebuilds the addon from the sources beside it. */
export const REBUILD_COMMAND = "node native/build.js";

/**
 * The version an addon built from the sources in `nativeDir` has: native/sources-hash.js's hash of them (the same
 * script the build compiles into the addon).
 */
export function expectedAddonVersion(nativeDir: string): string {
  const script = path.join(nativeDir, "sources-hash.js");
  if (!fs.existsSync(script)) throw new Error(`${script} missing: the native sources are not beside the addon`);
  const { sourcesHash } = require(script) as { sourcesHash(dir: string): string };
  return sourcesHash(nativeDir);
}

/**
 * Why a loaded addon cannot be used with this library, or null when it can: it was built from other sources
 * than `expectedVersion` describes (an addon older than its sources lacks kernels or lays out tables
 * differently), or its pass layout does not name the fields the TypeScript writes.
 */
export function addonMismatch(addon: Partial<NativeAddon>, expectedVersion: string): string | null {
  if (addon.version !== expectedVersion) {
    const built = typeof addon.version === "string" ? `version ${addon.version}` : "no version (built before versions existed)";
    return `addon built from other sources (${built}; the sources in native/ are ${expectedVersion}): rebuild it with \`${REBUILD_COMMAND}\``;
  }
  const layout = addon.passLayout;
  const fits = (names: readonly string[], positions: Record<string, number> | undefined, width: number | undefined): boolean =>
    positions !== undefined && width !== undefined && Object.keys(positions).length === names.length &&
    new Set(names.map((n) => positions[n])).size === width && names.every((n) => Number.isInteger(positions[n]) && positions[n] >= 0 && positions[n] < width);
  if (!layout || !fits(PASS_FIELDS, layout.pass, layout.widths?.pass) || !fits(LAYER_FIELDS, layout.layer, layout.widths?.layer)) {
    return `the addon's passLayout does not match PASS_FIELDS / LAYER_FIELDS in lib/backend/native.ts (native/pass_layout.h and the TypeScript disagree)`;
  }
  return null;
}

let loaded: NativeLoad | undefined;

/**
 * Loads the addon once (setting the OpenBLAS environment first) and checks that it was built from the sources
 * beside it (addonMismatch). `IAPO_NATIVE=0` disables it, which is how the fallback path is exercised on machines
 * that have the addon.
 */
export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeLoad {
  if (loaded) return loaded;
  if (env.IAPO_NATIVE === "0") return (loaded = { ok: false, why: "disabled by IAPO_NATIVE=0" });
  const file = addonPath();
  if (!fs.existsSync(file)) {
    return (loaded = { ok: false, why: `addon not built (${file} missing; run \`${REBUILD_COMMAND}\`)` });
  }
  const blas = prepareBlasEnv(env);
  const packed = packedGemmWanted(env);
  try {
    const addon = require(file) as NativeAddon;
    const mismatch = addonMismatch(addon, expectedAddonVersion(path.resolve(path.dirname(file), "..", "..")));
    if (mismatch) return (loaded = { ok: false, why: mismatch });
    addon.setThreads(blas.threads);
    const info = addon.blasInfo();
    return (loaded = { ok: true, addon, path: file, blas, coreName: info.coreName, packedGemm: choosePackedGemm(addon, packed) });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return (loaded = { ok: false, why: `addon failed to load: ${err instanceof Error ? err.message : String(err)}` });
  }
}
