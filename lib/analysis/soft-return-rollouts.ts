/**
 * Monte Carlo soft returns (Sec 3.2.2, App A.2): from an env positioned at s, take a, then follow a stochastic
 * policy π, summing the soft return of maximum-entropy RL with the uniform action prior p of SAC:
 *   Q(s, a) = r_0 + Σ_{t≥1} γ^t (r_t − α log(π(a_t|s_t) / p(a_t))).
 * Many rollouts step together, with one batched policy call per time step. The maths here knows nothing of
 * SAC: it takes envs, a `PolicySampler` and per-rollout Rngs, so it is testable on a task with an analytic return.
 */
import { ConfigError, NonFiniteError } from "../core/errors";
import type { Rng } from "../core/rng";
import type { Env } from "../envs/types";

/**
 * Draws a_t ~ π(·|s_t) for a batch of rows and reports log(π(a_t|s_t)/p(a_t)) for each (the per-step KL
 * term of the soft return). Row i's randomness must come from `rowRngs[i]` (plus, at most, a stream the
 * sampler owns for its own optimizer), so a rollout's draws do not depend on which other rows share the batch.
 */
export interface PolicySampler {
  readonly observationSize: number;
  readonly actionSize: number;
  /**
   * @param observations [count, observationSize] row-major
   * @param actions out: [count, actionSize] row-major, in [-1, 1]
   * @param logRatios out: [count], log π(a|s) − log p(a)
   */
  sample(observations: Float32Array, count: number, rowRngs: readonly Rng[], actions: Float32Array, logRatios: Float64Array): void;
}

export interface SoftReturnSettings {
  /** Discount γ in [0, 1]. */
  gamma: number;
  /** Temperature α ≥ 0 weighting the KL terms. */
  alpha: number;
  /** At most this many env steps per rollout, the first action included (a horizon cap; ≥ 1). */
  horizon: number;
}

/** One soft return per rollout, and how each ended. */
export interface SoftReturns {
  /** [rollouts] the discounted soft return of each rollout. */
  returns: Float64Array;
  /** [rollouts] env steps taken, the first action included. */
  steps: Int32Array;
  /** [rollouts] 0: terminated (no bootstrap), 1: truncated at the env's time limit, 2: stopped by the horizon cap. */
  ending: Uint8Array;
}

export const ENDING = { terminated: 0, truncated: 1, horizon: 2 } as const;

/** Time steps between yields to the event loop (a rollout batch can run for many seconds). */
const YIELD_EVERY = 25;

export function checkSoftReturnSettings(s: SoftReturnSettings): void {
  if (!(s.gamma >= 0 && s.gamma <= 1)) throw new ConfigError(`value bias: gamma must be in [0, 1], got ${s.gamma}`);
  if (!(s.alpha >= 0 && Number.isFinite(s.alpha))) throw new ConfigError(`value bias: alpha must be a finite number >= 0, got ${s.alpha}`);
  if (!Number.isInteger(s.horizon) || s.horizon < 1) throw new ConfigError(`value bias: horizon must be an integer >= 1, got ${s.horizon}`);
}

/**
 * Rolls out every env from where it stands: env i takes `firstActions[i]` (length |A| each), then actions from
 * `sampler`, until its episode terminates (no bootstrap), is truncated at its time limit, or reaches the horizon.
 * All live rollouts step together, with one `sampler.sample` call per time step. Envs are left where they stop.
 */
export async function rolloutSoftReturns(
  envs: readonly Env[],
  firstActions: readonly ArrayLike<number>[],
  sampler: PolicySampler,
  rowRngs: readonly Rng[],
  settings: SoftReturnSettings,
): Promise<SoftReturns> {
  checkSoftReturnSettings(settings);
  const n = envs.length;
  if (firstActions.length !== n || rowRngs.length !== n) {
    throw new ConfigError(`rolloutSoftReturns: ${n} envs need ${n} first actions and ${n} Rngs, got ${firstActions.length} and ${rowRngs.length}`);
  }
  const O = sampler.observationSize;
  const A = sampler.actionSize;
  const { gamma, alpha, horizon } = settings;
  const returns = new Float64Array(n);
  const steps = new Int32Array(n);
  const ending = new Uint8Array(n).fill(ENDING.horizon);
  const discount = new Float64Array(n).fill(1);
  const observations = new Float32Array(n * O);
  let live: number[] = [];

  const stepOne = (i: number, action: ArrayLike<number>, kl: number): void => {
    const r = envs[i].step(action);
    // r_0 has no KL term: a is given, not drawn from π (the soft Q of SAC's target, Eq. 14)
    returns[i] += steps[i] === 0 ? r.reward : discount[i] * (r.reward - alpha * kl);
    steps[i]++;
    discount[i] *= gamma;
    if (r.terminated) ending[i] = ENDING.terminated;
    else if (r.truncated) ending[i] = ENDING.truncated;
    else if (steps[i] < horizon) {
      if (r.observation.length !== O) throw new ConfigError(`${envs[i].name} observations have ${r.observation.length} values; the policy takes ${O}`);
      live.push(i);
      observations.set(r.observation, i * O);
    }
  };

  for (let i = 0; i < n; i++) stepOne(i, firstActions[i], 0);
  const batchObs = new Float32Array(n * O);
  const batchActions = new Float32Array(n * A);
  const batchKl = new Float64Array(n);
  for (let t = 1; live.length > 0; t++) {
    const rows = live;
    live = [];
    const rngs = rows.map((i) => rowRngs[i]);
    for (let k = 0; k < rows.length; k++) batchObs.set(observations.subarray(rows[k] * O, rows[k] * O + O), k * O);
    sampler.sample(batchObs.subarray(0, rows.length * O), rows.length, rngs, batchActions, batchKl);
    for (let k = 0; k < rows.length; k++) {
      const kl = batchKl[k];
      if (!Number.isFinite(kl)) throw new NonFiniteError(`value bias: the policy's log π/p is ${kl} at step ${t}`);
      stepOne(rows[k], batchActions.subarray(k * A, k * A + A), kl);
    }
    if (t % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(returns[i])) throw new NonFiniteError(`value bias: rollout ${i} has a non-finite return ${returns[i]}`);
  return { returns, steps, ending };
}
