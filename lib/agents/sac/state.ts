/** What a SAC agent saves to resume exactly: plain JSON plus Float32Arrays. */
import type { RngState } from "../../core/rng";
import type { NamedWeights, TensorData } from "../../nn/parameters";
import type { SacConfig } from "./config";

/** Sizes of the environment the agent acts in. */
export interface AgentSpec {
  observationSize: number;
  actionSize: number;
}

/** A tf.Optimizer's state (tf's getWeights: iteration count, then first and second moments), in order. */
export type OptimizerState = Array<{ name: string } & TensorData>;

export interface AgentSnapshot {
  /** Format version of this record. */
  version: 1;
  config: SacConfig;
  spec: AgentSpec;
  /** Gradient updates done so far. */
  updates: number;
  /**
   * Weights: online and target Q-networks, and the policy optimizer φ (absent for non-amortized ones); with
   * model-based values also the learned model and the distilled rollout policy (iterative agents).
   */
  networks: { q1: NamedWeights; q2: NamedWeights; q1Target: NamedWeights; q2Target: NamedWeights; policy: NamedWeights | null; model?: NamedWeights; rollout?: NamedWeights };
  logAlpha: number;
  optimizers: { q: OptimizerState; policy: OptimizerState | null; alpha: OptimizerState; model?: OptimizerState; rollout?: OptimizerState | null };
  /** The agent's random stream (action noise, J's samples). */
  rng: RngState;
  /** Model-based values: whether the model had its pre-training updates. */
  modelPretrained?: boolean;
}
