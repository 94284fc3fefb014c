/**
 * Optimizer comparison (Sec 4.2.1, App B.2; Fig 4c, 13): from the same on-policy states, Q-networks and
 * starting λ, J against iteration and against wall-clock time for the agent's amortized optimizer (iterative
 * amortization runs on far beyond its training iterations; a direct one is a single point), Adam on λ
 * (B.2: lr 0.01, 10 action samples) and CEM over actions (B.2: 100 samples, fit to the top 10, step 0.01).
 * CEM over λ (cem.ts) is available as "cem-lambda". Every iterate is scored on one fixed noise draw (common
 * random numbers), so the curves differ by optimizer, not by sampling noise.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import { meanAndStd } from "../core/stats";
import type { Rng } from "../core/rng";
import type { Run } from "../runs/run-dir";
import type { SacAgent } from "../agents/sac/agent";
import { ActionCemOptimizer, DEFAULT_ACTION_CEM_CONFIG } from "../policy/cem-actions";
import { CemOptimizer, DEFAULT_CEM_CONFIG } from "../policy/cem";
import { GradientAscentOptimizer } from "../policy/gradient-ascent";
import type { PolicyObjective } from "../policy/objective";
import { disposeOptimization, type PolicyOptimizer } from "../policy/optimizer";
import { disposePolicyParams, initialPolicyParams, type PolicyParams } from "../policy/params";
import { agentObjective, fixedNoiseObjective, objectiveValues } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
import { loggedAnalysisRows, type LoggedRow } from "./logged-rows";
import { STATE_SOURCE_SETTINGS, estimatorStates } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { intSetting, numberSetting, orAgent, resolveSettings, type SettingSpec, type SettingSpecs } from "./settings";

/** One optimizer in the comparison. */
export interface ComparedOptimizer {
  /** Label in the rows, e.g. "adam". */
  name: string;
  optimizer: PolicyOptimizer;
  /** Iterations it runs (ignored by a direct optimizer, which has one estimate). */
  iterations: number;
}

export interface ComparisonInput {
  states: tf.Tensor2D;
  /** The common starting λ (not consumed). */
  start: PolicyParams;
  /** J the optimizers climb. */
  objective: PolicyObjective;
  /** J every iterate is scored on (fixed noise). */
  evaluation: PolicyObjective;
  optimizers: ComparedOptimizer[];
  /** Milliseconds clock (default performance.now). */
  clock?: () => number;
}

/** J over iterations for one optimizer: one row per iterate. */
export interface ComparisonPoint {
  optimizer: string;
  /** 0 = the start (or the direct estimate). */
  iteration: number;
  /** Mean and population std of J over states. */
  j_mean: number;
  j_std: number;
  /** Wall-clock seconds of the optimizer's own work up to this iterate (its total time spread evenly over its iterations). */
  seconds: number;
}

/** Runs each optimizer from `start` and scores every iterate on `evaluation`. */
export function compareOptimizers(input: ComparisonInput): ComparisonPoint[] {
  const clock = input.clock ?? (() => performance.now());
  const out: ComparisonPoint[] = [];
  for (const { name, optimizer, iterations } of input.optimizers) {
    const t0 = clock();
    const result = optimizer.optimize(input.states, input.objective, { init: input.start, iterations, evaluateFinal: false });
    const seconds = (clock() - t0) / 1000;
    try {
      const steps = result.trace.length - 1;
      result.trace.forEach((step, k) => {
        const { mean, std } = meanAndStd(Array.from(objectiveValues(input.evaluation, input.states, step.lambda)));
        out.push({ optimizer: name, iteration: k, j_mean: mean, j_std: std, seconds: steps > 0 ? (seconds * k) / steps : seconds });
      });
    } finally {
      disposeOptimization(result);
    }
  }
  return out;
}

