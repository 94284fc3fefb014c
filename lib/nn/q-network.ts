/** A soft action-value network Q_ψ(s, a): an MLP on the concatenated state and action. */
import { tf } from "../backend/tf";
import type { Rng } from "../core/rng";
import { Mlp, type MlpBody } from "./mlp";
import type { HeapLayer } from "../backend/heap-mlp";
import { ParameterSet } from "./parameters";

export class QNetwork {
  readonly params: ParameterSet;
  private readonly mlp: Mlp;

  private constructor(mlp: Mlp, params: ParameterSet) {
    this.mlp = mlp;
    this.params = params;
  }

  static create(body: MlpBody, observationSize: number, actionSize: number, rng: Rng): QNetwork {
    const params = new ParameterSet();
    const mlp = Mlp.create({ ...body, inputSize: observationSize + actionSize, outputSize: 1, outputInit: "fan-in-uniform" }, rng, params);
    return new QNetwork(mlp, params);
  }

  /** @param states [batch, obs]  @param actions [batch, act]  @returns Q values [batch] */
  apply(states: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.mlp.apply(tf.concat([states, actions], 1)).reshape([-1]) as tf.Tensor1D);
  }

  /** The network's layers as the native passes run them (see Mlp.heapLayers). */
  heapLayers(): HeapLayer[] {
    return this.mlp.heapLayers();
  }

  macsPerExample(): number {
    return this.mlp.macsPerExample();
  }

  dispose(): void {
    this.params.dispose();
  }
}
