/**
 * A hand-written learner's gradient buffers on the wasm heap: one kept tensor per variable (what a native Adam
 * reads by name), where each network layer's backward pass writes into them, and the preparation that makes
 * in-place updates safe (own storage, Adam slots made before any heap view is taken).
 */
import { tf } from "../../../backend/tf";
import type { GradOffsets, HeapMlp } from "../../../backend/heap-mlp";
import { NativeAdam, ownStorage } from "../../../backend/native-adam";
import { IapoError } from "../../../core/errors";
import type { FusedContext } from "./context";

/** The optimizer as the native Adam a hand-written update needs. */
export function nativeAdam(o: tf.Optimizer): NativeAdam {
  if (!(o instanceof NativeAdam)) throw new IapoError("the fused update needs the native Adam");
  return o;
}

export class GradientBuffers {
  /** d loss / d variable, one per variable, same order and shapes. */
  readonly tensors: tf.Tensor[];

  constructor(private readonly ctx: FusedContext, readonly variables: tf.Variable[]) {
    this.tensors = variables.map((v) => tf.keep(tf.zerosLike(v)));
  }

  /** Byte offset of `v`'s gradient buffer. */
  offset(v: tf.Variable): number {
    const i = this.variables.indexOf(v);
    if (i < 0) throw new IapoError(`fused update: no gradient buffer for ${v.name}`);
    return this.ctx.offset(this.tensors[i]);
  }

  /** Where each layer of `net` (whose variables are among these) writes its gradients. */
  offsets(net: HeapMlp): GradOffsets[] {
    return net.layers.map((l) => ({
      w: this.offset(l.w),
      b: this.offset(l.b),
      ...(l.norm ? { gain: this.offset(l.norm.gain), normBias: this.offset(l.norm.bias) } : {}),
      ...(l.gate ? { gateW: this.offset(l.gate.w), gateB: this.offset(l.gate.b) } : {}),
    }));
  }

  zero(): void {
    for (const g of this.tensors) this.ctx.view(this.ctx.offset(g), g.size).fill(0);
  }

  /** Variable name → gradient, as applyGradients takes them. */
  named(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.variables.map((v, i) => [v.name, this.tensors[i]]));
  }

  /** Copies of the buffers by variable name (what the last backward pass wrote). */
  values(): Record<string, Float32Array> {
    return Object.fromEntries(this.variables.map((v, i) => [v.name, this.ctx.view(this.ctx.offset(this.tensors[i]), v.size).slice()]));
  }

  /** Own storage for every variable and `optimizer`'s slots for them, so a step allocates nothing. */
  prepare(optimizer: tf.Optimizer): void {
    for (const v of this.variables) ownStorage(this.ctx.backend, v);
    nativeAdam(optimizer).ensureSlots(this.variables);
  }

  dispose(): void {
    tf.dispose(this.tensors);
  }
}
