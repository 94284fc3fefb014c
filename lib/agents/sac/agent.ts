/**
 * Soft actor-critic (Haarnoja et al., 2018b;c) with a pluggable policy optimizer (Sec. 4.1): two Q-networks with
 * target networks (Polyak-averaged or copied: target-update.ts), pessimistic values (Eq. 12), automatic
 * temperature, and λ chosen by a direct (Eq. 9) or iterative (Eq. 10-11) amortized optimizer. The agent learns
 * from batches it is given and acts on observations; the environment loop, replay filling and logging belong to
 * the caller.
 */
import { tf } from "../../backend/tf";
import { createAdam } from "../../backend/adam";
import { ConfigError, NonFiniteError } from "../../core/errors";
import { Rng } from "../../core/rng";
import { Q_ARCHITECTURES } from "../../nn/architectures";
import type { ParameterSet } from "../../nn/parameters";
import { QNetwork } from "../../nn/q-network";
import { tanhGaussianAction } from "../../policy/maths";
import type { PolicyParams } from "../../policy/params";
import { VariationalObjective, type QPair, type VariationalObjectiveOptions } from "../../policy/objective";
import { disposeOptimization, type OptimizeOptions, type PolicyOptimizer } from "../../policy/optimizer";
import type { ReplayBatch } from "../replay-buffer";
import { validateSacConfig, type SacConfig } from "./config";
import { softQTarget } from "./maths";
import { evaluationLegs, runEvaluationLegs } from "./evaluation-iterations";
import { buildPolicyOptimizer, type PolicyOptimizerFactory } from "./policy-factory";
import type { AgentSnapshot, AgentSpec, OptimizerState } from "./state";
import { targetStep } from "./target-update";
import { temperatureLoss } from "./temperature";
import { FusedSacUpdate, fusedSacUnsupported, type FusedSacParts, type Lambda } from "./fused-update";
import { ModelBasedValue } from "../model-based/value";
import type { ValueEstimate } from "../model-based/config";

export type { AgentSnapshot, AgentSpec } from "./state";

/** "name/m" -> "renamed/m" through `names`; "iter" and unknown names unchanged. */
function renameSlot(slot: string, names: Map<string, string>): string {
  const cut = slot.lastIndexOf("/");
  if (cut < 0) return slot;
  const renamed = names.get(slot.slice(0, cut));
  return renamed === undefined ? slot : `${renamed}${slot.slice(cut)}`;
}

function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

function tensorFromRows(values: Float32Array, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(values, [rows, cols]);
}

/** tanh(μ + σ ε) with σ = exp(log σ) (lib/policy/maths.ts), or tanh(μ) without noise. */
function squashedAction(lambda: Lambda, noise: Float32Array | null): Float32Array {
  const out = new Float32Array(lambda.mean.length);
  for (let i = 0; i < out.length; i++) out[i] = noise ? tanhGaussianAction(lambda.mean[i], lambda.logStd[i], noise[i]) : Math.tanh(lambda.mean[i]);
  return out;
}

export class SacAgent {
  readonly config: SacConfig;
  readonly spec: AgentSpec;
  /** H_target used by the temperature tuning. */
  readonly targetEntropy: number;
  private readonly q1: QNetwork;
  private readonly q2: QNetwork;
  private readonly q1Target: QNetwork;
  private readonly q2Target: QNetwork;
  private readonly policyOptimizer: PolicyOptimizer;
  private readonly logAlpha: tf.Variable;
  private qAdam: tf.Optimizer;
  private policyAdam: tf.Optimizer | null;
  private alphaAdam: tf.Optimizer;
  private readonly rng: Rng;
  private updateCount = 0;
  /** The hand-written update on the native backend (made on first use), or null before / when unsupported. */
  private fused: FusedSacUpdate | null = null;
  /** The learned model and rollout policy of model-based values (valueEstimate "model-based"), else null. */
  private readonly modelBased: ModelBasedValue | null;

