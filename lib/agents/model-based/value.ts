/**
 * What a SAC agent with model-based values (valueEstimate: "model-based") holds besides its Q-networks and policy
 * optimizer: the learned model with its Adam, the rollout policy (distilled with its own Adam for an iterative
 * agent; a copy of the policy network for a direct one), and whether the model was pre-trained. The agent asks it
 * for the objective on Eq. 13, for the Q-networks' model-based targets (Table 8) and to learn after each update;
 * this is the tfjs autodiff form, and the fused native update has its own (fused/learner.ts) on the same weights
 * and Adams.
 */
import { tf } from "../../backend/tf";
import { createAdam } from "../../backend/adam";
import { ConfigError, NonFiniteError } from "../../core/errors";
import type { Rng } from "../../core/rng";
import type { NamedWeights, ParameterSet } from "../../nn/parameters";
import { DirectAmortizedOptimizer } from "../../policy/direct";
import type { VariationalObjectiveOptions, VariationalObjective } from "../../policy/objective";
import type { PolicyOptimizer } from "../../policy/optimizer";
import type { PolicyParams } from "../../policy/params";
import type { ReplayBatch } from "../replay-buffer";
import type { SacConfig } from "../sac/config";
import type { AgentSpec } from "../sac/state";
import { LearnedModel } from "./model";
import { ModelBasedObjective } from "./objective";
import { plannedStates } from "./rollout";
import { RolloutPolicy } from "./rollout-policy";

export class ModelBasedValue {
  readonly model: LearnedModel;
  readonly rollout: RolloutPolicy;
  private modelAdam: tf.Optimizer;
  /** Adam of the distilled rollout policy; null when the rollout policy copies a direct agent's network. */
  private rolloutAdam: tf.Optimizer | null;
  /** Whether the model had its pre-training updates (A.5); part of the agent's checkpoint. */
  pretrained = false;
  /** The agent update count the rollout copy was taken at (direct agents); -1: never. */
  private syncedAt = -1;

  constructor(private readonly config: SacConfig, spec: AgentSpec, private readonly agentPolicy: PolicyOptimizer, rng: Rng) {
    const { observationSize: O, actionSize: A } = spec;
    this.model = new LearnedModel(O, A, config.modelBased.hiddenSizes, rng.fork());
    const head = { logStdBounds: config.logStdBounds, init: config.networkInit };
    this.rollout = new RolloutPolicy(O, A, { hiddenSizes: config.policyHiddenSizes, activation: config.policyActivation }, rng.fork(), head);
    this.modelAdam = createAdam({ learningRate: config.learningRate });
    this.rolloutAdam = this.distilled ? createAdam({ learningRate: config.learningRate }) : null;
  }

  /** True when the rollout policy is a network of its own, distilled from the agent's (non-direct) optimizer. */
  get distilled(): boolean {
    return !(this.agentPolicy instanceof DirectAmortizedOptimizer);
  }

  /** A direct agent's rollout policy becomes a copy of its policy network, once per agent update `version`. */
  sync(version: number): void {
    if (this.distilled || this.syncedAt === version) return;
    this.rollout.copyFrom(this.agentPolicy as DirectAmortizedOptimizer);
    this.syncedAt = version;
  }

  /** J on Eq. 13 with the objective's Q-networks, α, β, samples and noise. */
  objective(options: VariationalObjectiveOptions): VariationalObjective {
    const m = this.config.modelBased;
    return new ModelBasedObjective({
      ...options,
      model: this.model,
      rolloutPolicy: (s) => this.rollout.lambda(s),
      horizon: m.horizon,
      gamma: this.config.gamma,
      retraceLambda: m.retraceLambda,
    });
  }

  /**
   * The model's planned trajectory from `states` under λ (Fig. 8b): s_0..s_h, each [B, obs] row-major (rollout.ts).
   * `version`: the agent's update count (a direct agent's rollout copy follows it).
   */
  plan(states: tf.Tensor2D, lambda: PolicyParams, version: number): Float32Array[] {
    this.sync(version);
    return plannedStates({ model: this.model, policy: (s) => this.rollout.lambda(s), horizon: this.config.modelBased.horizon }, states, lambda);
  }

