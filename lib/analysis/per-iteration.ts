/**
 * Per-iteration improvement (Sec 4.2.1, App B.1; Fig 4a/b, 12): how iterative amortization refines λ at one
 * step. Live: the λ trace of one on-policy state across iterations, and ΔJ per iteration over states, every
 * iterate scored on one fixed noise draw; optionally the same along the first steps of one evaluation episode,
 * in time order (Fig 4a/b: one action dimension of π and ΔJ per iteration across an episode's time steps). From
 * logs: the training loop's `train/j_improvement_iter<k>` per logged step (Fig 4b, 12) and averaged over steps.
 */
import { meanAndStd } from "../core/stats";
import type { Run } from "../runs/run-dir";
import type { PolicyObjective } from "../policy/objective";
import { disposeOptimization, type PolicyOptimizer } from "../policy/optimizer";
import type { tf } from "../backend/tf";
import type { SacAgent } from "../agents/sac/agent";
import type { Rng } from "../core/rng";
import { agentObjective, fixedNoiseObjective, objectiveValues, statesTensor } from "./agent-objective";
import { byOptimizer, metricCurve, perIterationMeans, type CurveRow, type GroupBy, type IterationRow } from "./curves";
import type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, agentEvalPolicy, estimatorStates, runEpisodes } from "./rollouts";
import { checkFiniteRows, rowBase, type RowBase } from "./rows";
import { intSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

export interface IterationTrace {
  /** Per iterate (the start first): μ and σ of every state, [batch · |A|] row-major. */
  mean: Float32Array[];
  std: Float32Array[];
  /** Per iterate: J per state on `evaluation`. */
  j: Float64Array[];
}

/** Runs `optimizer` on `states` and records λ and J (on `evaluation`) of every state at each iterate. */
export function iterationTrace(states: tf.Tensor2D, optimizer: PolicyOptimizer, objective: PolicyObjective, evaluation: PolicyObjective, iterations?: number): IterationTrace {
  const result = optimizer.optimize(states, objective, { iterations, evaluateFinal: false });
  try {
    const out: IterationTrace = { mean: [], std: [], j: [] };
    for (const step of result.trace) {
      out.mean.push(Float32Array.from(step.lambda.mean.dataSync()));
      out.std.push(Float32Array.from(step.lambda.logStd.dataSync(), Math.exp));
      out.j.push(objectiveValues(evaluation, states, step.lambda));
    }
    return out;
  } finally {
    disposeOptimization(result);
  }
}

export const PER_ITERATION = "per-iteration";

const SPECS: SettingSpecs = {
  states: intSetting(100, 1),
  /** Which state's λ trace is kept. */
  tracedState: intSetting(0, 0),
  /** Iterations; null: the agent's acting iterations. */
  iterations: orAgent(intSetting(5, 1)),
  /** Action samples per J estimate; null: the agent's own. */
  samples: orAgent(intSetting(10, 1)),
  /** Also trace every state of the first this many steps of one evaluation episode, in time order (0: none). */
  episodeSteps: intSetting(0, 0, 10_000),
  ...STATE_SOURCE_SETTINGS,
};

export function perIterationEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(PER_ITERATION, SPECS, user);
  return {
    name: PER_ITERATION,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent = context.agent;
      const count = settings.states as number;
      const traced = Math.min(settings.tracedState as number, count - 1);
      const iterations = (settings.iterations as number | null) ?? undefined;
      const { rng, states } = await estimatorStates(context, PER_ITERATION, settings, count);
      const samples = (settings.samples as number | null) ?? agent.config.samples;
      const evaluation = fixedNoiseObjective(agent, rng, samples, count);
      const base = rowBase(PER_ITERATION, context.step, settings);
      const rows: AnalysisRow[] = [];
      try {
        const objective = agentObjective(agent, rng.fork(), { purpose: "train", samples: null });
        const t = iterationTrace(states, agent.optimizer, objective, evaluation, iterations);
        const A = agent.spec.actionSize;
        t.mean.forEach((mu, iteration) => {
          for (let dim = 0; dim < A; dim++) {
            const m = mu[traced * A + dim];
            rows.push({ ...base, kind: "lambda", state: traced, iteration, dim, mu: m, sigma: t.std[iteration][traced * A + dim], action: Math.tanh(m) });
          }
        });
        t.j.forEach((j, iteration) => {
          const { mean, std } = meanAndStd(Array.from(j));
          rows.push({ ...base, kind: "objective", iteration, j_mean: mean, j_std: std });
          if (iteration > 0) {
            const dj = meanAndStd(Array.from(j, (v, s) => v - t.j[iteration - 1][s]));
            rows.push({ ...base, kind: "improvement", iteration, dj_mean: dj.mean, dj_std: dj.std });
          }
        });
      } finally {
        states.dispose();
      }
      if ((settings.episodeSteps as number) > 0) rows.push(...(await episodeRows(context, settings, rng.fork(), base, samples, iterations)));
      return checkFiniteRows(rows);
    },
  };
}