  private constructor(config: SacConfig, spec: AgentSpec, rng: Rng, makePolicyOptimizer: PolicyOptimizerFactory) {
    this.config = validateSacConfig(config);
    for (const k of ["observationSize", "actionSize"] as const) {
      if (!Number.isInteger(spec[k]) || spec[k] < 1) throw new ConfigError(`agent spec ${k} must be a positive integer, got ${spec[k]}`);
    }
    this.spec = { observationSize: spec.observationSize, actionSize: spec.actionSize };
    this.targetEntropy = config.targetEntropy ?? -spec.actionSize;
    const body = Q_ARCHITECTURES[config.qArchitecture];
    const { observationSize: o, actionSize: a } = spec;
    const init = config.networkInit;
    this.q1 = QNetwork.create(body, o, a, rng.fork(), init);
    this.q2 = QNetwork.create(body, o, a, rng.fork(), init);
    this.q1Target = QNetwork.create(body, o, a, rng.fork(), init);
    this.q2Target = QNetwork.create(body, o, a, rng.fork(), init);
    this.q1Target.params.copyFrom(this.q1.params);
    this.q2Target.params.copyFrom(this.q2.params);
    this.policyOptimizer = makePolicyOptimizer(config, spec, rng.fork());
    this.logAlpha = tf.tidy(() => tf.variable(tf.scalar(config.initialLogAlpha), true));
    this.qAdam = createAdam({ learningRate: config.learningRate });
    this.policyAdam = this.policyOptimizer.params ? createAdam({ learningRate: config.learningRate }) : null;
    this.alphaAdam = createAdam({ learningRate: config.learningRate });
    this.rng = rng.fork();
    this.modelBased = config.valueEstimate === "model-based" ? new ModelBasedValue(this.config, this.spec, this.policyOptimizer, rng.fork()) : null;
  }

  /**
   * A new agent; every initial weight and later random draw comes from `rng`. Its policy optimizer comes from
   * `makePolicyOptimizer` (default: the one `config.optimizer` names, buildPolicyOptimizer).
   */
  static create(config: SacConfig, spec: AgentSpec, rng: Rng, makePolicyOptimizer: PolicyOptimizerFactory = buildPolicyOptimizer): SacAgent {
    return new SacAgent(config, spec, rng, makePolicyOptimizer);
  }

  /** The policy optimizer (for analyses: amortization gap, per-iteration improvement). */
  get optimizer(): PolicyOptimizer {
    return this.policyOptimizer;
  }

  /** Gradient updates done. */
  get updates(): number {
    return this.updateCount;
  }

  /**
   * Iterations of an evaluation run (test-time iterations, Sec. 4.2.3): iterations.eval for an iterative agent;
   * undefined for the other optimizers, which run their own count.
   */
  get evaluationIterations(): number | undefined {
    return this.config.optimizer === "iterative" ? this.config.iterations.eval : undefined;
  }

  /** Current temperature α. */
  get alpha(): number {
    return Math.exp(this.logAlpha.dataSync()[0]);
  }

  /** Q1, Q2 (online or target) as a `QPair` for objectives. */
  qPair(which: "online" | "target"): QPair {
    const [a, b] = which === "online" ? [this.q1, this.q2] : [this.q1Target, this.q2Target];
    return (s, act) => [a.apply(s, act), b.apply(s, act)];
  }

  /**
   * J (Eq. 7) as the agent optimizes it. `alpha` is a scalar tensor the caller owns (or a number).
   * @param beta pessimism of Eq. 12  @param q which Q-networks (default: the config's policy choice)
   * @param estimate the value in J: the config's by default; "model-based" (Eq. 13) needs an agent with a model
   */
  objective(beta: number, alpha: number | tf.Scalar, q: "online" | "target" = this.config.useTargetQForPolicy ? "target" : "online", rng: Rng = this.rng, estimate: ValueEstimate = this.config.valueEstimate): VariationalObjective {
    const { samples, pessimismStd } = this.config;
    return this.valueObjective({ q: this.qPair(q), alpha, beta, pessimismStd, samples, actionSize: this.spec.actionSize, rng }, estimate);
  }

