/**
 * The agent's current stochastic policy as a `PolicySampler` for Monte Carlo soft returns: λ from the agent's
 * policy optimizer run as the agent acts (acting iterations, online Q-networks, the agent's α), then
 * a = tanh(μ + σ ε) with ε from each rollout's own Rng and the exact log π(a|s) − log p(a) of the tanh-Gaussian.
 * J's noise (iterative and CEM optimizers) comes from the sampler's own Rng, never the agent's.
 */
import { tf } from "../backend/tf";
import type { Rng } from "../core/rng";
import type { SacAgent } from "../agents/sac/agent";
import { tanhGaussianLogDensity } from "../policy/maths";
import { VariationalObjective } from "../policy/objective";
import { disposeOptimization } from "../policy/optimizer";
import type { PolicySampler } from "./soft-return-rollouts";

/**
 * One draw from the tanh-Gaussian with λ = (μ, log σ) at `mean[offset..offset+A)`, `logStd[...]`: writes
 * a = tanh(μ + σ ε), ε ~ N(0, I) from `rng`, into `out[outOffset..)` and returns log π(a) − log p(a) with p uniform on
 * [-1, 1]^A: Σ_i [log N(u_i; μ_i, σ_i) − log(1 − tanh² u_i)] + A log 2, each term from the one home of the
 * tanh-Gaussian's density (policy/maths.ts), in double precision.
 */
export function sampleTanhGaussianRow(
  mean: ArrayLike<number>,
  logStd: ArrayLike<number>,
  offset: number,
  actionSize: number,
  rng: Rng,
  out: Float32Array,
  outOffset: number,
): number {
  let logRatio = 0;
  for (let i = 0; i < actionSize; i++) {
    const eps = rng.normal();
    const ls = logStd[offset + i];
    const u = mean[offset + i] + Math.exp(ls) * eps;
    out[outOffset + i] = Math.tanh(u);
    logRatio += tanhGaussianLogDensity(u, mean[offset + i], ls) + Math.LN2;
  }
  return logRatio;
}

/** Which β of Eq. 12 the policy's optimizer uses: the agent's acting one (betaCollect) or its training one. */
export type PolicyBeta = "collect" | "train";

export class AgentPolicySampler implements PolicySampler {
  readonly observationSize: number;
  readonly actionSize: number;
  private readonly objective: VariationalObjective;

  /** @param agent read only (its optimizer runs forward; no weight, Rng or counter of it changes) @param rng J's noise */
  constructor(private readonly agent: SacAgent, private readonly beta: PolicyBeta, private readonly rng: Rng) {
    this.observationSize = agent.spec.observationSize;
    this.actionSize = agent.spec.actionSize;
    const c = agent.config;
    this.objective = new VariationalObjective({
      q: agent.qPair("online"),
      alpha: agent.alpha,
      beta: beta === "collect" ? c.betaCollect : c.betaTrain,
      pessimismStd: c.pessimismStd,
      samples: c.samples,
      actionSize: this.actionSize,
      rng,
    });
  }

  /**
   * λ for `count` observations: μ and log σ, [count, |A|] row-major each. With the acting β this is the agent's own
   * acting run (fused where the agent's path is), with J's noise from the sampler's Rng.
   */
  lambda(observations: Float32Array, count: number): { mean: Float32Array; logStd: Float32Array } {
    if (this.beta === "collect") return this.agent.actingLambda(observations, count, this.rng);
    return tf.tidy(() => {
      const s = tf.tensor2d(observations, [count, this.observationSize]);
      const result = this.agent.optimizer.optimize(s, this.objective, { training: false, evaluateFinal: false });
      const mean = result.lambda.mean.dataSync() as Float32Array;
      const logStd = result.lambda.logStd.dataSync() as Float32Array;
      disposeOptimization(result);
      return { mean, logStd };
    });
  }

  sample(observations: Float32Array, count: number, rowRngs: readonly Rng[], actions: Float32Array, logRatios: Float64Array): void {
    const { mean, logStd } = this.lambda(observations, count);
    const A = this.actionSize;
    for (let k = 0; k < count; k++) logRatios[k] = sampleTanhGaussianRow(mean, logStd, k * A, A, rowRngs[k], actions, k * A);
  }
}
