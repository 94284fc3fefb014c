/**
 * Per-iteration improvement (Sec 4.2.1, App B.1; Fig 4a/b, 12): how iterative amortization refines λ at one
 * step. Live: the λ trace of one on-policy state across iterations (Fig 4a plots one action dimension of it over
 * training), and ΔJ per iteration over states, every iterate scored on one fixed noise draw. From logs: the
 * training loop's `train/j_improvement_iter<k>` per logged step (Fig 4b, 12) and averaged over steps.
 */
import { meanAndStd } from "../core/stats";
import type { Run } from "../runs/run-dir";
import type { PolicyObjective } from "../policy/objective";
import { disposeOptimization, type PolicyOptimizer } from "../policy/optimizer";
import type { tf } from "../backend/tf";
import { agentObjective, fixedNoiseObjective, objectiveValues } from "./agent-objective";
import { byOptimizer, metricCurve, perIterationMeans, type CurveRow, type GroupBy, type IterationRow } from "./curves";
import type { AnalysisContext, AnalysisRow, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, estimatorStates } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { intSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

export interface IterationTrace {
  /** Per iterate (the start first): μ and σ of the traced state, |A| values each. */
  mean: Float32Array[];
  std: Float32Array[];
  /** Per iterate: J per state on `evaluation`. */
  j: Float64Array[];
}

/** Runs `optimizer` on `states` and records λ of state `traced` and J of every state at each iterate. */
export function iterationTrace(states: tf.Tensor2D, optimizer: PolicyOptimizer, objective: PolicyObjective, evaluation: PolicyObjective, traced: number, iterations?: number): IterationTrace {
  const result = optimizer.optimize(states, objective, { iterations, evaluateFinal: false });
  try {
    const A = objective.actionSize;
    const out: IterationTrace = { mean: [], std: [], j: [] };
    for (const step of result.trace) {
      out.mean.push(Float32Array.from(step.lambda.mean.dataSync().subarray(traced * A, (traced + 1) * A)));
      out.std.push(Float32Array.from(step.lambda.logStd.dataSync().subarray(traced * A, (traced + 1) * A), Math.exp));
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
      const { rng, states } = await estimatorStates(context, PER_ITERATION, settings, count);
      const samples = (settings.samples as number | null) ?? agent.config.samples;
      const evaluation = fixedNoiseObjective(agent, rng, samples, count);
      try {
        const objective = agentObjective(agent, rng.fork(), { purpose: "train", samples: null });
        const t = iterationTrace(states, agent.optimizer, objective, evaluation, traced, (settings.iterations as number | null) ?? undefined);
        const base = rowBase(PER_ITERATION, context.step, settings);
        const rows: AnalysisRow[] = [];
        t.mean.forEach((mu, iteration) => mu.forEach((m, dim) => rows.push({ ...base, kind: "lambda", state: traced, iteration, dim, mu: m, sigma: t.std[iteration][dim], action: Math.tanh(m) })));
        t.j.forEach((j, iteration) => {
          const { mean, std } = meanAndStd(Array.from(j));
          rows.push({ ...base, kind: "objective", iteration, j_mean: mean, j_std: std });
          if (iteration > 0) {
            const dj = meanAndStd(Array.from(j, (v, s) => v - t.j[iteration - 1][s]));
            rows.push({ ...base, kind: "improvement", iteration, dj_mean: dj.mean, dj_std: dj.std });
          }
        });
        return checkFiniteRows(rows);
      } finally {
        states.dispose();
      }
    },
  };
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