  /**
   * J on the given Q-networks, α, β, samples and noise, with the value `estimate` (default: the agent's own):
   * Q_pess (Eq. 12) model-free, or Eq. 13 on this agent's model and rollout policy.
   */
  valueObjective(options: VariationalObjectiveOptions, estimate: ValueEstimate = this.config.valueEstimate): VariationalObjective {
    if (estimate === "model-free") return new VariationalObjective(options);
    if (!this.modelBased) throw new ConfigError('the model-based value estimate needs an agent with a learned model (valueEstimate "model-based")');
    this.modelBased.sync(this.updateCount);
    return this.modelBased.objective(options);
  }

  /** The learned model and rollout policy (agents with model-based values), else null. */
  get model(): ModelBasedValue | null {
    return this.modelBased;
  }

  /**
   * Before the first update of a model-based agent: the model's pre-training updates on batches from `sample`
   * (A.5: on the initial random steps), once per run (the checkpoint records it). Returns their final losses,
   * or null when there is nothing to do (model-free, or done already).
   */
  pretrain(sample: () => ReplayBatch): Record<string, number> | null {
    if (!this.modelBased || this.modelBased.pretrained) return null;
    return this.modelBased.pretrain(sample);
  }

  /** An action in [-1, 1]^|A| drawn uniformly (the initial random steps), from the agent's Rng. */
  randomAction(): Float32Array {
    return this.rng.fillUniform(new Float32Array(this.spec.actionSize), -1, 1) as Float32Array;
  }

  /** The Q-networks J uses when acting: the targets with useTargetQForActing (the authors' code), else the online ones. */
  private get actingQ(): "online" | "target" {
    return this.config.useTargetQForActing ? "target" : "online";
  }

  /**
   * The action for one observation. "explore": a ~ π(·|s; λ) with λ from the optimizer (acting iterations,
   * β = betaCollect); "eval": the deterministic tanh(μ), λ from the evaluation iterations (evaluation-iterations.ts).
   */
  act(observation: ArrayLike<number>, mode: "explore" | "eval"): Float32Array {
    if (observation.length !== this.spec.observationSize) throw new ConfigError(`act: observation must have ${this.spec.observationSize} values, got ${observation.length}`);
    return this.actBatch(observation, 1, mode);
  }

  /**
   * Actions for `count` observations at once ([count, obs] row-major in, [count, |A|] out), as `act` on each
   * row but with one optimizer run for all of them (vectorised environments, batched evaluation).
   */
  actBatch(observations: ArrayLike<number>, count: number, mode: "explore" | "eval"): Float32Array {
    this.checkObservations("actBatch", observations, count);
    const A = this.spec.actionSize;
    // The exploration noise is drawn before the optimizer's J noise on both paths, so they stay interchangeable.
    const noise = mode === "explore" ? (this.rng.fillNormal(new Float32Array(count * A)) as Float32Array) : null;
    const fused = this.fusedUpdate();
    let action: Float32Array;
    if (mode === "eval" && this.evaluationDiffersFromActing()) {
      action = fused ? squashedAction(this.evaluationLambdaFused(fused, Float32Array.from(observations), count), null) : this.evalThroughTfjs(observations, count);
    } else {
      action = fused ? squashedAction(fused.actingLambda(Float32Array.from(observations), count), noise) : this.actThroughTfjs(observations, count, noise);
    }
    for (const v of action) if (!Number.isFinite(v)) throw new NonFiniteError(`act: the policy produced a non-finite action [${Array.from(action)}]`);
    return action;
  }

  /** The acting run as tfjs ops (every backend; the reference the fused path is tested against). */
  private actThroughTfjs(observations: ArrayLike<number>, count: number, noise: Float32Array | null): Float32Array {
    const A = this.spec.actionSize;
    return tf.tidy(() => {
      const result = this.actingRun(observations, count, this.rng);
      const { mean, logStd } = result.lambda;
      const a = noise ? tf.tanh(tf.add(mean, tf.mul(tf.exp(logStd), tf.tensor2d(noise, [count, A])))) : tf.tanh(mean);
      const out = Float32Array.from(a.dataSync() as Float32Array);
      disposeOptimization(result);
      return out;
    });
  }

  /** Whether evaluation runs other iterations than acting: an iterative agent with iterations.eval ≠ iterations.act. */
  private evaluationDiffersFromActing(): boolean {
    return this.evaluationIterations !== undefined && this.evaluationIterations !== this.config.iterations.act;
  }