  /**
   * V(s') of the Q-networks' targets from the model-based estimate (Table 8; Janner et al., 2019): J at the
   * rollout policy's λ(s'), E_π[Q̂(s', a')] − α KL, with `objective` on the target Q-networks. [B] as numbers.
   */
  targetValues(nextStates: tf.Tensor2D, objective: VariationalObjective): Float32Array {
    return tf.tidy(() => {
      const lambda = this.rollout.lambda(nextStates);
      return Float32Array.from(objective.evaluate(nextStates, lambda).j.dataSync() as Float32Array);
    });
  }

  /** A.5: `pretrainUpdates` model updates on batches from `sample` (the initial random steps), once. */
  pretrain(sample: () => ReplayBatch): Record<string, number> {
    let last = { state: NaN, reward: NaN };
    for (let i = 0; i < this.config.modelBased.pretrainUpdates; i++) {
      last = this.model.fitStep(sample(), this.modelAdam);
      if (!Number.isFinite(last.state + last.reward)) throw new NonFiniteError(`model pre-training update ${i + 1}: losses ${last.state}, ${last.reward}`);
    }
    this.pretrained = true;
    return this.config.modelBased.pretrainUpdates > 0 ? { "train/model_pretrain_state_nll": last.state, "train/model_pretrain_reward_nll": last.reward } : {};
  }

  /**
   * After the agent's policy step: one model update on the batch and, for a distilled rollout policy, one step
   * of KL(π_iterative || π_direct) towards the optimizer's final λ at the batch's states.
   */
  learn(batch: ReplayBatch, states: tf.Tensor2D, lambda: PolicyParams): Record<string, number> {
    const fit = this.model.fitStep(batch, this.modelAdam);
    const metrics: Record<string, number> = { "train/model_state_nll": fit.state, "train/model_reward_nll": fit.reward };
    if (this.rolloutAdam) metrics["train/rollout_kl"] = this.rollout.distillStep(states, lambda, this.rolloutAdam);
    return metrics;
  }

  /** The parameter sets whose Adam slots a checkpoint names: the model, and the rollout policy when distilled. */
  parameterSets(): Array<[string, ParameterSet]> {
    return this.distilled ? [["model", this.model.params], ["rollout", this.rollout.network.params]] : [["model", this.model.params]];
  }

  optimizers(): { model: tf.Optimizer; rollout: tf.Optimizer | null } {
    return { model: this.modelAdam, rollout: this.rolloutAdam };
  }

  /** Takes over restored optimizers (the old ones are disposed). */
  replaceOptimizers(model: tf.Optimizer, rollout: tf.Optimizer | null): void {
    if (model !== this.modelAdam) this.modelAdam.dispose();
    if (rollout !== this.rolloutAdam) this.rolloutAdam?.dispose();
    this.modelAdam = model;
    this.rolloutAdam = rollout;
  }

  /** The weights a checkpoint and a kept snapshot hold: the model, and the rollout policy when distilled. */
  networks(): { model: NamedWeights; rollout?: NamedWeights } {
    return this.distilled ? { model: this.model.params.toData(), rollout: this.rollout.network.params.toData() } : { model: this.model.params.toData() };
  }

  /** Restores `networks()`; a snapshot without them (a model-free agent's) fails naming what is missing. */
  setNetworks(networks: { model?: NamedWeights; rollout?: NamedWeights }): void {
    if (!networks.model) throw new ConfigError("agent snapshot has no learned model: it was saved by an agent with model-free values");
    this.model.params.setData(networks.model);
    if (this.distilled) {
      if (!networks.rollout) throw new ConfigError("agent snapshot has no rollout policy weights");
      this.rollout.network.params.setData(networks.rollout);
    }
    this.syncedAt = -1;
  }

  dispose(): void {
    this.model.dispose();
    this.rollout.dispose();
    this.modelAdam.dispose();
    this.rolloutAdam?.dispose();
  }
}
