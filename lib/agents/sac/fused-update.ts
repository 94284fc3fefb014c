/**
 * The SAC update of agent.ts written out by hand on the tfjs wasm heap, for the native backend: the
 * orchestration (update, acting). Its parts: fused/context.ts (kernels, heap, queued passes),
 * fused/workspace.ts (heap regions), fused/objective.ts (J and ∇λ J), fused/optimizers.ts (the direct and
 * iterative optimizers), fused/gradients.ts (gradient buffers); with model-based values, J on Eq. 13, the targets
 * and the model's learning are lib/agents/model-based/fused/. The per-element maths is lib/agents/sac/maths.ts,
 * lib/policy/maths.ts and lib/agents/model-based/maths.ts, which the tfjs path shares.
 *
 * Why: through tfjs, a direct update runs ~480 kernels (each with engine, tape and scope bookkeeping) and the
 * iterative one differentiates J inside the outer gradient tape, so every J evaluation is back-propagated twice.
 * Here each network pass is one native call (lib/backend/heap-mlp.ts; the two Q-networks' passes run at the
 * same time on two threads where the machine has two cores), the elementwise maths runs as plain loops over
 * [batch, |A|] arrays, gradients are closed forms, and Adam, Polyak averaging and metrics read and write the
 * heap in place.
 *
 * The maths is the tfjs path's, step for step (same noise draws in the same order, same clipping masks, same
 * abs/clip subgradients); values agree to float32 rounding (tests/agents/fused-update.test.ts).
 */
import { tf } from "../../backend/tf";
import type { HeapMlp } from "../../backend/heap-mlp";
import { NativeAdam, ownStorage, renewWasmId } from "../../backend/native-adam";
import { activeAddon } from "../../backend/wasm-kernels";
import { IapoError } from "../../core/errors";
import { mean } from "../../core/stats";
import type { Rng } from "../../core/rng";
import type { QNetwork } from "../../nn/q-network";
import type { PolicyOptimizer } from "../../policy/optimizer";
import type { ReplayBatch } from "../replay-buffer";
import type { SacConfig } from "./config";
import { softQTarget, tdLoss, temperatureLossAndGrad } from "./maths";
import { targetStep } from "./target-update";
import { FusedContext } from "./fused/context";
import { GradientBuffers, nativeAdam } from "./fused/gradients";
import { FusedObjective, type FusedJ, type Lambda } from "./fused/objective";
import { fusedPolicy, type FusedPolicy, type PolicyGrads } from "./fused/optimizers";
import { Workspaces } from "./fused/workspace";
import type { ModelBasedValue } from "../model-based/value";
import { FusedModelBased } from "../model-based/fused/learner";

export type { Lambda } from "./fused/objective";

const LN2 = Math.LN2;

let enabled = process.env.IAPO_FUSED_SAC !== "0";

/** Turns the fused update on or off for agents' next updates (side-by-side benchmarks, equivalence tests). */
export function setFusedSacUpdates(on: boolean): void {
  enabled = on;
}

export function fusedSacUpdatesEnabled(): boolean {
  return enabled;
}

/** What the fused update reads and writes of an agent. */
export interface FusedSacParts {
  config: SacConfig;
  observationSize: number;
  actionSize: number;
  targetEntropy: number;
  q1: QNetwork;
  q2: QNetwork;
  q1Target: QNetwork;
  q2Target: QNetwork;
  policy: PolicyOptimizer;
  logAlpha: tf.Variable;
  rng: Rng;
  /** The learned model and rollout policy of model-based values (valueEstimate "model-based"), else null. */
  modelBased: ModelBasedValue | null;
}

export interface FusedSacOptimizers {
  q: tf.Optimizer;
  policy: tf.Optimizer | null;
  alpha: tf.Optimizer;
}

