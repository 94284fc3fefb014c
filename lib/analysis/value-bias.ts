/**
 * Value bias (Sec 3.2.2, App A.2, Fig 3a): how far the agent's Q-value estimates are from the soft return of
 * its current policy. On fixed state–action pairs from a uniform random policy (value-bias-pairs.ts),
 *   bias(s, a) = Q̂(s, a) − Q_MC(s, a),   Q_MC(s, a) = mean over rollouts of r_0 + Σ_{t≥1} γ^t (r_t − α log π(a_t|s_t)/p(a_t)),
 * each rollout restoring the pair's env state, taking a, then following the current stochastic policy
 * (rollouts.ts), with the agent's α. Reported as mean and std over pairs for the pessimistic Q̂ of Eq. 12 the
 * agent trains with (β = betaTrain) and for each Q-network. Defaults are the paper's: 100 pairs, 100 rollouts
 * per pair, γ = 0.99, at most 1000 steps per rollout (the episode limit, as the authors' code).
 */
import * as os from "node:os";
import { tf } from "../backend/tf";
import type { SacAgent } from "../agents/sac/agent";
import { ConfigError } from "../core/errors";
import type { Env } from "../envs/types";
import { pessimisticQ } from "../policy/objective";
import type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
import type { PolicyBeta } from "./rollouts-policy";
import { runShares } from "./rollouts-parallel";
import { groupReturns, type PairGroup, type PairReturns, type ShareTiming } from "./rollouts-share";
import { deriveSeed } from "../core/rng";
import type { PolicySampler } from "./soft-return-rollouts";
import { loadOrDrawPairs, type StateActionPair } from "./value-bias-pairs";

export const VALUE_BIAS = "value-bias";

/** The settings that change the numbers (recorded in every row). */
export interface ValueBiasSettings {
  /** State–action pairs (paper: 100). */
  pairs: number;
  /** Rollouts per pair (paper: 100). */
  rollouts: number;
  /** Discount γ of the soft return (paper: 0.99). */
  gamma: number;
  /** Horizon cap: at most this many env steps per rollout, the first action included (1000 = the episode limit). */
  horizon: number;
  /** Pairs whose rollouts step together (one policy call per time step for pairsPerBatch × rollouts rows). */
  pairsPerBatch: number;
  /** β of the policy's own optimizer: "collect" (as the agent acts; default) or "train". */
  policyBeta: PolicyBeta;
}

export const DEFAULT_VALUE_BIAS_SETTINGS: ValueBiasSettings = { pairs: 100, rollouts: 100, gamma: 0.99, horizon: 1000, pairsPerBatch: 5, policyBeta: "collect" };

/** Processes the rollouts run in ("auto": see AUTO_WORKERS_MIN_STEPS); the numbers do not depend on it. */
export type Workers = number | "auto";

