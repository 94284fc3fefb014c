/**
 * A named, ordered set of trainable tensors (one network's weights). Names are ours (e.g. "layer0/w"),
 * stable across processes, so weights and optimizer states can be saved and restored by name and order;
 * tfjs's own variable names are process-global counters and are never relied on.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";

/** Plain-data copy of one tensor: shape plus row-major float32 values. */
export interface TensorData {
  shape: number[];
  values: Float32Array;
}

/** Plain-data copy of a `ParameterSet`: our name -> tensor data. */
export type NamedWeights = Record<string, TensorData>;

export class ParameterSet {
  private readonly vars = new Map<string, tf.Variable>();

  /** Registers a new trainable variable under `name` with the values of `initial`, which it disposes. */
  add(name: string, initial: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new ConfigError(`parameter "${name}" is defined twice`);
    const v = tf.variable(initial, true);
    initial.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new ConfigError(`no parameter "${name}"; known: ${[...this.vars.keys()].join(", ")}`);
    return v;
  }

  /** Names in the order they were added (the order optimizers see them in). */
  names(): string[] {
    return [...this.vars.keys()];
  }

  variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Total number of scalars. */
  size(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies of all values, keyed by our names. */
  toData(): NamedWeights {
    const out: NamedWeights = {};
    for (const [name, v] of this.vars) out[name] = { shape: v.shape.slice(), values: Float32Array.from(v.dataSync() as Float32Array) };
    return out;
  }

  /** Overwrites every parameter from `data`; names and shapes must match exactly. */
  setData(data: NamedWeights): void {
    const missing = this.names().filter((n) => !(n in data));
    const extra = Object.keys(data).filter((n) => !this.vars.has(n));
    if (missing.length || extra.length) {
      throw new ConfigError(`weights do not match the network: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
    }
    for (const [name, v] of this.vars) {
      const d = data[name];
      if (d.shape.length !== v.shape.length || d.shape.some((s, i) => s !== v.shape[i])) {
        throw new ConfigError(`weights "${name}": shape [${d.shape}] does not match the network's [${v.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(d.values, v.shape)));
    }
  }

  /** this <- other (same structure). */
  copyFrom(other: ParameterSet): void {
    this.polyakFrom(other, 1);
  }

  /** Polyak averaging of target networks: this <- (1 - tau)·this + tau·other. */
  polyakFrom(other: ParameterSet, tau: number): void {
    tf.tidy(() => {
      for (const [name, v] of this.vars) {
        const src = other.get(name);
        v.assign(tau === 1 ? src.clone() : tf.add(tf.mul(v, 1 - tau), tf.mul(src, tau)));
      }
    });
  }

  /** Map from tfjs variable name to gradient, in our order, as `Optimizer.applyGradients` wants it. */
  gradientMap(grads: Record<string, tf.Tensor>): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const v of this.vars.values()) {
      const g = grads[v.name];
      if (!g) throw new ConfigError(`no gradient for parameter ${v.name}`);
      out[v.name] = g;
    }
    return out;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
