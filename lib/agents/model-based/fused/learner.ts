/**
 * What the fused SAC update (lib/agents/sac/fused-update.ts) runs for an agent with model-based values: J on
 * Eq. 13 (objective.ts) for the policy optimizer, acting and the Q target's next λ; the Q-networks' model-based
 * targets (Table 8: J at the rollout policy's λ(s') on the target networks, as ModelBasedValue.targetValues);
 * and after the policy step the model's fit and, for a distilled rollout policy, its distillation (model-fit.ts,
 * distill.ts), returning the tfjs path's metrics in its order.
 */
import type { HeapMlp } from "../../../backend/heap-mlp";
import type { Rng } from "../../../core/rng";
import type { ReplayBatch } from "../../replay-buffer";
import type { SacConfig } from "../../sac/config";
import type { FusedContext } from "../../sac/fused/context";
import type { Lambda } from "../../sac/fused/objective";
import type { ModelBasedValue } from "../value";
import { FusedDistillation } from "./distill";
import { FusedModelFit } from "./model-fit";
import { FusedModelBasedObjective } from "./objective";

export class FusedModelBased {
  readonly objective: FusedModelBasedObjective;
  private readonly fit: FusedModelFit;
  private readonly distill: FusedDistillation | null;

  constructor(ctx: FusedContext, private readonly value: ModelBasedValue, config: SacConfig, q: [HeapMlp, HeapMlp], rng: Rng) {
    this.fit = new FusedModelFit(ctx, value.model);
    this.distill = value.distilled ? new FusedDistillation(ctx, value.rollout) : null;
    const form = value.model.heapForm();
    const rollout = value.rollout.network.fusedForm();
    if (rollout.kind !== "direct") throw new Error("the rollout policy is a direct network");
    const nets = { q, reward: ctx.heapMlp(form.reward), transition: ctx.heapMlp(form.transition), policy: this.distill?.net ?? ctx.heapMlp(rollout.layers), bounds: rollout.logStdBounds };
    const { observationSize, actionSize } = value.model;
    const m = config.modelBased;
    this.objective = new FusedModelBasedObjective(ctx, nets, rng, {
      observationSize, actionSize, samples: config.samples, horizon: m.horizon, gamma: config.gamma, retraceLambda: m.retraceLambda, pessimismStd: config.pessimismStd,
    });
  }

  /** Allocates what a batch of B (and acting's batch sizes) need, and the Adams' slots, before heap views are taken. */
  prepare(B: number, training: boolean): void {
    this.objective.prepare(B);
    if (!training) return;
    const o = this.value.optimizers();
    this.fit.prepare(B, o.model);
    if (this.distill && o.rollout) this.distill.prepare(B, o.rollout);
  }

  /** V(s') of the model-based targets: J at the rollout policy's λ(s') on `qTarget` (no gradient). [B] */
  targetValues(nextStates: Float32Array, B: number, qTarget: [HeapMlp, HeapMlp], beta: number, alpha: number): Float32Array {
    const lambda = this.objective.rolloutLambda(nextStates, B);
    return this.objective.evaluate(B, lambda, qTarget, beta, alpha, false, this.objective.statePart(nextStates, B)).j;
  }

  /** After the policy step: the model's fit on the batch and the rollout policy's distillation towards `lambda` at its states. */
  learn(batch: ReplayBatch, lambda: Lambda): Record<string, number> {
    const o = this.value.optimizers();
    const fit = this.fit.step(batch, o.model);
    const metrics: Record<string, number> = { "train/model_state_nll": fit.state, "train/model_reward_nll": fit.reward };
    if (this.distill && o.rollout) metrics["train/rollout_kl"] = this.distill.step(batch.observations, batch.size, lambda, o.rollout);
    return metrics;
  }

  dispose(): void {
    this.objective.dispose();
    this.fit.dispose();
    this.distill?.dispose();
  }
}