/** Mean and std over pairs of one Q estimate's bias. */
export interface BiasSummary {
  /** "pessimistic" (Eq. 12 with betaTrain), "q1", "q2", or a test's own names. */
  q: string;
  biasMean: number;
  /** Population std over pairs. */
  biasStd: number;
  qMean: number;
  mcMean: number;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Bias per Q estimate: `q[name][i]` − `returns[i].mean`, summarised over pairs. */
export function biasSummaries(q: Record<string, ArrayLike<number>>, returns: readonly PairReturns[]): BiasSummary[] {
  const mc = returns.map((r) => r.mean);
  return Object.entries(q).map(([name, values]) => {
    if (values.length !== mc.length) throw new ConfigError(`value bias: ${name} has ${values.length} values for ${mc.length} pairs`);
    const bias = mc.map((m, i) => values[i] - m);
    const b = mean(bias);
    return { q: name, biasMean: b, biasStd: Math.sqrt(mean(bias.map((x) => (x - b) ** 2))), qMean: mean(values), mcMean: mean(mc) };
  });
}

/** Consecutive groups of `perGroup` pairs, numbered from 0. */
export function groupPairs(pairs: readonly StateActionPair[], perGroup: number): PairGroup[] {
  const groups: PairGroup[] = [];
  for (let at = 0, g = 0; at < pairs.length; at += perGroup, g++) {
    groups.push({ group: g, pairs: pairs.slice(at, at + perGroup).map((p, k) => ({ index: at + k, state: p.state, action: p.action })) });
  }
  return groups;
}

/**
 * The estimator's core on any task, policy and Q function, in this process (tests use a task with an analytic
 * soft return): Monte Carlo returns from each pair, then the bias of each of `q`'s estimates.
 * @param envs at least pairsPerBatch × rollouts envs of the pairs' task  @param q Q̂ per name at each pair
 */
export async function valueBiasFromParts(parts: {
  pairs: readonly StateActionPair[];
  envs: readonly Env[];
  samplerFor: (group: number) => PolicySampler;
  q: (observations: number[][], actions: number[][]) => Record<string, ArrayLike<number>>;
  settings: Pick<ValueBiasSettings, "rollouts" | "gamma" | "horizon" | "pairsPerBatch"> & { alpha: number };
  seed: number;
}): Promise<{ summaries: BiasSummary[]; returns: PairReturns[] }> {
  const { rollouts, gamma, horizon, alpha, pairsPerBatch } = parts.settings;
  const groups = groupPairs(parts.pairs, pairsPerBatch);
  const returns = await groupReturns(groups, parts.envs, parts.samplerFor, rollouts, { gamma, alpha, horizon }, parts.seed);
  const q = parts.q(parts.pairs.map((p) => p.observation), parts.pairs.map((p) => p.action));
  return { summaries: biasSummaries(q, returns), returns };
}

/** Q̂ at the pairs from the agent's online Q-networks: pessimistic (β = betaTrain, the agent's std of Eq. 12), Q1 and Q2. */
export function agentQAtPairs(agent: SacAgent, observations: number[][], actions: number[][]): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  tf.tidy(() => {
    const s = tf.tensor2d(observations.flat(), [observations.length, agent.spec.observationSize]);
    const a = tf.tensor2d(actions.flat(), [actions.length, agent.spec.actionSize]);
    const [q1, q2] = agent.qPair("online")(s, a);
    const pess = pessimisticQ(q1, q2, agent.config.betaTrain, agent.config.pessimismStd);
    const read = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());
    Object.assign(out, { pessimistic: read(pess), q1: read(q1), q2: read(q2) });
  });
  return out;
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new ConfigError(`value-bias setting ${name} must be an integer >= 1, got ${JSON.stringify(v)}`);
  return v;
}

/** The defaults overridden by `settings`; unknown names and bad values fail naming them. */
export function resolveValueBiasSettings(settings: Record<string, unknown>): { settings: ValueBiasSettings; workers: Workers } {
  const known = [...Object.keys(DEFAULT_VALUE_BIAS_SETTINGS), "workers"];
  for (const k of Object.keys(settings)) if (!known.includes(k)) throw new ConfigError(`value-bias: unknown setting "${k}"; settings: ${known.join(", ")}`);
  const s = { ...DEFAULT_VALUE_BIAS_SETTINGS, ...settings } as Record<string, unknown>;
  const gamma = s.gamma;
  if (typeof gamma !== "number" || !(gamma >= 0 && gamma <= 1)) throw new ConfigError(`value-bias setting gamma must be a number in [0, 1], got ${JSON.stringify(gamma)}`);
  if (s.policyBeta !== "collect" && s.policyBeta !== "train") throw new ConfigError(`value-bias setting policyBeta must be "collect" or "train", got ${JSON.stringify(s.policyBeta)}`);
  const workers = settings.workers ?? "auto";
  if (workers !== "auto") positiveInteger("workers", workers);
  return {
    settings: {
      pairs: positiveInteger("pairs", s.pairs),
      rollouts: positiveInteger("rollouts", s.rollouts),
      gamma,
      horizon: positiveInteger("horizon", s.horizon),
      pairsPerBatch: positiveInteger("pairsPerBatch", s.pairsPerBatch),
      policyBeta: s.policyBeta,
    },
    workers: workers as Workers,
  };
}

