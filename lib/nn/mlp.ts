/**
 * Multi-layer perceptrons: the building block of every network in the paper (policy: Table 2; Q-value
 * architectures A and B: Tables 3-4). Layers go through the backend's `dense()` seam.
 */
import { tf } from "../backend/tf";
import { activate, dense, type Activation } from "../backend/ops";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import { hiddenLayerInit, linearInit, NETWORK_INITS, type LinearInit, type NetworkInit } from "./init";
import { LAYER_NORM_EPSILON, layerNorm } from "./layer-norm";
import type { HeapLayer } from "../backend/heap-mlp";
import { ParameterSet } from "./parameters";


/** How hidden layers connect (Tables 3-4). */
export type Connectivity = "sequential" | "highway";

/** The hidden part of an MLP, as the paper's tables describe it. */
export interface MlpBody {
  /** Units of each hidden layer, e.g. [256, 256] (Table 2/3) or [512, 512, 512] (Table 4). */
  hiddenSizes: number[];
  /** Non-linearity after each hidden layer. */
  activation: Activation;
  /** Layer normalisation (with learned gain and bias) before each hidden non-linearity. */
  layerNorm: boolean;
  /**
   * "sequential": h <- f(h). "highway" (Srivastava et al., 2015): after the first layer,
   * h <- g ⊙ h + (1 - g) ⊙ f(h), with gate g = sigmoid(W_g h + b_g); needs equal hidden sizes.
   */
  connectivity: Connectivity;
}

export interface MlpConfig extends MlpBody {
  /** Input features. */
  inputSize: number;
  /** Outputs of the final linear layer. */
  outputSize: number;
  /** Start of the output layer: e.g. fan-in uniform, or zeros (iterative optimizer: δ = 0 and gate 0.5 at start). */
  outputInit: LinearInit;
  /** Start of the hidden layers and highway gates (default "fan-in-uniform"; "xavier": the authors' code). */
  init?: NetworkInit;
}

export function validateMlpConfig(c: MlpConfig, what = "mlp"): MlpConfig {
  const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;
  if (!posInt(c.inputSize)) throw new ConfigError(`${what}.inputSize must be a positive integer, got ${c.inputSize}`);
  if (!posInt(c.outputSize)) throw new ConfigError(`${what}.outputSize must be a positive integer, got ${c.outputSize}`);
  if (!Array.isArray(c.hiddenSizes) || c.hiddenSizes.length === 0 || !c.hiddenSizes.every(posInt)) {
    throw new ConfigError(`${what}.hiddenSizes must be a non-empty list of positive integers, got ${JSON.stringify(c.hiddenSizes)}`);
  }
  if (c.connectivity === "highway" && c.hiddenSizes.some((h) => h !== c.hiddenSizes[0])) {
    throw new ConfigError(`${what}.hiddenSizes must all be equal for highway connectivity, got ${JSON.stringify(c.hiddenSizes)}`);
  }
  if (c.connectivity !== "sequential" && c.connectivity !== "highway") {
    throw new ConfigError(`${what}.connectivity must be "sequential" or "highway", got "${String(c.connectivity)}"`);
  }
  if (c.init !== undefined && !NETWORK_INITS.includes(c.init)) throw new ConfigError(`${what}.init must be one of ${NETWORK_INITS.join(", ")}, got ${JSON.stringify(c.init)}`);
  return c;
}

/** An MLP whose weights live in a `ParameterSet` (shared with its owner for saving and optimizing). */
export class Mlp {
  readonly config: MlpConfig;

  private constructor(config: MlpConfig, private readonly params: ParameterSet, private readonly prefix: string) {
    this.config = config;
  }

  /** Creates the weights under `prefix` in `params`, initialised from `rng`. */
  static create(config: MlpConfig, rng: Rng, params: ParameterSet = new ParameterSet(), prefix = ""): Mlp {
    validateMlpConfig(config, prefix || "mlp");
    const init = config.init ?? "fan-in-uniform";
    let fanIn = config.inputSize;
    config.hiddenSizes.forEach((units, i) => {
      const p = `${prefix}hidden${i}/`;
      addLinear(params, p, rng, fanIn, units, hiddenLayerInit(init, config.activation));
      if (config.layerNorm) {
        params.add(`${p}ln_gain`, tf.ones([units]));
        params.add(`${p}ln_bias`, tf.zeros([units]));
      }
      if (config.connectivity === "highway" && i > 0) addLinear(params, `${p}gate_`, rng, fanIn, units, hiddenLayerInit(init, "sigmoid"));
      fanIn = units;
    });
    addLinear(params, `${prefix}output/`, rng, fanIn, config.outputSize, config.outputInit);
    return new Mlp(config, params, prefix);
  }

  /** @param x [batch, inputSize]  @returns [batch, outputSize] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const c = this.config;
      let h = x;
      c.hiddenSizes.forEach((_, i) => {
        const p = `${this.prefix}hidden${i}/`;
        const f = this.layer(h, p);
        if (c.connectivity === "highway" && i > 0) {
          const g = dense(h, this.w(`${p}gate_w`), this.b(`${p}gate_b`), "sigmoid");
          h = tf.add(tf.mul(g, h), tf.mul(tf.sub(1, g), f)) as tf.Tensor2D;
        } else h = f;
      });
      return dense(h, this.w(`${this.prefix}output/w`), this.b(`${this.prefix}output/b`), "linear");
    });
  }

  private layer(h: tf.Tensor2D, p: string): tf.Tensor2D {
    const c = this.config;
    if (!c.layerNorm) return dense(h, this.w(`${p}w`), this.b(`${p}b`), c.activation);
    const z = dense(h, this.w(`${p}w`), this.b(`${p}b`), "linear");
    return activate(layerNorm(z, this.b(`${p}ln_gain`), this.b(`${p}ln_bias`)), c.activation) as tf.Tensor2D;
  }

  private w(name: string): tf.Tensor2D {
    return this.params.get(name) as tf.Tensor as tf.Tensor2D;
  }

  private b(name: string): tf.Tensor1D {
    return this.params.get(name) as tf.Tensor as tf.Tensor1D;
  }

  /**
   * The network as the native passes run it (lib/backend/heap-mlp.ts): each hidden layer with its layer norm
   * (gain, bias, ε) and highway gate where the config has them, then the linear output layer.
   */
  heapLayers(): HeapLayer[] {
    const c = this.config;
    const layers: HeapLayer[] = c.hiddenSizes.map((_, i) => {
      const p = `${this.prefix}hidden${i}/`;
      return {
        w: this.params.get(`${p}w`),
        b: this.params.get(`${p}b`),
        activation: c.activation,
        ...(c.layerNorm ? { norm: { gain: this.params.get(`${p}ln_gain`), bias: this.params.get(`${p}ln_bias`), epsilon: LAYER_NORM_EPSILON } } : {}),
        ...(c.connectivity === "highway" && i > 0 ? { gate: { w: this.params.get(`${p}gate_w`), b: this.params.get(`${p}gate_b`) } } : {}),
      };
    });
    layers.push({ w: this.params.get(`${this.prefix}output/w`), b: this.params.get(`${this.prefix}output/b`), activation: "linear" });
    return layers;
  }
}

function addLinear(params: ParameterSet, p: string, rng: Rng, fanIn: number, fanOut: number, init: LinearInit): void {
  const { w, b } = linearInit(rng, fanIn, fanOut, init);
  params.add(`${p}w`, w);
  params.add(`${p}b`, b);
  w.dispose();
  b.dispose();
}