  /** The evaluation iterations' λ on the fused path, as legs that leave the agent's Rng where acting would. */
  private evaluationLambdaFused(fused: FusedSacUpdate, states: Float32Array, count: number): Lambda {
    const legs = evaluationLegs(this.config.iterations.act, this.config.iterations.eval);
    return runEvaluationLegs<Lambda>(legs, this.rng, (iterations, init, noise) => fused.actingLambda(states, count, noise === this.rng ? null : noise, { iterations, init }), () => undefined);
  }

  /** The evaluation iterations' deterministic action tanh(μ) as tfjs ops, in the legs of evaluationLambdaFused. */
  private evalThroughTfjs(observations: ArrayLike<number>, count: number): Float32Array {
    return tf.tidy(() => {
      const legs = evaluationLegs(this.config.iterations.act, this.config.iterations.eval);
      const lambda = runEvaluationLegs<PolicyParams>(legs, this.rng, (iterations, init, noise) => {
        const result = this.actingRun(observations, count, noise, { iterations, ...(init ? { init } : {}) });
        const out = { mean: result.lambda.mean.clone(), logStd: result.lambda.logStd.clone() };
        disposeOptimization(result);
        return out;
      }, (l) => tf.dispose([l.mean, l.logStd]));
      return Float32Array.from(tf.tanh(lambda.mean).dataSync() as Float32Array);
    });
  }

  /**
   * λ = (μ, log σ) for `count` observations ([count, obs] row-major) as the agent acts on them: the acting
   * iterations on the acting Q-networks (online, or the targets with useTargetQForActing) at β = betaCollect, on
   * the fused path where it applies. No action is sampled; J's noise comes from `noise` (default: the agent's Rng),
   * so an estimator can sample actions itself without moving the agent's streams. Returns [count, |A|] each.
   */
  actingLambda(observations: ArrayLike<number>, count: number, noise: Rng = this.rng): Lambda {
    this.checkObservations("actingLambda", observations, count);
    const fused = this.fusedUpdate();
    if (fused) return fused.actingLambda(Float32Array.from(observations), count, noise === this.rng ? null : noise);
    return tf.tidy(() => {
      const result = this.actingRun(observations, count, noise);
      const lambda = { mean: Float32Array.from(result.lambda.mean.dataSync() as Float32Array), logStd: Float32Array.from(result.lambda.logStd.dataSync() as Float32Array) };
      disposeOptimization(result);
      return lambda;
    });
  }

  /**
   * The policy optimizer's acting run as tfjs ops (call inside tf.tidy; the caller disposes the result); `leg`
   * sets an iterative run's iterations and start (evaluation-iterations.ts).
   */
  private actingRun(observations: ArrayLike<number>, count: number, noise: Rng, leg: Pick<OptimizeOptions, "iterations" | "init"> = {}): ReturnType<PolicyOptimizer["optimize"]> {
    const s = tf.tensor2d(Float32Array.from(observations), [count, this.spec.observationSize]);
    const alpha = tf.exp(this.logAlpha) as tf.Scalar;
    return this.policyOptimizer.optimize(s, this.objective(this.config.betaCollect, alpha, this.actingQ, noise), { training: false, evaluateFinal: false, ...leg });
  }

  private checkObservations(what: string, observations: ArrayLike<number>, count: number): void {
    const O = this.spec.observationSize;
    if (!Number.isInteger(count) || count < 1 || observations.length !== count * O) {
      throw new ConfigError(`${what}: expected ${count} observations of ${O} values (${count * O}), got ${observations.length}`);
    }
  }


