/**
 * Deterministic evaluation episodes for the estimators, in fresh envs they own: all episodes step together so
 * the policy runs once per step on every live episode's observation. Used to find on-policy states (A.1, A.3,
 * B.2, B.5: "on-policy states from evaluation episodes") and to score test-time optimization (Fig 15, 16).
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import { meanAndStd } from "../core/stats";
import type { SacAgent } from "../agents/sac/agent";
import { toEnvAction } from "../envs/actions";
import { makeEnvCopies } from "../envs/registry";
import type { VariationalObjective } from "../policy/objective";
import type { PolicyParams } from "../policy/params";
import { agentObjective, amortizedLambda, estimatorRng, statesTensor } from "./agent-objective";
import type { AnalysisContext, AnalysisValue } from "./estimator";
import { intSetting, orAgent, type SettingSpecs } from "./settings";

/** Deterministic actions in [-1, 1]^|A| for `count` observations ([count, obs] row-major in, [count, |A|] out). */
export type BatchPolicy = (observations: Float32Array, count: number) => Float32Array;

export interface EpisodeResults {
  /** Undiscounted return per episode. */
  returns: number[];
  lengths: number[];
  /** Every observation the policy acted on, [Σ lengths, obs] row-major (only when asked for). */
  states: Float32Array | null;
}

export interface EpisodeOptions {
  /** One env seed per episode. */
  seeds: number[];
  /** Overrides the task's episode step limit (null: the task's own). */
  timeLimit?: number | null;
  /** Keep the visited observations. */
  recordStates?: boolean;
}

/** Runs one deterministic episode per seed, all in lockstep, and frees the envs. */
export async function runEpisodes(envName: string, policy: BatchPolicy, options: EpisodeOptions): Promise<EpisodeResults> {
  const n = options.seeds.length;
  if (n < 1) throw new ConfigError("runEpisodes: need at least one episode seed");
  const envs = await makeEnvCopies(envName, n, options.timeLimit ? { timeLimit: options.timeLimit } : {});
  try {
    const O = envs[0].observationSize;
    const observations = envs.map((env, i) => env.reset({ seed: options.seeds[i] }).observation);
    const returns = new Array<number>(n).fill(0);
    const lengths = new Array<number>(n).fill(0);
    const live = envs.map((_, i) => i);
    const visited: Float32Array[] = [];
    while (live.length > 0) {
      const batch = new Float32Array(live.length * O);
      live.forEach((e, row) => batch.set(observations[e], row * O));
      if (options.recordStates) visited.push(batch);
      const actions = policy(batch, live.length);
      const A = actions.length / live.length;
      for (let row = live.length - 1; row >= 0; row--) {
        const e = live[row];
        const r = envs[e].step(toEnvAction(actions.subarray(row * A, (row + 1) * A), envs[e]));
        returns[e] += r.reward;
        lengths[e]++;
        observations[e] = r.observation;
        if (r.terminated || r.truncated) live.splice(row, 1);
      }
      await new Promise<void>((resolve) => setImmediate(resolve)); // long rollouts yield to the event loop
    }
    let states: Float32Array | null = null;
    if (options.recordStates) {
      states = new Float32Array(visited.reduce((s, b) => s + b.length, 0));
      let at = 0;
      for (const b of visited) {
        states.set(b, at);
        at += b.length;
      }
    }
    return { returns, lengths, states };
  } finally {
    for (const env of envs) env.dispose();
  }
}

/** Mean and std of the returns, with the episode count. */
export function summarizeReturns(r: EpisodeResults): { mean: number; std: number; episodes: number } {
  return { ...meanAndStd(r.returns), episodes: r.returns.length };
}

/**
 * The agent's deterministic evaluation policy tanh(μ), λ from its own optimizer on `objective` (built with the
 * estimator's Rng; an iterative agent runs its evaluation iterations, iterations.eval), optionally refined per
 * batch by `refine` (test-time optimization). Never calls `agent.act`.
 */
