/**
 * Whole networks run directly on the tfjs wasm heap with the addon's kernels, outside the tfjs engine: no
 * tensors, no tape, no per-op dispatch. A learner that writes its own backward pass (lib/agents/sac/fused-update.ts)
 * uses these to do a full update in a few dozen native calls instead of hundreds of tfjs kernels.
 *
 * All offsets are byte offsets into the wasm heap. Scratch space comes from a `HeapBlock`: one kept float32
 * tensor, so its storage is tfjs's (freed with it) and weights and scratch share one heap buffer, as the
 * native functions need.
 */
import { tf } from "./tf";
import { IapoError } from "../core/errors";
import { ACTIVATION_CODES, type NativeAddon, type PassLayout } from "./native";
import { LEAKY_RELU_ALPHA } from "./ops";
import { heapOf, offsetOf, type WasmBackend } from "./wasm-heap";
import type { DenseLayer } from "./ops";

/** A region of the wasm heap owned through one kept tensor, handed out in float32 slices. */
export class HeapBlock {
  private readonly tensor: tf.Tensor1D;
  /** Byte offset of the first float. */
  readonly base: number;
  private used = 0;

  constructor(private readonly backend: WasmBackend, readonly floats: number) {
    this.tensor = tf.keep(tf.zeros([Math.max(1, floats)], "float32")) as tf.Tensor1D;
    this.base = offsetOf(backend, this.tensor);
  }

  /** Byte offset of a new slice of `count` floats (64-byte aligned, for the vector loops). */
  take(count: number): number {
    const start = Math.ceil(this.used / 16) * 16;
    if (start + count > this.floats) throw new IapoError(`HeapBlock: ${start + count} floats needed, ${this.floats} reserved`);
    this.used = start + count;
    return this.base + 4 * start;
  }

  dispose(): void {
    this.tensor.dispose();
  }
}

/** Floats a `HeapBlock` must hold for slices of these sizes taken in order (with alignment). */
export function blockSize(counts: number[]): number {
  return counts.reduce((used, c) => Math.ceil(used / 16) * 16 + c, 0) + 16;
}

/** [in, out] of a layer. */
const dims = (l: DenseLayer): [number, number] => l.w.shape as [number, number];

/** Where one forward pass keeps its activations: the output of each layer, [rows, width]. */
export interface MlpTrace {
  rows: number;
  /** Byte offset of the input [rows, in]. */
  input: number;
  /** Byte offsets of each layer's output; the last is the network's output. */
  outputs: number[];
  /** Per layer, what a normalised / highway layer's backward needs (null for a plain layer). */
  kept: Array<KeptValues | null>;
}

/** Byte offsets of a normalised / highway layer's kept values (-1 where the layer has none). */
export interface KeptValues {
  /** The normalised pre-activation [rows, n]. */
  xhat: number;
  /** 1/sqrt(var + ε) per row [rows]. */
  rstd: number;
  /** The activation's output [rows, n]: the layer's output itself when it has no gate. */
  f: number;
  /** The gate [rows, n]. */
  g: number;
}

/**
 * A layer as the native passes run it: a dense layer act(x·w + b); with `norm`, act(LN(x·w + b)·gain + bias);
 * with `gate` (highway, needs as many inputs as outputs), g ⊙ x + (1 − g) ⊙ that, g = sigmoid(x·gate.w + gate.b).
 */
export interface HeapLayer extends DenseLayer {
  norm?: { gain: tf.Variable; bias: tf.Variable; epsilon: number };
  gate?: { w: tf.Variable; b: tf.Variable };
}

/** Byte offsets of one layer's weight and bias gradients, and of a normalised / highway layer's others. */
export interface GradOffsets {
  w: number;
  b: number;
  gain?: number;
  normBias?: number;
  gateW?: number;
  gateB?: number;
}

/** Where a forward pass's first layer finds its fixed inputs' part (firstLayerBase). */
export interface FirstLayerBase {
  /** Byte offset of [baseRows, width of layer 0]. */
  offset: number;
  /** Rows of the base; pass row r adds base row r mod baseRows. */
  rows: number;
  /** Leading input columns folded into the base; the trace's input holds the remaining ones. */
  split: number;
}