  /** One gradient update of the Q-networks, the policy optimizer and α, then the targets (target-update.ts). */
  update(batch: ReplayBatch): Record<string, number> {
    const { observationSize: O, actionSize: A } = this.spec;
    if (batch.observationSize !== O || batch.actionSize !== A) {
      throw new ConfigError(`update: batch has obs ${batch.observationSize}, act ${batch.actionSize}; agent expects ${O}, ${A}`);
    }
    const fused = this.fusedUpdate();
    if (fused) {
      const metrics = fused.update(batch, { q: this.qAdam, policy: this.policyAdam, alpha: this.alphaAdam }, (what, v) => {
        if (!Number.isFinite(v)) throw new NonFiniteError(`update ${this.updateCount + 1}: ${what} is ${v}`);
      }, this.updateCount);
      this.updateCount++;
      for (const [k, v] of Object.entries(metrics)) if (!Number.isFinite(v)) throw new NonFiniteError(`update ${this.updateCount}: ${k} is ${v}`);
      return metrics;
    }
    const B = batch.size;
    const c = this.config;
    const scalars: Record<string, tf.Scalar> = {};
    const s = tensorFromRows(batch.observations, B, O);
    const a = tensorFromRows(batch.actions, B, A);
    const s2 = tensorFromRows(batch.nextObservations, B, O);
    const alpha = tf.exp(this.logAlpha) as tf.Scalar; // α is a constant for the Q and policy losses
    try {
      // Soft Q target y = r + γ(1 − d)·V(s') (maths.ts), V(s') = E_π[Q_pess,target(s', a')] − α KL(π(·|s') || p)
      // (Eq. 12, 14) with λ' from the optimizer's acting-style run; a constant for the Q losses.
      // Model-based targets (Table 8): V(s') from Eq. 13 at the rollout policy's λ(s') (value.ts).
      const v = this.modelBased && c.modelBased.valueTargets ? this.modelBased.targetValues(s2, this.objective(c.betaTrain, alpha, "target")) : tf.tidy(() => {
        const next = this.policyOptimizer.optimize(s2, this.objective(c.betaTrain, alpha), { training: false, evaluateFinal: false });
        const j = this.objective(c.betaTrain, alpha, "target", this.rng, "model-free").evaluate(s2, next.lambda).j.dataSync();
        disposeOptimization(next);
        return j;
      });
      const y = tf.tensor1d(Float32Array.from(v, (vs, i) => softQTarget(batch.rewards[i], c.gamma, batch.terminated[i], vs)));
      // Q-networks: mean squared TD error for each, summed (tf form of maths.ts's tdLoss, for autodiff).
      const qVars = [...this.q1.params.variables(), ...this.q2.params.variables()];
      let q1Mean: tf.Scalar | null = null;
      const qStep = tf.variableGrads(() => {
        const q1 = this.q1.apply(s, a);
        const q2 = this.q2.apply(s, a);
        q1Mean = tf.keep(tf.mean(q1) as tf.Scalar);
        const l1 = tf.mean(tf.squaredDifference(q1, y));
        const l2 = tf.mean(tf.squaredDifference(q2, y));
        scalars["train/q1_loss"] = tf.keep(l1 as tf.Scalar);
        scalars["train/q2_loss"] = tf.keep(l2 as tf.Scalar);
        return tf.add(l1, l2) as tf.Scalar;
      }, qVars);
      this.checkFinite("Q loss", qStep.value);
      scalars["train/q1_value"] = q1Mean as unknown as tf.Scalar;
      scalars["train/q_target"] = tf.mean(y) as tf.Scalar;
      scalars["train/grad_norm_q"] = globalNorm(Object.values(qStep.grads));
      this.qAdam.applyGradients(this.orderedGrads([this.q1.params, this.q2.params], qStep.grads));
      tf.dispose([qStep.value, ...Object.values(qStep.grads), y]);

      // Policy optimizer: maximise J (direct) or the mean of J over iterations (iterative).
      const objective = this.objective(c.betaTrain, alpha);
      let meanLogProb: tf.Scalar;
      if (this.policyOptimizer.params && this.policyAdam) {
        let result = null as ReturnType<PolicyOptimizer["optimize"]> | null;
        const pStep = tf.variableGrads(() => {
          result = this.policyOptimizer.optimize(s, objective, { training: true });
          return result.loss as tf.Scalar;
        }, this.policyOptimizer.params.variables());
        this.checkFinite("policy loss", pStep.value);
        const res = result as unknown as ReturnType<PolicyOptimizer["optimize"]>;
        scalars["train/policy_loss"] = pStep.value.clone(); // pStep.value is res.loss, freed with res below
        scalars["train/grad_norm_policy"] = globalNorm(Object.values(pStep.grads));
        this.policyAdam.applyGradients(this.orderedGrads([this.policyOptimizer.params], pStep.grads));
        tf.dispose(Object.values(pStep.grads));
        meanLogProb = this.recordPolicy(res, scalars);
        this.learnModel(batch, s, res, scalars);
        disposeOptimization(res);
      } else {
        const res = this.policyOptimizer.optimize(s, objective, { training: true });
        meanLogProb = this.recordPolicy(res, scalars);
        this.learnModel(batch, s, res, scalars);
        disposeOptimization(res);
      }

      // Temperature (Haarnoja et al., 2018c): temperature.ts, the tf form of maths.ts's temperature losses.
      if (c.autoTemperature) {
        const aStep = tf.variableGrads(() => temperatureLoss(this.logAlpha as tf.Tensor as tf.Scalar, meanLogProb, this.targetEntropy, c.temperatureLoss), [this.logAlpha]);
        scalars["train/alpha_loss"] = aStep.value;
        this.alphaAdam.applyGradients({ [this.logAlpha.name]: aStep.grads[this.logAlpha.name] });
        tf.dispose(Object.values(aStep.grads));
      }
      meanLogProb.dispose();
      scalars["train/alpha"] = tf.exp(this.logAlpha) as tf.Scalar;

      const step = targetStep(c.targetUpdate, c.tau, this.updateCount);
      for (const [target, online] of [[this.q1Target, this.q1], [this.q2Target, this.q2]]) {
        if (step === "polyak") target.params.polyakFrom(online.params, c.tau);
        else if (step === "copy") target.params.copyFrom(online.params);
      }
      this.updateCount++;

      const keys = Object.keys(scalars);
      const values = tf.tidy(() => tf.stack(keys.map((k) => scalars[k])).dataSync());
      const metrics: Record<string, number> = {};
      keys.forEach((k, i) => (metrics[k] = values[i]));
      for (const k of keys) if (!Number.isFinite(metrics[k])) throw new NonFiniteError(`update ${this.updateCount}: ${k} is ${metrics[k]}`);
      return metrics;
    } finally {
      tf.dispose([s, a, s2, alpha, ...Object.values(scalars)]);
    }
  }