/** Why an agent cannot use the fused update, or null when it can. */
export function fusedSacUnsupported(parts: FusedSacParts, optimizers: FusedSacOptimizers): string | null {
  if (!enabled) return "disabled";
  const addon = activeAddon();
  if (!addon || tf.getBackend() !== "wasm") return "native wasm kernels not active";
  if (!parts.policy.fusedForm) return `policy optimizer ${parts.policy.kind} has no hand-written form`;
  const mb = parts.modelBased?.optimizers();
  if (![optimizers.q, optimizers.alpha, optimizers.policy, mb?.model ?? null, mb?.rollout ?? null].every((o) => o === null || o instanceof NativeAdam)) return "optimizers are not the native Adam";
  return null;
}

export class FusedSacUpdate {
  private readonly ctx: FusedContext;
  private readonly q: [HeapMlp, HeapMlp];
  private readonly qTarget: [HeapMlp, HeapMlp];
  private readonly policy: FusedPolicy;
  private readonly objective: FusedObjective;
  /** Model-based values: J on Eq. 13 (which the policy optimizer maximises), the targets and the model's learning. */
  private readonly modelBased: FusedModelBased | null;
  /**
   * Heap regions per batch size: the training batch and the acting batch (1, or a few) both stay allocated, so
   * alternating act() and update() never reallocates.
   */
  private readonly workspaces: Workspaces;
  /** Gradient buffers, one per variable (kept tensors the Adam reads). */
  private readonly qGrads: GradientBuffers;
  private readonly pGrads: GradientBuffers;
  private readonly alphaGrad: tf.Tensor;

  constructor(private readonly parts: FusedSacParts) {
    const form = parts.policy.fusedForm?.();
    if (!form) throw new IapoError(`the fused SAC update has no form of the ${parts.policy.kind} policy optimizer`);
    const ctx = (this.ctx = new FusedContext());
    this.q = [ctx.heapMlp(parts.q1.heapLayers()), ctx.heapMlp(parts.q2.heapLayers())];
    this.qTarget = [ctx.heapMlp(parts.q1Target.heapLayers()), ctx.heapMlp(parts.q2Target.heapLayers())];
    const { observationSize, actionSize } = parts;
    this.policy = fusedPolicy(ctx, form, actionSize, observationSize);
    const samples = parts.config.samples;
    this.workspaces = new Workspaces(ctx, { observationSize, actionSize, samples, q: this.q, policy: this.policy.net, policyTraces: this.policy.traces });
    this.objective = new FusedObjective(ctx, this.workspaces, parts.rng, observationSize, actionSize, samples, parts.config.pessimismStd);
    this.qGrads = new GradientBuffers(ctx, [...parts.q1.params.variables(), ...parts.q2.params.variables()]);
    this.pGrads = new GradientBuffers(ctx, parts.policy.params?.variables() ?? []);
    this.alphaGrad = tf.keep(tf.zerosLike(parts.logAlpha));
    this.modelBased = parts.modelBased ? new FusedModelBased(ctx, parts.modelBased, parts.config, this.q, parts.rng) : null;
    this.workspaces.get(1); // acting's batch of one, allocated with the rest so act() never allocates tensors
    this.modelBased?.prepare(1, false);
  }

  /** The J the policy optimizer runs on: Eq. 13's with model-based values, else Eq. 7's. */
  private get policyObjective(): FusedJ {
    return this.modelBased?.objective ?? this.objective;
  }

  dispose(): void {
    this.qGrads.dispose();
    this.pGrads.dispose();
    this.alphaGrad.dispose();
    this.workspaces.dispose();
    this.modelBased?.dispose();
  }

  /** Everything updated in place gets storage of its own and Adam slots now, so no tensor is allocated mid-update. */
  private prepare(optimizers: FusedSacOptimizers): void {
    const p = this.parts;
    const qVars = [...p.q1.params.variables(), ...p.q2.params.variables()];
    const all = [...qVars, ...p.q1Target.params.variables(), ...p.q2Target.params.variables(), ...(p.policy.params?.variables() ?? []), p.logAlpha];
    for (const v of all) ownStorage(this.ctx.backend, v);
    nativeAdam(optimizers.q).ensureSlots(qVars);
    if (optimizers.policy && p.policy.params) nativeAdam(optimizers.policy).ensureSlots(p.policy.params.variables());
    nativeAdam(optimizers.alpha).ensureSlots([p.logAlpha]);
  }

