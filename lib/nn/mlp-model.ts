/**
 * A model whose weights are one MLP in a parameter set of its own (a Q-network, the direct policy network, the
 * iterative optimizer's network): the parameters, the layers the native passes run, and disposal, written once.
 */
import type { HeapLayer } from "../backend/heap-mlp";
import type { Rng } from "../core/rng";
import { Mlp, type MlpConfig } from "./mlp";
import { ParameterSet } from "./parameters";

export abstract class MlpModel {
  readonly params = new ParameterSet();
  protected readonly mlp: Mlp;

  protected constructor(network: MlpConfig, rng: Rng) {
    this.mlp = Mlp.create(network, rng, this.params);
  }

  /** The network's layers as the native passes run them (see Mlp.heapLayers). */
  heapLayers(): HeapLayer[] {
    return this.mlp.heapLayers();
  }

  dispose(): void {
    this.params.dispose();
  }
}