  /**
   * Which implementation the next update and act run: "fused" (the hand-written native path, fused-update.ts)
   * or "tfjs" (autodiff), with the reason the fused path does not apply.
   */
  updatePath(): { path: "fused" | "tfjs"; why?: string } {
    const why = fusedSacUnsupported(this.fusedParts(), { q: this.qAdam, policy: this.policyAdam, alpha: this.alphaAdam });
    return why === null ? { path: "fused" } : { path: "tfjs", why };
  }

  private fusedParts(): FusedSacParts {
    return {
      config: this.config, observationSize: this.spec.observationSize, actionSize: this.spec.actionSize, targetEntropy: this.targetEntropy,
      q1: this.q1, q2: this.q2, q1Target: this.q1Target, q2Target: this.q2Target, policy: this.policyOptimizer, logAlpha: this.logAlpha, rng: this.rng,
      modelBased: this.modelBased,
    };
  }

  /** The fused update when this agent and backend support it (see fused-update.ts), else null (tfjs path). */
  private fusedUpdate(): FusedSacUpdate | null {
    if (this.updatePath().path !== "fused") return null;
    // a direct agent's rollout policy is its policy network as of this update (value.ts), as on the tfjs path
    this.modelBased?.sync(this.updateCount);
    this.fused ??= new FusedSacUpdate(this.fusedParts());
    return this.fused;
  }

  /** Model-based values: the model's update and the rollout policy's distillation towards the final λ (value.ts). */
  private learnModel(batch: ReplayBatch, s: tf.Tensor2D, res: ReturnType<PolicyOptimizer["optimize"]>, scalars: Record<string, tf.Scalar>): void {
    if (!this.modelBased) return;
    for (const [k, v] of Object.entries(this.modelBased.learn(batch, s, res.lambda))) scalars[k] = tf.scalar(v);
  }

