/** A soft action-value network Q_ψ(s, a): an MLP on the concatenated state and action. */
import { tf } from "../backend/tf";
import type { Rng } from "../core/rng";
import { XAVIER_Q_OUTPUT, type NetworkInit } from "./init";
import type { MlpBody } from "./mlp";
import { MlpModel } from "./mlp-model";

export class QNetwork extends MlpModel {
  private constructor(body: MlpBody, observationSize: number, actionSize: number, rng: Rng, init: NetworkInit) {
    const outputInit = init === "xavier" ? XAVIER_Q_OUTPUT : "fan-in-uniform";
    super({ ...body, inputSize: observationSize + actionSize, outputSize: 1, outputInit, init }, rng);
  }

  /** @param init how the layers start ("xavier": the authors' code, with the output layer U(±3e-3)) */
  static create(body: MlpBody, observationSize: number, actionSize: number, rng: Rng, init: NetworkInit = "fan-in-uniform"): QNetwork {
    return new QNetwork(body, observationSize, actionSize, rng, init);
  }

  /** @param states [batch, obs]  @param actions [batch, act]  @returns Q values [batch] */
  apply(states: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.mlp.apply(tf.concat([states, actions], 1)).reshape([-1]) as tf.Tensor1D);
  }
}
