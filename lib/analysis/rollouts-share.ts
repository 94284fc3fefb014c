/**
 * One process's share of the value-bias rollouts: for each group of pairs, restore every pair's env state into
 * `rollouts` env copies, take the pair's action, then follow the agent's stochastic policy, all rows of the
 * group stepping together with one batched policy call per time step. The agent is a private copy built from a
 * snapshot (here or in a child process), so no Rng or counter of the analysed agent moves.
 */
import { SacAgent, type AgentSnapshot } from "../agents/sac/agent";
import { ConfigError } from "../core/errors";
import { Rng } from "../core/rng";
import { makeEnvCopies } from "../envs/registry";
import type { Env, EnvState } from "../envs/types";
import { AgentPolicySampler, type PolicyBeta } from "./rollouts-policy";
import { deriveSeed } from "../core/rng";
import { ENDING, rolloutSoftReturns, type PolicySampler, type SoftReturnSettings } from "./soft-return-rollouts";

/** Monte Carlo summary of the soft return from one pair. */
export interface PairReturns {
  /** The pair's position in the pairs list. */
  index: number;
  /** Q_MC(s, a): the mean soft return over rollouts. */
  mean: number;
  /** Standard deviation of the soft return over rollouts (the MC standard error is std/√rollouts). */
  std: number;
  /** Mean env steps per rollout, the first action included. */
  meanSteps: number;
  /** Rollouts that ended by termination, by the env's time limit, and by the horizon cap. */
  terminated: number;
  truncated: number;
  horizonCapped: number;
}

export interface ShareTiming {
  /** Env steps taken. */
  envSteps: number;
  /** Seconds in the batched policy calls (λ and sampling). */
  policySeconds: number;
  /** Seconds for the whole share (env copies, restores, stepping, policy). */
  totalSeconds: number;
  /** CPU seconds (user + system, all threads) the process spent on the share: its wall time on a core of its own. */
  cpuSeconds: number;
}

export interface RolloutShare {
  /** Registered task name. */
  env: string;
  /** The agent to follow, as `SacAgent.getState` gives it. */
  snapshot: AgentSnapshot;
  /** Groups of pairs stepped together. */
  groups: PairGroup[];
  rollouts: number;
  /** γ and the horizon cap (α is the snapshot's). */
  gamma: number;
  horizon: number;
  policyBeta: PolicyBeta;
  /** Base seed of every stream (each rollout's and each group's are derived from it). */
  seed: number;
}

/** A private copy of the agent a snapshot describes (free it with `dispose`). */
export async function agentFromSnapshot(snapshot: AgentSnapshot): Promise<SacAgent> {
  const agent = SacAgent.create(snapshot.config, snapshot.spec, new Rng(0));
  try {
    await agent.setState(snapshot);
  } catch (e) {
    agent.dispose();
    throw e;
  }
  return agent;
}

/** Wraps a sampler to add up the seconds spent in it. */
function timed(sampler: PolicySampler, timing: ShareTiming): PolicySampler {
  return {
    observationSize: sampler.observationSize,
    actionSize: sampler.actionSize,
    sample(observations, count, rowRngs, actions, logRatios) {
      const t0 = performance.now();
      sampler.sample(observations, count, rowRngs, actions, logRatios);
      timing.policySeconds += (performance.now() - t0) / 1000;
    },
  };
}

/** Mean, std and endings of a block of rollouts' returns. */
function summarize(index: number, returns: Float64Array, steps: Int32Array, ending: Uint8Array): PairReturns {
  const n = returns.length;
  let mean = 0;
  for (const r of returns) mean += r / n;
  let sq = 0;
  for (const r of returns) sq += (r - mean) ** 2;
  const count = (kind: number): number => ending.reduce((c, e) => c + (e === kind ? 1 : 0), 0);
  return {
    index,
    mean,
    std: n > 1 ? Math.sqrt(sq / (n - 1)) : 0,
    meanSteps: steps.reduce((s, x) => s + x, 0) / n,
    terminated: count(ENDING.terminated),
    truncated: count(ENDING.truncated),
    horizonCapped: count(ENDING.horizon),
  };
}

/** A group of pairs stepped together; `group` seeds the group's policy-optimizer noise. */
export interface PairGroup {
  group: number;
  pairs: { index: number; state: EnvState; action: number[] }[];
}

/**
 * Monte Carlo soft returns from each pair of `groups`, in this process: every pair's state restored into
 * `rollouts` of `envs` (at least largest group × rollouts of them), the pair's action taken, then
 * `samplerFor(group)`'s actions. Rollout j of pair i draws from its own stream, seeded (seed, i, j).
 */
export async function groupReturns(
  groups: readonly PairGroup[],
  envs: readonly Env[],
  samplerFor: (group: number) => PolicySampler,
  rollouts: number,
  settings: SoftReturnSettings,
  seed: number,
  timing: ShareTiming = { envSteps: 0, policySeconds: 0, totalSeconds: 0, cpuSeconds: 0 },
): Promise<PairReturns[]> {
  const results: PairReturns[] = [];
  for (const { group, pairs } of groups) {
    const rows = pairs.length * rollouts;
    if (rows > envs.length) throw new ConfigError(`value bias: group ${group} needs ${rows} envs, got ${envs.length}`);
    const sampler = timed(samplerFor(group), timing);
    const firstActions: number[][] = [];
    const rngs: Rng[] = [];
    pairs.forEach((p, k) => {
      if (p.action.length !== sampler.actionSize) throw new ConfigError(`value bias: pair ${p.index} has ${p.action.length} action values; the policy takes ${sampler.actionSize}`);
      for (let j = 0; j < rollouts; j++) {
        envs[k * rollouts + j].setState(p.state);
        firstActions.push(p.action);
        rngs.push(new Rng(deriveSeed(seed, "rollout", p.index, j)));
      }
    });
    const out = await rolloutSoftReturns(envs.slice(0, rows), firstActions, sampler, rngs, settings);
    pairs.forEach((p, k) => {
      const at = k * rollouts;
      const end = at + rollouts;
      results.push(summarize(p.index, out.returns.subarray(at, end), out.steps.subarray(at, end), out.ending.subarray(at, end)));
    });
    timing.envSteps += out.steps.reduce((s, x) => s + x, 0);
  }
  return results;
}

/** Runs a share in this process, following a private copy of the snapshot's agent. */
export async function runShare(share: RolloutShare): Promise<{ results: PairReturns[]; timing: ShareTiming }> {
  const timing: ShareTiming = { envSteps: 0, policySeconds: 0, totalSeconds: 0, cpuSeconds: 0 };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const largest = Math.max(0, ...share.groups.map((g) => g.pairs.length));
  if (largest === 0) return { results: [], timing };
  const agent = await agentFromSnapshot(share.snapshot);
  let envs: Env[] = [];
  try {
    envs = await makeEnvCopies(share.env, largest * share.rollouts);
    const settings: SoftReturnSettings = { gamma: share.gamma, alpha: agent.alpha, horizon: share.horizon };
    const samplerFor = (group: number): PolicySampler => new AgentPolicySampler(agent, share.policyBeta, new Rng(deriveSeed(share.seed, "policy", group)));
    const results = await groupReturns(share.groups, envs, samplerFor, share.rollouts, settings, share.seed, timing);
    timing.totalSeconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    timing.cpuSeconds = (used.user + used.system) / 1e6;
    return { results, timing };
  } finally {
    for (const e of envs) e.dispose();
    agent.dispose();
  }
}