  /** Policy metrics from an optimization result; returns mean log π at the final λ (for the temperature). */
  private recordPolicy(res: ReturnType<PolicyOptimizer["optimize"]>, scalars: Record<string, tf.Scalar>): tf.Scalar {
    return tf.tidy(() => {
      const final = res.trace[res.trace.length - 1].terms;
      if (!final?.logProb) throw new ConfigError("the policy objective must report log π for the temperature update");
      const meanLogProb = tf.mean(final.logProb) as tf.Scalar;
      scalars["train/entropy"] = tf.keep(tf.neg(meanLogProb) as tf.Scalar);
      scalars["train/kl_prior"] = tf.keep(tf.add(meanLogProb, this.spec.actionSize * Math.LN2) as tf.Scalar);
      scalars["train/policy_mean_abs"] = tf.keep(tf.mean(tf.abs(res.lambda.mean)) as tf.Scalar);
      scalars["train/policy_scale"] = tf.keep(tf.mean(tf.exp(res.lambda.logStd)) as tf.Scalar);
      scalars["train/objective"] = tf.keep(tf.mean(final.j) as tf.Scalar);
      if (res.trace.length > 1) {
        for (let k = 1; k < res.trace.length; k++) {
          const prev = res.trace[k - 1].terms;
          const cur = res.trace[k].terms;
          if (prev && cur) scalars[`train/j_improvement_iter${k}`] = tf.keep(tf.sub(tf.mean(cur.j), tf.mean(prev.j)) as tf.Scalar);
        }
      }
      return meanLogProb;
    });
  }