/** What a backward pass computes besides its trace. */
export interface BackwardSpec {
  /** Byte offset of d output [rows, out]. */
  dOut: number;
  /** dw, db per layer; null: no weight gradients (a gradient to the input only). */
  grads: GradOffsets[] | null;
  /** Where to write d input [rows, in − split], or -1. */
  dInput: number;
  /** Add to `grads` instead of overwriting them. */
  accumulate: boolean;
  /** Rows to run (default: the trace's). */
  rows?: number;
  /**
   * For a pass made with a FirstLayerBase: its split; dInput then gets d of the remaining columns only, and
   * `grads` must be null.
   */
  base?: FirstLayerBase;
}

/**
 * Runs whole-network passes (HeapMlp.forwardPass / backwardPass descriptors) in one native call; two passes run
 * at the same time on two threads where the addon has them (SAC's two Q-networks). The passes must not write
 * to each other's regions.
 */
export function runMlpPasses(native: NativeAddon, backend: WasmBackend, backward: boolean, passes: Float64Array[]): void {
  const table = passes.length === 1 ? passes[0] : new Float64Array(passes.reduce((n, p) => n + p.length, 0));
  if (passes.length > 1) passes.reduce((at, p) => (table.set(p, at), at + p.length), 0);
  native.mlpPasses(heapOf(backend), backward, table, passes.length, LEAKY_RELU_ALPHA);
}

/**
 * A plain chain of dense layers evaluated on the wasm heap, forward and backward, each pass one native call
 * (rows in cache-sized blocks through all layers; see mlpPasses in native/mlp_passes.cc). Its tables are written
 * by field name, at the positions the addon's passLayout gives.
 */
export class HeapMlp {
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly layout: PassLayout;

  constructor(
    private readonly native: NativeAddon,
    private readonly backend: WasmBackend,
    readonly layers: HeapLayer[],
  ) {
    if (layers.length === 0) throw new IapoError("HeapMlp needs at least one layer");
    this.layout = native.passLayout;
    if (layers.length > this.layout.maxDepth) throw new IapoError(`HeapMlp supports up to ${this.layout.maxDepth} layers, got ${layers.length}`);
    this.inputSize = dims(layers[0])[0];
    this.outputSize = dims(layers[layers.length - 1])[1];
  }

  /** Floats a forward pass of `rows` rows keeps (not counting the input), in the order makeTrace takes them. */
  activationFloats(rows: number): number[] {
    const outputs = this.layers.map((l) => rows * dims(l)[1]);
    const kept = this.layers.flatMap((l) => {
      const n = dims(l)[1];
      return [...(l.norm ? [rows * n, rows] : []), ...(l.gate ? [rows * n, rows * n] : [])];
    });
    return [...outputs, ...kept];
  }

  /** A trace for `rows` rows with its activations taken from `block`. */
  makeTrace(block: HeapBlock, rows: number, input: number): MlpTrace {
    const outputs = this.layers.map((l) => block.take(rows * dims(l)[1]));
    const kept = this.layers.map((l, i): KeptValues | null => {
      if (!l.norm && !l.gate) return null;
      const n = dims(l)[1];
      const [xhat, rstd] = l.norm ? [block.take(rows * n), block.take(rows)] : [-1, -1];
      const [f, g] = l.gate ? [block.take(rows * n), block.take(rows * n)] : [outputs[i], -1];
      return { xhat, rstd, f, g };
    });
    return { rows, input, outputs, kept };
  }

  /** Runs the layers on trace.input, filling trace.outputs; rows may be fewer than the trace was made for. */
  forward(trace: MlpTrace, rows = trace.rows): void {
    runMlpPasses(this.native, this.backend, false, [this.forwardPass(trace, rows)]);
  }

  /**
   * The part of the first layer that depends only on its first `split` inputs, with the bias:
   * base = x_fixed·W[0:split] + b, [rows, width of layer 0], from x_fixed [rows, split] at `fixed`.
   * A Q-network evaluated on many actions for the same states computes this once (FirstLayerBase).
   */
  firstLayerBase(fixed: number, rows: number, split: number, base: number): void {
    runMlpPasses(this.native, this.backend, false, [this.firstLayerBasePass(fixed, rows, split, base)]);
  }