export const OPTIMIZER_COMPARISON = "optimizer-comparison";
/** "amortized": the agent's own optimizer; "adam": gradient ascent on λ; "cem-actions": B.2's CEM; "cem-lambda": CEM over λ. */
export const COMPARED_OPTIMIZERS = ["amortized", "adam", "cem-actions", "cem-lambda"] as const;

/** A comma-separated list drawn from `choices`, e.g. "amortized,adam". */
function listSetting(value: string, choices: readonly string[]): SettingSpec {
  return {
    default: value,
    check: (v) => (typeof v === "string" && v.length > 0 && v.split(",").every((x) => choices.includes(x.trim())) ? null : `a comma-separated list of ${choices.join(", ")}`),
  };
}

const SPECS: SettingSpecs = {
  states: intSetting(100, 1),
  /** Iterations of every optimizer. */
  iterations: intSetting(100, 1),
  optimizers: listSetting("amortized,adam,cem-actions", COMPARED_OPTIMIZERS),
  /** B.2: 0.01 for Adam. */
  adamLearningRate: numberSetting(0.01, 0, 10, true),
  /** B.2: 100 actions, top 10, step 0.01. */
  cemPopulation: intSetting(DEFAULT_ACTION_CEM_CONFIG.population, 2),
  cemElites: intSetting(DEFAULT_ACTION_CEM_CONFIG.elites, 2),
  cemStepSize: numberSetting(DEFAULT_ACTION_CEM_CONFIG.stepSize, 0, 1, true),
  /** B.2: gradients from 10 action samples; null: the agent's own. */
  samples: orAgent(intSetting(10, 1), false),
  ...STATE_SOURCE_SETTINGS,
};

function build(name: string, agent: SacAgent, s: Record<string, AnalysisValue>, rng: Rng): PolicyOptimizer {
  const A = agent.spec.actionSize;
  const initialStd = agent.config.initialStd;
  switch (name) {
    case "amortized":
      return agent.optimizer;
    case "adam":
      return new GradientAscentOptimizer({ learningRate: s.adamLearningRate as number, iterations: s.iterations as number, initialStd }, A);
    case "cem-actions":
      return new ActionCemOptimizer({ population: s.cemPopulation as number, elites: s.cemElites as number, stepSize: s.cemStepSize as number, iterations: s.iterations as number, initialStd }, A, rng);
    default:
      return new CemOptimizer({ ...DEFAULT_CEM_CONFIG, population: s.cemPopulation as number, elites: s.cemElites as number, iterations: s.iterations as number, initialStd }, A, rng);
  }
}

export function optimizerComparisonEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(OPTIMIZER_COMPARISON, SPECS, user);
  if ((settings.cemElites as number) > (settings.cemPopulation as number)) {
    throw new ConfigError(`${OPTIMIZER_COMPARISON}: setting "cemElites" (${String(settings.cemElites)}) must be at most "cemPopulation" (${String(settings.cemPopulation)})`);
  }
  const names = (settings.optimizers as string).split(",").map((x) => x.trim());
  return {
    name: OPTIMIZER_COMPARISON,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent = context.agent;
      const count = settings.states as number;
      const { rng, states } = await estimatorStates(context, OPTIMIZER_COMPARISON, settings, count);
      const samples = (settings.samples as number | null) ?? agent.config.samples;
      const objective = agentObjective(agent, rng.fork(), { purpose: "train", samples });
      const evaluation = fixedNoiseObjective(agent, rng, samples, count);
      const start = initialPolicyParams(count, agent.spec.actionSize, agent.config.initialStd);
      const optimizers = names.map((name) => ({ name, optimizer: build(name, agent, settings, rng.fork()), iterations: settings.iterations as number }));
      try {
        const points = compareOptimizers({ states, start, objective, evaluation, optimizers });
        const base = rowBase(OPTIMIZER_COMPARISON, context.step, settings);
        const rows = points.map((p) => ({ ...base, ...p, optimizer: p.optimizer === "amortized" ? agent.config.optimizer : p.optimizer }));
        return checkFiniteRows(rows);
      } finally {
        states.dispose();
        disposePolicyParams(start);
        for (const o of optimizers) if (o.optimizer !== agent.optimizer) o.optimizer.dispose();
      }
    },
  };
}