  private orderedGrads(sets: ParameterSet[], grads: tf.NamedTensorMap): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const set of sets) Object.assign(out, set.gradientMap(grads));
    return out;
  }

  /**
   * Optimizer slots are named after tfjs variable names ("variable12/m"), which are process counters; snapshots
   * use our stable names ("q1:hidden0/w/m") instead, mapped back to the live variables on restore.
   */
  private slotNames(direction: "toStable" | "toLive"): Map<string, string> {
    const map = new Map<string, string>();
    const sets: [string, ParameterSet | null][] = [["q1", this.q1.params], ["q2", this.q2.params], ["policy", this.policyOptimizer.params], ...(this.modelBased?.parameterSets() ?? [])];
    const pairs: [string, string][] = [[this.logAlpha.name, "log_alpha"]];
    for (const [prefix, set] of sets) if (set) for (const n of set.names()) pairs.push([set.get(n).name, `${prefix}:${n}`]);
    for (const [live, stable] of pairs) map.set(direction === "toStable" ? live : stable, direction === "toStable" ? stable : live);
    return map;
  }

  private checkFinite(what: string, value: tf.Scalar): void {
    const v = value.dataSync()[0];
    if (!Number.isFinite(v)) throw new NonFiniteError(`update ${this.updateCount + 1}: ${what} is ${v}`);
  }

  /** Everything needed to continue exactly: weights, targets, Adam states, log α, the Rng and the update count. */
  async getState(): Promise<AgentSnapshot> {
    const opt = async (o: tf.Optimizer, names: Map<string, string>): Promise<OptimizerState> =>
      (await o.getWeights()).map((w) => ({ name: renameSlot(w.name, names), shape: w.tensor.shape.slice(), values: Float32Array.from(w.tensor.dataSync()) }));
    const mb = this.modelBased?.optimizers();
    return {
      version: 1,
      config: JSON.parse(JSON.stringify(this.config)) as SacConfig,
      spec: { ...this.spec },
      updates: this.updateCount,
      networks: {
        q1: this.q1.params.toData(),
        q2: this.q2.params.toData(),
        q1Target: this.q1Target.params.toData(),
        q2Target: this.q2Target.params.toData(),
        policy: this.policyOptimizer.params ? this.policyOptimizer.params.toData() : null,
        ...this.modelBased?.networks(),
      },
      logAlpha: this.logAlpha.dataSync()[0],
      optimizers: {
        q: await opt(this.qAdam, this.slotNames("toStable")),
        policy: this.policyAdam ? await opt(this.policyAdam, this.slotNames("toStable")) : null,
        alpha: await opt(this.alphaAdam, this.slotNames("toStable")),
        ...(mb ? { model: await opt(mb.model, this.slotNames("toStable")), rollout: mb.rollout ? await opt(mb.rollout, this.slotNames("toStable")) : null } : {}),
      },
      rng: this.rng.getState(),
      ...(this.modelBased ? { modelPretrained: this.modelBased.pretrained } : {}),
    };
  }

  /** Restores a snapshot from `getState` of an agent with the same config and spec. */
  async setState(snap: AgentSnapshot): Promise<void> {
    if (snap.version !== 1) throw new ConfigError(`agent snapshot version ${String(snap.version)} is not supported (expected 1)`);
    if (snap.spec.observationSize !== this.spec.observationSize || snap.spec.actionSize !== this.spec.actionSize) {
      throw new ConfigError(`agent snapshot is for obs ${snap.spec.observationSize}, act ${snap.spec.actionSize}; this agent has ${this.spec.observationSize}, ${this.spec.actionSize}`);
    }
    if (snap.config.optimizer !== this.config.optimizer || snap.config.qArchitecture !== this.config.qArchitecture) {
      throw new ConfigError(`agent snapshot is for optimizer ${snap.config.optimizer} / Q arch ${snap.config.qArchitecture}; this agent has ${this.config.optimizer} / ${this.config.qArchitecture}`);
    }
    this.q1.params.setData(snap.networks.q1);
    this.q2.params.setData(snap.networks.q2);
    this.q1Target.params.setData(snap.networks.q1Target);
    this.q2Target.params.setData(snap.networks.q2Target);
    if (this.policyOptimizer.params) {
      if (!snap.networks.policy) throw new ConfigError("agent snapshot has no policy weights");
      this.policyOptimizer.params.setData(snap.networks.policy);
    }
    tf.tidy(() => this.logAlpha.assign(tf.scalar(snap.logAlpha)));
    const toLive = this.slotNames("toLive");
    const restore = async (make: () => tf.Optimizer, state: OptimizerState): Promise<tf.Optimizer> => {
      const o = make();
      const named = state.map((w) => ({ name: renameSlot(w.name, toLive), tensor: w.name === "iter" ? tf.scalar(w.values[0], "int32") : tf.tensor(w.values, w.shape) }));
      await o.setWeights(named);
      tf.dispose(named.map((n) => n.tensor));
      return o;
    };
    const lr = this.config.learningRate;
    const qAdam = await restore(() => createAdam({ learningRate: lr }), snap.optimizers.q);
    const alphaAdam = await restore(() => createAdam({ learningRate: lr }), snap.optimizers.alpha);
    const policyAdam = this.policyAdam && snap.optimizers.policy ? await restore(() => createAdam({ learningRate: lr }), snap.optimizers.policy) : this.policyAdam;
    this.qAdam.dispose();
    this.alphaAdam.dispose();
    if (policyAdam !== this.policyAdam) this.policyAdam?.dispose();
    this.qAdam = qAdam;
    this.alphaAdam = alphaAdam;
    this.policyAdam = policyAdam;
    if (this.modelBased) {
      this.modelBased.setNetworks(snap.networks);
      const o = snap.optimizers;
      if (!o.model) throw new ConfigError("agent snapshot has no optimizer state of the learned model");
      if (this.modelBased.distilled && !o.rollout) throw new ConfigError("agent snapshot has no optimizer state of the rollout policy");
      const rollout = o.rollout ? await restore(() => createAdam({ learningRate: lr }), o.rollout) : null;
      this.modelBased.replaceOptimizers(await restore(() => createAdam({ learningRate: lr }), o.model), rollout);
      this.modelBased.pretrained = snap.modelPretrained ?? false;
    }
    this.rng.setState(snap.rng);
    this.updateCount = snap.updates;
  }

  dispose(): void {
    this.fused?.dispose();
    this.fused = null;
    for (const q of [this.q1, this.q2, this.q1Target, this.q2Target]) q.dispose();
    this.policyOptimizer.dispose();
    this.modelBased?.dispose();
    this.logAlpha.dispose();
    this.qAdam.dispose();
    this.policyAdam?.dispose();
    this.alphaAdam.dispose();
  }
}