export function agentEvalPolicy(agent: SacAgent, objective: VariationalObjective, refine?: (states: tf.Tensor2D, lambda: PolicyParams) => PolicyParams): BatchPolicy {
  return (observations, count) => {
    const states = statesTensor(observations, observations.length / count);
    let lambda = amortizedLambda(agent, states, objective, agent.evaluationIterations);
    if (refine) {
      const refined = refine(states, lambda);
      tf.dispose([lambda.mean, lambda.logStd]);
      lambda = refined;
    }
    const action = tf.tidy(() => Float32Array.from(tf.tanh(lambda.mean).dataSync() as Float32Array));
    tf.dispose([states, lambda.mean, lambda.logStd]);
    return action;
  };
}

export interface OnPolicyStateOptions {
  /** States wanted. */
  count: number;
  /** Most episodes to run while fewer states than `count` have been visited. */
  maxEpisodes: number;
  /** Episodes run together per round. */
  episodesPerRound?: number;
  timeLimit?: number | null;
}

/**
 * `count` distinct on-policy states, [count, obs] row-major: deterministic evaluation episodes of the agent in
 * fresh envs seeded from `rng`, run until at least `count` states were visited, then `count` of those drawn
 * uniformly without replacement (so they spread over whole episodes, as "100 on-policy states" in A.3).
 */
export async function collectOnPolicyStates(agent: SacAgent, envName: string, objective: VariationalObjective, rng: Rng, o: OnPolicyStateOptions): Promise<Float32Array> {
  const O = agent.spec.observationSize;
  const perRound = o.episodesPerRound ?? 1;
  const pool: Float32Array[] = [];
  let visited = 0;
  let episodes = 0;
  const policy = agentEvalPolicy(agent, objective);
  while (visited < o.count && episodes < o.maxEpisodes) {
    const n = Math.min(perRound, o.maxEpisodes - episodes);
    const seeds = Array.from({ length: n }, () => rng.nextSeed());
    const r = await runEpisodes(envName, policy, { seeds, timeLimit: o.timeLimit, recordStates: true });
    pool.push(r.states as Float32Array);
    visited += (r.states as Float32Array).length / O;
    episodes += n;
  }
  if (visited < o.count) {
    throw new ConfigError(`on-policy states: ${o.maxEpisodes} episodes of ${envName} visited only ${visited} states, fewer than the ${o.count} asked for; ask for fewer states or more episodes`);
  }
  const all = new Float32Array(visited * O);
  let at = 0;
  for (const p of pool) {
    all.set(p, at);
    at += p.length;
  }
  // partial Fisher-Yates: the first `count` entries of a uniformly shuffled index list
  const index = Array.from({ length: visited }, (_, i) => i);
  const out = new Float32Array(o.count * O);
  for (let i = 0; i < o.count; i++) {
    const j = i + rng.int(visited - i);
    [index[i], index[j]] = [index[j], index[i]];
    out.set(all.subarray(index[i] * O, (index[i] + 1) * O), i * O);
  }
  return out;
}

/** The settings of every estimator that draws on-policy states: most episodes, and their step limit (null: the task's). */
export const STATE_SOURCE_SETTINGS: SettingSpecs = {
  maxEpisodes: intSetting(50, 1),
  timeLimit: orAgent(intSetting(1000, 1)),
};

/**
 * The estimator's own Rng (from the run seed, step and its name) and `count` on-policy states of the context's
 * agent, drawn with the estimator's `maxEpisodes` and `timeLimit`; the caller disposes `states`.
 */
export async function estimatorStates(context: AnalysisContext, name: string, settings: Record<string, AnalysisValue>, count: number): Promise<{ rng: Rng; states: tf.Tensor2D; found: Float32Array }> {
  const agent = context.agent;
  const rng = estimatorRng(context, name);
  const actObjective = agentObjective(agent, rng.fork(), { purpose: "act", samples: null });
  const found = await collectOnPolicyStates(agent, context.env, actObjective, rng.fork(), { count, maxEpisodes: settings.maxEpisodes as number, timeLimit: settings.timeLimit as number | null });
  return { rng, found, states: statesTensor(found, agent.spec.observationSize) };
}