  /**
   * One update, as SacAgent.update: Q target, Q step, policy step, temperature step, targets (after
   * `updatesBefore` updates: target-update.ts). Returns the same metrics in the same order. `checkFinite` throws
   * for a non-finite loss (the agent's error messages).
   */
  update(batch: ReplayBatch, optimizers: FusedSacOptimizers, checkFinite: (what: string, value: number) => void, updatesBefore: number): Record<string, number> {
    const p = this.parts;
    const c = p.config;
    const ctx = this.ctx;
    const B = batch.size;
    const O = p.observationSize;
    const A = p.actionSize;
    this.prepare(optimizers);
    const ws = this.workspaces.get(B);
    this.modelBased?.prepare(B, true);
    ctx.clearQueue(); // nothing left over from an update that threw
    const heapAtStart = ctx.heap();
    const metrics: Record<string, number> = {};
    const alpha = Math.fround(Math.exp(ctx.view(ctx.offset(p.logAlpha), 1)[0]));
    const policyQ = c.useTargetQForPolicy ? this.qTarget : this.q;

    // The Q-networks' forward on (s, a) needs nothing of the target: queued, it runs in the target's first call.
    const width = O + A;
    const qIn = ctx.view(ws.qTraces[0].input, B * width);
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < O; i++) qIn[s * width + i] = batch.observations[s * O + i];
      for (let i = 0; i < A; i++) qIn[s * width + O + i] = batch.actions[s * A + i];
    }
    ctx.enqueue([this.q[0].forwardPass(ws.qTraces[0]), this.q[1].forwardPass(ws.qTraces[1])]);
    // So may the policy's forward on s for its own step (a direct policy's: nothing before that step changes its
    // weights, and beside the forward on s' its weights are packed once).
    const policyOnStates = this.policy.queueForward(ws, batch.observations);

    // Soft Q target y = r + γ(1 − d)·J_target(s', λ') (Eq. 12, 14), with the pre-update weights. A run that
    // evaluates no J before its forward leaves the state parts alone, so the target networks' are queued to run with it.
    // Model-based targets (Table 8): J on Eq. 13 at the rollout policy's λ(s') instead.
    let v: Float32Array;
    if (this.modelBased && c.modelBased.valueTargets) {
      v = this.modelBased.targetValues(batch.nextObservations, B, this.qTarget, c.betaTrain, alpha);
    } else {
      const queueTarget = !this.policy.evaluatesWithoutGrads;
      const targetPart = queueTarget ? this.objective.statePart(batch.nextObservations, B, this.qTarget, true) : null;
      const next = this.policy.run({ objective: this.policyObjective, ws, states: batch.nextObservations, q: policyQ, beta: c.betaTrain, alpha, grads: null }).lambda;
      v = this.objective.evaluate(B, next, this.qTarget, c.betaTrain, alpha, false, targetPart ?? this.objective.statePart(batch.nextObservations, B, this.qTarget)).j;
    }
    const y = new Float32Array(B);
    for (let s = 0; s < B; s++) y[s] = softQTarget(batch.rewards[s], c.gamma, batch.terminated[s], v[s]);

    // Q-networks: mean squared TD error each, summed; Adam.
    ctx.runForward([]); // the queued Q forward, if no call took it
    const losses = [0, 1].map((i) => {
      const trace = ws.qTraces[i];
      return tdLoss(ctx.view(trace.outputs[trace.outputs.length - 1], B), y, ctx.view(ws.dqLoss[i], B));
    });
    const q1Value = Math.fround(mean(ctx.view(ws.qTraces[0].outputs[ws.qTraces[0].outputs.length - 1], B)));
    checkFinite("Q loss", Math.fround(losses[0]) + Math.fround(losses[1]));
    ctx.runPasses(true, [0, 1].map((i) => this.q[i].backwardPass(ws.qTraces[i], { dOut: ws.dqLoss[i], grads: this.qGrads.offsets(this.q[i]), dInput: -1, accumulate: false })));
    metrics["train/q1_loss"] = Math.fround(losses[0]);
    metrics["train/q2_loss"] = Math.fround(losses[1]);
    metrics["train/q1_value"] = q1Value;
    metrics["train/q_target"] = Math.fround(mean(y));
    optimizers.q.applyGradients(this.qGrads.named());
    metrics["train/grad_norm_q"] = this.gradNorm(optimizers.q, this.qGrads.tensors);

    // Policy optimizer on the updated Q-networks.
    const grads: PolicyGrads | null = this.pGrads.tensors.length
      ? { offsets: this.pGrads.offsets(this.policy.net), zero: () => this.pGrads.zero() }
      : null;
    const run = this.policy.run({ objective: this.policyObjective, ws, states: batch.observations, q: policyQ, beta: c.betaTrain, alpha, grads, ran: policyOnStates });
    checkFinite("policy loss", run.loss);
    metrics["train/policy_loss"] = run.loss;
    if (optimizers.policy && p.policy.params) {
      optimizers.policy.applyGradients(this.pGrads.named());
      metrics["train/grad_norm_policy"] = this.gradNorm(optimizers.policy, this.pGrads.tensors);
    } else {
      metrics["train/grad_norm_policy"] = this.globalNorm(this.pGrads.tensors);
    }
    const final = run.evaluations[run.evaluations.length - 1];
    const meanLogProb = Math.fround(mean(final.logProb));
    metrics["train/entropy"] = -meanLogProb;
    metrics["train/kl_prior"] = Math.fround(meanLogProb + A * LN2);
    // (loops: a typed array's map with a callback costs ~0.1 ms here; each term rounded to float32 as map's was)
    let absSum = 0;
    let scaleSum = 0;
    for (let i = 0; i < run.lambda.mean.length; i++) {
      absSum += Math.abs(run.lambda.mean[i]);
      scaleSum += Math.fround(Math.exp(run.lambda.logStd[i]));
    }
    metrics["train/policy_mean_abs"] = Math.fround(absSum / run.lambda.mean.length);
    metrics["train/policy_scale"] = Math.fround(scaleSum / run.lambda.logStd.length);
    metrics["train/objective"] = Math.fround(mean(final.j));
    for (let k = 1; k < run.evaluations.length; k++) {
      metrics[`train/j_improvement_iter${k}`] = Math.fround(Math.fround(mean(run.evaluations[k].j)) - Math.fround(mean(run.evaluations[k - 1].j)));
    }
    // Model-based values: the model's fit and the rollout policy's distillation towards the final λ.
    if (this.modelBased) Object.assign(metrics, this.modelBased.learn(batch, run.lambda));

    // Temperature (lib/agents/sac/maths.ts), in the config's form.
    const logAlphaView = (): Float32Array => ctx.view(ctx.offset(p.logAlpha), 1);
    if (c.autoTemperature) {
      const { loss, grad } = temperatureLossAndGrad(c.temperatureLoss, logAlphaView()[0], meanLogProb, p.targetEntropy);
      metrics["train/alpha_loss"] = loss;
      ctx.view(ctx.offset(this.alphaGrad), 1)[0] = grad;
      optimizers.alpha.applyGradients({ [p.logAlpha.name]: this.alphaGrad });
    }
    metrics["train/alpha"] = Math.fround(Math.exp(logAlphaView()[0]));

    const step = targetStep(c.targetUpdate, c.tau, updatesBefore);
    if (step === "polyak") this.polyak();
    else if (step === "copy") this.copyTargets();
    if (ctx.heap() !== heapAtStart) throw new IapoError("the wasm heap grew during a fused SAC update (views would be stale)");
    return metrics;
  }

  /**
   * λ for acting (SacAgent.act): the optimizer's acting run from `states` [B, obs] on the acting Q-networks
   * (online, or the targets with useTargetQForActing) with β = betaCollect and the current α, drawing J's noise
   * from the agent's Rng exactly as the tfjs path does (or from `noise`). `leg` continues an iterative run from
   * `init` for `iterations` (evaluation-iterations.ts). Nothing is written to the weights, so no storage or
   * optimizer preparation is needed.
   */
  actingLambda(states: Float32Array, B: number, noise: Rng | null = null, leg: { iterations?: number; init?: Lambda | null } = {}): Lambda {
    if (noise) return (this.modelBased?.objective ?? this.objective).withNoise(noise, () => this.actingLambda(states, B, null, leg));
    const ctx = this.ctx;
    const ws = this.workspaces.get(B); // first, so the heap cannot grow under the views below
    this.modelBased?.prepare(B, false);
    ctx.clearQueue(); // nothing left over from an update that threw
    const heapAtStart = ctx.heap();
    const alpha = Math.fround(Math.exp(ctx.view(ctx.offset(this.parts.logAlpha), 1)[0]));
    const c = this.parts.config;
    const q = c.useTargetQForActing ? this.qTarget : this.q;
    const { lambda } = this.policy.run({ objective: this.policyObjective, ws, states, q, beta: c.betaCollect, alpha, grads: null, ...leg });
    if (ctx.heap() !== heapAtStart) throw new IapoError("the wasm heap grew while choosing an action (views would be stale)");
    return lambda;
  }

  /** The global norm of `grads`, which `optimizer` (a NativeAdam) has just applied: from its step's Σ g² where it has it. */
  private gradNorm(optimizer: tf.Optimizer, grads: tf.Tensor[]): number {
    const sumSquares = nativeAdam(optimizer).gradSumSquares;
    return Number.isNaN(sumSquares) ? this.globalNorm(grads) : Math.fround(Math.sqrt(sumSquares));
  }

  private globalNorm(grads: tf.Tensor[]): number {
    const table = new Uint32Array(2 * grads.length);
    grads.forEach((g, i) => table.set([this.ctx.offset(g), g.size], 2 * i));
    return Math.fround(Math.sqrt(this.ctx.native.sumSquares(this.ctx.heap(), table, grads.length)));
  }

  /** Each target network's pairs of (target, online) variables. */
  private targetPairs(): Array<[tf.Variable, tf.Variable]> {
    const pairs: [QNetwork, QNetwork][] = [[this.parts.q1Target, this.parts.q1], [this.parts.q2Target, this.parts.q2]];
    return pairs.flatMap(([target, online]) => {
      const src = online.params.variables();
      return target.params.variables().map((t, i): [tf.Variable, tf.Variable] => [t, src[i]]);
    });
  }

  /** ψ' ← ψ for both target networks, in place (the hard update). */
  private copyTargets(): void {
    for (const [t, src] of this.targetPairs()) {
      this.ctx.view(this.ctx.offset(t), t.size).set(this.ctx.view(this.ctx.offset(src), src.size));
      renewWasmId(this.ctx.backend, t);
    }
  }

  /** ψ' ← (1 − τ) ψ' + τ ψ for both target networks, in place, in tf's float32 operation order. */
  private polyak(): void {
    const tau = this.parts.config.tau;
    const keep = Math.fround(1 - tau);
    const take = Math.fround(tau);
    const rows: number[] = [];
    const targets: tf.Variable[] = [];
    for (const [t, src] of this.targetPairs()) {
      rows.push(this.ctx.offset(t), this.ctx.offset(src), t.size);
      targets.push(t);
    }
    this.ctx.native.polyak(this.ctx.heap(), Uint32Array.from(rows), targets.length, keep, take);
    for (const t of targets) renewWasmId(this.ctx.backend, t);
  }
}