/**
 * Below this many env steps at most (pairs × rollouts × horizon) "auto" stays in this process: a child's
 * start-up (tfjs, MuJoCo, the agent copy; ~1 s) would cost more than a second core saves.
 */
export const AUTO_WORKERS_MIN_STEPS = 1_000_000;

/** Processes to use: "auto" is one per core (at most one per group) for evaluations large enough to repay it. */
function processCount(workers: Workers, settings: ValueBiasSettings, groups: number): number {
  if (workers !== "auto") return Math.min(groups, workers);
  const work = settings.pairs * settings.rollouts * settings.horizon;
  return work < AUTO_WORKERS_MIN_STEPS ? 1 : Math.min(groups, os.availableParallelism());
}

/** What one evaluation measured beyond the bias (for benchmarks and planning). */
export interface ValueBiasRun {
  summaries: BiasSummary[];
  returns: PairReturns[];
  alpha: number;
  timings: ShareTiming[];
  processes: number;
}

/** One value-bias evaluation of `context.agent` (the agent itself is only read: rollouts follow a private copy). */
export async function measureValueBias(context: AnalysisContext, settings: ValueBiasSettings, workers: Workers): Promise<ValueBiasRun> {
  const { agent } = context;
  const pairs = await loadOrDrawPairs(context.env, context.seed, settings.pairs, context.runDir);
  const groups = groupPairs(pairs.pairs, settings.pairsPerBatch);
  const processes = processCount(workers, settings, groups.length);
  const { results, timings } = await runShares(
    {
      env: context.env,
      snapshot: await agent.getState(),
      groups,
      rollouts: settings.rollouts,
      gamma: settings.gamma,
      horizon: settings.horizon,
      policyBeta: settings.policyBeta,
      seed: deriveSeed(context.seed, context.step, VALUE_BIAS),
    },
    processes,
  );
  const q = agentQAtPairs(agent, pairs.pairs.map((p) => p.observation), pairs.pairs.map((p) => p.action));
  return { summaries: biasSummaries(q, results), returns: results, alpha: agent.alpha, timings, processes };
}

/** The tidy rows of one evaluation: one per Q estimate (pessimistic, q1, q2). */
export function valueBiasRows(step: number, settings: ValueBiasSettings, run: ValueBiasRun): AnalysisRow[] {
  const n = run.returns.length;
  const rollouts = n * settings.rollouts;
  const sum = (f: (r: PairReturns) => number): number => run.returns.reduce((s, r) => s + f(r), 0);
  const common = {
    alpha: run.alpha,
    mcStdErrMean: sum((r) => r.std / Math.sqrt(settings.rollouts)) / n,
    meanRolloutSteps: sum((r) => r.meanSteps) / n,
    terminatedFraction: sum((r) => r.terminated) / rollouts,
    truncatedFraction: sum((r) => r.truncated) / rollouts,
    horizonCappedFraction: sum((r) => r.horizonCapped) / rollouts,
  };
  const recorded = { ...settings } as unknown as Record<string, AnalysisValue>;
  return run.summaries.map((s) => ({ estimator: VALUE_BIAS, step, settings: recorded, ...s, ...common }));
}

/**
 * The registry's factory: settings are ValueBiasSettings plus `workers` (how many processes; not recorded in
 * rows, since the numbers do not depend on it).
 */
export function makeValueBiasEstimator(user: Record<string, unknown>): Estimator {
  const { settings, workers } = resolveValueBiasSettings(user);
  return {
    name: VALUE_BIAS,
    settings: { ...settings },
    run: async (context) => valueBiasRows(context.step, settings, await measureValueBias(context, settings, workers)),
  };
}