  /**
   * firstLayerBase as a pass for runMlpPasses (so two networks' bases run side by side): a one-layer linear
   * network whose weights are the first `split` rows of W (row-major [k, n], so they lead W's storage) and b.
   */
  firstLayerBasePass(fixed: number, rows: number, split: number, base: number): Float64Array {
    const l = this.layers[0];
    const n = dims(l)[1];
    if (!(split >= 1 && split <= dims(l)[0])) throw new IapoError(`HeapMlp: a first-layer base needs 1..${dims(l)[0]} fixed inputs, got ${split}`);
    const { pass: P, layer: L, widths } = this.layout;
    const t = new Float64Array(widths.pass + widths.layer).fill(-1);
    t[P.rows] = rows;
    t[P.depth] = 1;
    t[P.input] = fixed;
    t[P.baseRows] = 0;
    t[P.split] = 0;
    t[P.accumulate] = 0;
    const at = widths.pass;
    t[at + L.w] = offsetOf(this.backend, l.w);
    t[at + L.b] = offsetOf(this.backend, l.b);
    t[at + L.k] = split;
    t[at + L.n] = n;
    t[at + L.act] = ACTIVATION_CODES.linear;
    t[at + L.out] = base;
    t[at + L.epsilon] = 0;
    return t;
  }

  /**
   * A forward pass for runMlpPasses. With `base`, the first `base.split` inputs are already folded into it
   * (firstLayerBase) and trace.input holds only the remaining columns [rows, in − split].
   */
  forwardPass(trace: MlpTrace, rows = trace.rows, base?: FirstLayerBase): Float64Array {
    return this.pass(trace, rows, base, null);
  }

  /** A backward pass for runMlpPasses: back-propagates spec.dOut through the pass recorded in `trace`. */
  backwardPass(trace: MlpTrace, spec: BackwardSpec): Float64Array {
    if (spec.base && spec.grads) throw new IapoError("HeapMlp backward: weight gradients need the whole input (no base)");
    return this.pass(trace, spec.rows ?? trace.rows, spec.base, spec);
  }

  /** Back-propagates through the pass recorded in `trace` (one network; see BackwardSpec). */
  backward(trace: MlpTrace, spec: BackwardSpec): void {
    runMlpPasses(this.native, this.backend, true, [this.backwardPass(trace, spec)]);
  }

  private pass(trace: MlpTrace, rows: number, base: FirstLayerBase | undefined, spec: BackwardSpec | null): Float64Array {
    if (rows > trace.rows) throw new IapoError(`HeapMlp: ${rows} rows asked of a trace made for ${trace.rows}`);
    const { pass: P, layer: L, widths } = this.layout;
    const t = new Float64Array(widths.pass + widths.layer * this.layers.length);
    t[P.rows] = rows;
    t[P.depth] = this.layers.length;
    t[P.input] = trace.input;
    t[P.base] = base ? base.offset : -1;
    t[P.baseRows] = base ? base.rows : 0;
    t[P.split] = base ? base.split : 0;
    t[P.dOut] = spec ? spec.dOut : -1;
    t[P.dInput] = spec ? spec.dInput : -1;
    t[P.accumulate] = spec?.accumulate ? 1 : 0;
    const off = (v: tf.Variable | undefined): number => (v ? offsetOf(this.backend, v) : -1);
    this.layers.forEach((l, i) => {
      const [k, n] = dims(l);
      const g = spec?.grads ? spec.grads[i] : null;
      const kept = trace.kept[i];
      const at = widths.pass + widths.layer * i;
      t[at + L.w] = off(l.w);
      t[at + L.b] = off(l.b);
      t[at + L.k] = k;
      t[at + L.n] = n;
      t[at + L.act] = ACTIVATION_CODES[l.activation];
      t[at + L.out] = trace.outputs[i];
      t[at + L.dw] = g ? g.w : -1;
      t[at + L.db] = g ? g.b : -1;
      t[at + L.gain] = off(l.norm?.gain);
      t[at + L.normBias] = off(l.norm?.bias);
      t[at + L.epsilon] = l.norm?.epsilon ?? 0;
      t[at + L.gateW] = off(l.gate?.w);
      t[at + L.gateB] = off(l.gate?.b);
      t[at + L.xhat] = kept?.xhat ?? -1;
      t[at + L.rstd] = kept?.rstd ?? -1;
      t[at + L.f] = kept?.f ?? -1;
      t[at + L.g] = kept?.g ?? -1;
      t[at + L.dGain] = g?.gain ?? -1;
      t[at + L.dNormBias] = g?.normBias ?? -1;
      t[at + L.dGateW] = g?.gateW ?? -1;
      t[at + L.dGateB] = g?.gateB ?? -1;
    });
    return t;
  }
}
