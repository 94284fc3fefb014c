/**
 * Adam that updates variables in place on the wasm heap with one native call per step, giving the values
 * tf.train.adam gives (same float32 operations in the same order) without its ~15 kernels per variable.
 * Subnormal moments are flushed to zero (see `adam` in native/optimizer_kernels.cc: they are slow to compute with
 * and move no weight).
 *
 * In-place writes are only safe where no one else sees the old values:
 * - a variable whose storage is shared (tf.variable(t), clone, assign share instead of copying) first gets
 *   its own copy, so a target network made from it keeps its values;
 * - XNNPACK caches packed weights under the tensor's wasm id (and drops them when that id is disposed). Each
 *   updated variable is re-registered under a fresh id, so no packed copy of an old value can ever be used.
 */
import { tf } from "./tf";
import { IapoError } from "../core/errors";
import type { NativeAddon } from "./native";
import { asWasmBackend, heapOf, offsetOf, type WasmBackend } from "./wasm-heap";

/** tfjs's NamedTensor (not re-exported by the @tensorflow/tfjs bundle). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Moments {
  m: tf.Tensor;
  v: tf.Tensor;
}

export class NativeAdam extends tf.Optimizer {
  static get className(): string {
    return "IapoNativeAdam";
  }

  private readonly moments = new Map<string, Moments>();
  private table = new Uint32Array(0);
  /**
   * Σ g² over the gradients of the last step, in double (NaN before the first step): a learner's global gradient
   * norm without a second pass over the gradients.
   */
  gradSumSquares = NaN;

  constructor(
    private readonly addon: NativeAddon,
    readonly learningRate: number,
    readonly beta1: number,
    readonly beta2: number,
    readonly epsilon: number,
  ) {
    super();
  }

  /**
   * β^t for the bias correction of step t = iterations + 1, as float32. Computed from the step count alone
   * (not multiplied up step by step) so that an optimizer restored with `setWeights` continues bit-exactly.
   */
  private accBeta(beta: number): number {
    return Math.fround(Math.pow(beta, this.iterations + 1));
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    if (tf.getBackend() !== "wasm") {
      throw new IapoError(`the native Adam runs on the wasm backend, but "${tf.getBackend()}" is active; create the optimizer after choosing the backend`);
    }
    const backend = asWasmBackend(tf.backend());
    const rows: number[] = [];
    const updated: tf.Variable[] = [];
    for (const [name, grad] of entries) {
      if (grad == null) continue; // tf.train.adam skips variables without a gradient too
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new IapoError(`Adam: no variable named "${name}"`);
      if (variable.dtype !== "float32" || grad.dtype !== "float32") throw new IapoError(`Adam: "${name}" is not float32`);
      if (grad.size !== variable.size) {
        throw new IapoError(`Adam: gradient of "${name}" has shape ${JSON.stringify(grad.shape)}, variable ${JSON.stringify(variable.shape)}`);
      }
      ownStorage(backend, variable);
      const slots = this.slotsFor(name, variable);
      rows.push(offsetOf(backend, variable), offsetOf(backend, grad), offsetOf(backend, slots.m), offsetOf(backend, slots.v), variable.size);
      updated.push(variable);
    }
    if (this.table.length < rows.length) this.table = new Uint32Array(rows.length);
    this.table.set(rows);
    const oneMinusAcc1 = Math.fround(1 - this.accBeta(this.beta1));
    const oneMinusAcc2 = Math.fround(1 - this.accBeta(this.beta2));
    this.gradSumSquares = this.addon.adam(heapOf(backend), this.table, updated.length, this.learningRate, this.beta1, this.beta2, this.epsilon, oneMinusAcc1, oneMinusAcc2);
    for (const v of updated) renewWasmId(backend, v);
    this.incrementIterations();
  }

  /**
   * Creates the moment slots of `variables` now (they are otherwise made on first use), so a caller that holds
   * views of the wasm heap knows no allocation (which can grow and replace the heap) happens inside a step.
   */
  ensureSlots(variables: tf.Variable[]): void {
    for (const v of variables) this.slotsFor(v.name, v);
  }

  private slotsFor(name: string, variable: tf.Variable): Moments {
    let slots = this.moments.get(name);
    if (!slots) {
      slots = { m: tf.keep(tf.zerosLike(variable)), v: tf.keep(tf.zerosLike(variable)) };
      this.moments.set(name, slots);
    }
    return slots;
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const weights = [await this.saveIterations()];
    for (const [name, { m }] of this.moments) weights.push({ name: `${name}/m`, tensor: m });
    for (const [name, { v }] of this.moments) weights.push({ name: `${name}/v`, tensor: v });
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.dispose();
    const byName = new Map<string, Partial<Moments>>();
    for (const { name, tensor } of rest) {
      const slot = name.endsWith("/m") ? "m" : name.endsWith("/v") ? "v" : null;
      if (!slot) throw new IapoError(`Adam.setWeights: unexpected weight "${name}"`);
      const key = name.slice(0, -2);
      const entry = byName.get(key) ?? {};
      entry[slot] = tf.keep(tf.clone(tensor));
      byName.set(key, entry);
    }
    for (const [name, { m, v }] of byName) {
      if (!m || !v) throw new IapoError(`Adam.setWeights: "${name}" needs both /m and /v`);
      this.moments.set(name, { m, v });
    }
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Gives `t` storage of its own if other tensors share it, so writing in place changes only `t`. */
export function ownStorage(backend: WasmBackend, t: tf.Tensor): void {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new IapoError("tensor is not stored on the wasm backend");
  if (data.refCount <= 1) return;
  const bytes = 4 * t.size;
  const copy = backend.makeOutput(t.shape.slice(), "float32");
  const heap = backend.wasm.HEAPU8;
  const from = data.memoryOffset;
  heap.copyWithin(offsetOf(backend, copy), from, from + bytes);
  const fresh = tf.engine().makeTensorFromTensorInfo(copy);
  (t as tf.Variable).assign(fresh);
  fresh.dispose();
}

/** Re-registers t's storage under a new wasm id: caches keyed by the old id (XNNPACK's) are dropped with it. */
export function renewWasmId(backend: WasmBackend, t: tf.Tensor): void {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) return;
  backend.wasm.tfjs.disposeData(data.id);
  data.id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(data.id, t.size, data.memoryOffset);
}
