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
import { ACTIVATION_CODES, BIAS_PER_COLUMN, type NativeAddon } from "./native";
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
}

/** A plain chain of dense layers evaluated with sgemm + fused bias/activation, forward and backward. */
export class HeapMlp {
  readonly inputSize: number;
  readonly outputSize: number;
  /** Widest layer output: the size of the backward pass's scratch rows. */
  readonly maxWidth: number;

  constructor(
    private readonly native: NativeAddon,
    private readonly backend: WasmBackend,
    readonly layers: DenseLayer[],
  ) {
    if (layers.length === 0) throw new IapoError("HeapMlp needs at least one layer");
    this.inputSize = dims(layers[0])[0];
    this.outputSize = dims(layers[layers.length - 1])[1];
    this.maxWidth = Math.max(this.inputSize, ...layers.map((l) => dims(l)[1]));
  }

  /** Floats of activations one forward pass of `rows` rows keeps (not counting the input). */
  activationFloats(rows: number): number[] {
    return this.layers.map((l) => rows * dims(l)[1]);
  }

  /** A trace for `rows` rows with its activations taken from `block`. */
  makeTrace(block: HeapBlock, rows: number, input: number): MlpTrace {
    return { rows, input, outputs: this.activationFloats(rows).map((n) => block.take(n)) };
  }

  /** Runs the layers on trace.input, filling trace.outputs; rows may be fewer than the trace was made for. */
  forward(trace: MlpTrace, rows = trace.rows): void {
    this.forwardFrom(0, trace, rows);
  }

  /** Whether the addon can split the first layer (forwardOnBase); an addon built from older sources cannot. */
  get canSplitFirstLayer(): boolean {
    return typeof this.native.gemmOnBase === "function";
  }

  /**
   * The part of the first layer that depends only on its first `split` inputs, with the bias:
   * base = x_fixed·W[0:split] + b, [rows, width of layer 0], from x_fixed [rows, split] at `fixed`.
   * A Q-network evaluated on many actions for the same states computes this once (see forwardOnBase).
   */
  firstLayerBase(fixed: number, rows: number, split: number, base: number): void {
    const l = this.layers[0];
    const n = dims(l)[1];
    this.native.gemm(
      heapOf(this.backend), 1, rows, n, split, false, false, fixed, 0, offsetOf(this.backend, l.w), 0, base,
      offsetOf(this.backend, l.b), BIAS_PER_COLUMN, ACTIVATION_CODES.linear, 0,
    );
  }

  /**
   * The forward pass when the first `split` inputs are already folded into `base` (firstLayerBase): trace.input
   * holds only the remaining inputs [rows, in − split], and row r of the first layer adds base row r mod baseRows
   * (rows laid out as sample-major repeats of the base's states).
   */
  forwardOnBase(trace: MlpTrace, base: number, baseRows: number, split: number, rows = trace.rows): void {
    const gemmOnBase = this.native.gemmOnBase;
    if (!gemmOnBase) throw new IapoError("the native addon has no gemmOnBase (rebuild it: node native/build.js)");
    const l = this.layers[0];
    const [k, n] = dims(l);
    gemmOnBase.call(
      this.native, heapOf(this.backend), rows, n, k - split, trace.input, offsetOf(this.backend, l.w) + 4 * split * n, base, baseRows,
      trace.outputs[0], ACTIVATION_CODES[l.activation], LEAKY_RELU_ALPHA,
    );
    this.forwardFrom(1, trace, rows);
  }

  private forwardFrom(first: number, trace: MlpTrace, rows: number): void {
    const heap = heapOf(this.backend);
    for (let i = first; i < this.layers.length; i++) {
      const l = this.layers[i];
      const [k, n] = dims(l);
      this.native.gemm(
        heap, 1, rows, n, k, false, false, i === 0 ? trace.input : trace.outputs[i - 1], 0, offsetOf(this.backend, l.w), 0, trace.outputs[i],
        offsetOf(this.backend, l.b), BIAS_PER_COLUMN, ACTIVATION_CODES[l.activation], LEAKY_RELU_ALPHA,
      );
    }
  }

  /**
   * Back-propagates dOut [rows, out] through the pass recorded in `trace`.
   * @param grads byte offsets of dw, db per layer (null: no weight gradients, e.g. a gradient to the input only)
   * @param dInput where to write d input [rows, in], or -1
   * @param scratch two regions of rows·maxWidth floats each
   * @param accumulate add to `grads` instead of overwriting them
   * @param split for a pass made by forwardOnBase: the input columns folded into the base; dInput then gets
   *   d of the remaining columns only [rows, in − split], and `grads` must be null
   */
  backward(
    trace: MlpTrace, dOut: number, grads: Array<{ w: number; b: number }> | null, dInput: number,
    scratch: [number, number], accumulate: boolean, rows = trace.rows, split = 0,
  ): void {
    if (split > 0 && grads) throw new IapoError("HeapMlp.backward: weight gradients need the whole input (split = 0)");
    const heap = heapOf(this.backend);
    let dy = dOut;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i];
      const [fullK, n] = dims(l);
      const k = i === 0 ? fullK - split : fullK;
      const w = offsetOf(this.backend, l.w) + (i === 0 ? 4 * split * n : 0);
      const x = i === 0 ? trace.input : trace.outputs[i - 1];
      const dx = i === 0 ? dInput : scratch[i % 2];
      if (i === 0 && dx < 0 && !grads) break;
      this.native.denseGrad(
        heap, rows, n, k, x, w, trace.outputs[i], dy, dx,
        grads ? grads[i].w : -1, grads ? grads[i].b : -1, ACTIVATION_CODES[l.activation], LEAKY_RELU_ALPHA, accumulate,
      );
      dy = dx;
    }
  }
}