/**
 * Fig 4a/b: the first `episodeSteps` states of one deterministic evaluation episode (seeded from `rng`), each
 * optimized as in the estimator's other rows: "episode-lambda" rows (time step t, iteration, dim, μ, σ, tanh μ)
 * and "episode-improvement" rows (t, iteration k ≥ 1, ΔJ = J(λ_k) − J(λ_{k−1}) on one fixed noise draw).
 */
async function episodeRows(context: AnalysisContext, settings: Record<string, AnalysisValue>, rng: Rng, base: RowBase, samples: number, iterations: number | undefined): Promise<AnalysisRow[]> {
  const agent: SacAgent = context.agent;
  const O = agent.spec.observationSize;
  const A = agent.spec.actionSize;
  const policy = agentEvalPolicy(agent, agentObjective(agent, rng.fork(), { purpose: "act", samples: null }));
  const episode = await runEpisodes(context.env, policy, { seeds: [rng.nextSeed()], timeLimit: settings.timeLimit as number | null, recordStates: true });
  const visited = episode.states as Float32Array;
  const steps = Math.min(settings.episodeSteps as number, visited.length / O);
  const states = statesTensor(visited.subarray(0, steps * O), O);
  try {
    const evaluation = fixedNoiseObjective(agent, rng, samples, steps);
    const objective = agentObjective(agent, rng.fork(), { purpose: "train", samples: null });
    const t = iterationTrace(states, agent.optimizer, objective, evaluation, iterations);
    const rows: AnalysisRow[] = [];
    t.mean.forEach((mu, iteration) => {
      for (let s = 0; s < steps; s++) {
        for (let dim = 0; dim < A; dim++) {
          const m = mu[s * A + dim];
          rows.push({ ...base, kind: "episode-lambda", t: s, iteration, dim, mu: m, sigma: t.std[iteration][s * A + dim], action: Math.tanh(m) });
        }
        if (iteration > 0) rows.push({ ...base, kind: "episode-improvement", t: s, iteration, dj: t.j[iteration][s] - t.j[iteration - 1][s] });
      }
    });
    return rows;
  } finally {
    states.dispose();
  }
}

/** The training loop's improvement key for iteration k. */
export const J_IMPROVEMENT_PREFIX = "train/j_improvement_iter";

export interface ImprovementRow extends CurveRow {
  iteration: number;
}

/** ΔJ of each iteration at every logged step of every run (Fig 4b, 12), one row per (run, step, iteration). */
export function improvementOverTraining(runs: readonly Run[], group: GroupBy = byOptimizer, prefix = J_IMPROVEMENT_PREFIX): ImprovementRow[] {
  const iterations = new Set<number>();
  for (const run of runs) for (const m of run.metrics) for (const k of Object.keys(m)) if (k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length))) iterations.add(Number(k.slice(prefix.length)));
  return [...iterations].sort((a, b) => a - b).flatMap((iteration) => metricCurve(runs, `${prefix}${iteration}`, group).map((r) => ({ ...r, iteration })));
}

/** ΔJ of each iteration averaged over a run's logged steps from `fromStep` on (Fig 4b's summary). */
export function improvementByIteration(runs: readonly Run[], fromStep = 0, group: GroupBy = byOptimizer): IterationRow[] {
  return perIterationMeans(runs, J_IMPROVEMENT_PREFIX, fromStep, group);
}