/**
 * The comparison rows the runs logged, flat and labelled; `group` is the compared optimizer ("iterative", "adam",
 * "cem-actions", ...), since the run's own optimizer takes the `optimizer` column (see `loggedAnalysisRows`).
 */
export function optimizerComparisonRows(runs: readonly Run[], settings?: Record<string, AnalysisValue>): LoggedRow[] {
  return loggedAnalysisRows(runs, OPTIMIZER_COMPARISON, { settings, group: (_label, row) => String(row.optimizer) });
}

/** One optimizer's curve in a few numbers (means over the seeds' rows at each iteration). */
export interface ComparisonSummary {
  [column: string]: string | number | null;
  optimizer: string;
  /** Rows averaged per iteration (seeds, or runs). */
  seeds: number;
  iterations: number;
  /** Mean J over states at the start, and after the last iteration (return units). */
  j_start: number;
  j_final: number;
  seconds_per_iteration: number;
  /** The first iteration whose mean J reaches the reference's at its reference iteration (null: never). */
  iterations_to_reference: number | null;
  seconds_to_reference: number | null;
}

export interface ComparisonReference {
  /** The optimizer whose J is the bar, e.g. "iterative". */
  optimizer: string;
  /** Its iteration that sets the bar, e.g. 5 (the iterations it was trained with). */
  iteration: number;
  /** Column naming the optimizer in the rows (default "optimizer"; "group" for `optimizerComparisonRows`). */
  by?: string;
}

/**
 * B.2's reading of Fig 13 in numbers: per optimizer, J at the start and the end, time per iteration, and how many
 * iterations (and seconds) it needs to reach the J the reference optimizer has after `reference.iteration`.
 */
export function summarizeComparison(rows: readonly Record<string, unknown>[], reference: ComparisonReference): ComparisonSummary[] {
  const by = reference.by ?? "optimizer";
  const curves = new Map<string, Map<number, { j: number[]; seconds: number[] }>>();
  for (const r of rows) {
    if (typeof r.iteration !== "number" || typeof r.j_mean !== "number" || typeof r.seconds !== "number") continue;
    const name = String(r[by]);
    const curve = curves.get(name) ?? new Map<number, { j: number[]; seconds: number[] }>();
    const at = curve.get(r.iteration) ?? { j: [], seconds: [] };
    at.j.push(r.j_mean);
    at.seconds.push(r.seconds);
    curve.set(r.iteration, at);
    curves.set(name, curve);
  }
  const means = (curve: Map<number, { j: number[]; seconds: number[] }>): { iteration: number; j: number; seconds: number; n: number }[] =>
    [...curve.entries()].sort((a, b) => a[0] - b[0]).map(([iteration, v]) => ({ iteration, j: meanAndStd(v.j).mean, seconds: meanAndStd(v.seconds).mean, n: v.j.length }));
  const ref = curves.get(reference.optimizer);
  const bar = ref ? means(ref).find((p) => p.iteration === reference.iteration) : undefined;
  if (!bar) throw new ConfigError(`summarizeComparison: no rows of "${reference.optimizer}" at iteration ${reference.iteration} (${by} values: ${[...curves.keys()].join(", ")})`);
  return [...curves.entries()].map(([optimizer, curve]) => {
    const points = means(curve);
    const last = points[points.length - 1];
    const reached = points.find((p) => p.j >= bar.j) ?? null;
    return {
      optimizer, seeds: points[0].n, iterations: last.iteration, j_start: points[0].j, j_final: last.j,
      seconds_per_iteration: last.iteration > 0 ? last.seconds / last.iteration : last.seconds,
      iterations_to_reference: reached ? reached.iteration : null, seconds_to_reference: reached ? reached.seconds : null,
    };
  });
}
