/**
 * The amortization gap (Sec 2.3, 4.2.3, App A.3; Fig 6, 16, 17b): how much J (Eq. 7) the amortized λ leaves on
 * the table. From the amortized estimate, Adam ascends J w.r.t. λ = (μ, log σ) per state (A.3: lr 5e-3, 100
 * steps, "which we found consistently converged"); the gap is J(optimised) − J(amortized) per state, over 100
 * on-policy states. Before and after are scored with the same action noise (common random numbers), so the gap
 * is not sampling noise. For iterative agents it is also measured after 5 extra amortized iterations (Fig 16).
 */
import { tf } from "../backend/tf";
import { meanAndStd } from "../core/stats";
import type { SacAgent } from "../agents/sac/agent";
import { GradientAscentOptimizer } from "../policy/gradient-ascent";
import type { PolicyObjective } from "../policy/objective";
import { disposeOptimization, traceMeans } from "../policy/optimizer";
import { disposePolicyParams, type PolicyParams } from "../policy/params";
import { agentObjective, amortizedLambda, fixedNoiseObjective, objectiveValues } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, estimatorStates } from "./rollouts";
import { checkFiniteRows, rowBase, type RowBase } from "./rows";
import { choiceSetting, intSetting, numberSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

export interface AmortizationGapInput {
  /** [batch, obs]. */
  states: tf.Tensor2D;
  /** The amortized estimate the ascent starts from (not consumed). */
  start: PolicyParams;
  /** J the ascent climbs. */
  ascent: PolicyObjective;
  /** J that scores before and after: give it fixed noise (common random numbers); may be `ascent` itself. */
  evaluation: PolicyObjective;
  /** Adam step size (A.3: 5e-3). */
  learningRate: number;
  /** Adam steps (A.3: 100). */
  steps: number;
}

export interface AmortizationGapResult {
  /** J(amortized), J(optimised) and their difference, per state. */
  before: Float64Array;
  after: Float64Array;
  gap: Float64Array;
  /** Mean and population std of the gap over states. */
  mean: number;
  std: number;
  /** Mean J over states at each ascent step (steps + 1 values, the start first), under `ascent`. */
  trace: number[];
}

/** Gradient ascent on J from `start` and the gap it opens, per state (A.3). */
export function amortizationGap(input: AmortizationGapInput): AmortizationGapResult {
  const { states, start } = input;
  const ascent = new GradientAscentOptimizer({ learningRate: input.learningRate, iterations: input.steps, initialStd: 1 }, start.mean.shape[1]);
  const result = ascent.optimize(states, input.ascent, { init: start });
  try {
    const before = objectiveValues(input.evaluation, states, start);
    const after = objectiveValues(input.evaluation, states, result.lambda);
    const gap = before.map((b, i) => after[i] - b);
    tf.engine().startScope(); // traceMeans leaves its stacked tensor to the caller's scope
    const trace = traceMeans(result);
    tf.engine().endScope();
    return { before, after, gap, ...meanAndStd(Array.from(gap)), trace };
  } finally {
    disposeOptimization(result);
  }
}

export const AMORTIZATION_GAP = "amortization-gap";

const SPECS: SettingSpecs = {
  /** On-policy states (A.3: 100). */
  states: intSetting(100, 1),
  /** Adam steps on λ (A.3: 100). */
  steps: intSetting(100, 1),
  /** Adam learning rate (A.3: 5e-3). */
  learningRate: numberSetting(5e-3, 0, 10, true),
  /** Action samples per J estimate (the authors' code: 10); null: the agent's own. */
  samples: orAgent(intSetting(10, 1), false),
  /** Extra amortized iterations for iterative agents (Fig 16: 5); 0 skips that variant. */
  extraIterations: intSetting(5, 0, 1000),
  /** "fixed": the ascent climbs the same fixed-noise J that scores the gap; "fresh": new noise every step (stochastic gradients), scored on fixed noise. */
  ascentNoise: choiceSetting("fixed", ["fixed", "fresh"] as const),
  ...STATE_SOURCE_SETTINGS,
};

/** A setting known to be a number or null after `resolveSettings`. */
function num(settings: Record<string, AnalysisValue>, name: string): number {
  return settings[name] as number;
}

/** Rows of one variant: a summary, one row per state, one per ascent step. */
function gapRows(base: RowBase, variant: string, r: AmortizationGapResult, extra: Record<string, AnalysisValue> = {}): AnalysisRow[] {
  const rows: AnalysisRow[] = [];
  rows.push({ ...base, kind: "summary", variant, gap_mean: r.mean, gap_std: r.std, j_before_mean: meanAndStd(Array.from(r.before)).mean, j_after_mean: meanAndStd(Array.from(r.after)).mean, states: r.gap.length, ...extra });
  r.gap.forEach((g, i) => rows.push({ ...base, kind: "state", variant, state: i, j_before: r.before[i], j_after: r.after[i], gap: g }));
  r.trace.forEach((j, i) => rows.push({ ...base, kind: "trace", variant, iteration: i, j_mean: j }));
  return rows;
}

/** The estimator: on-policy states of the agent, the gap from its amortized λ (and, iterative, after extra iterations). */
export function amortizationGapEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(AMORTIZATION_GAP, SPECS, user);
  return {
    name: AMORTIZATION_GAP,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent: SacAgent = context.agent;
      const count = num(settings, "states");
      const { rng, states } = await estimatorStates(context, AMORTIZATION_GAP, settings, count);
      const samples = (settings.samples as number | null) ?? agent.config.samples;
      const evaluation = fixedNoiseObjective(agent, rng, samples, count);
      const ascent = settings.ascentNoise === "fixed" ? evaluation : agentObjective(agent, rng.fork(), { purpose: "train", samples });
      const amortizeObjective = agentObjective(agent, rng.fork(), { purpose: "train", samples: null });
      const base = rowBase(AMORTIZATION_GAP, context.step, settings);
      const starts: PolicyParams[] = [];
      try {
        const amortized = amortizedLambda(agent, states, amortizeObjective);
        starts.push(amortized);
        const run = (start: PolicyParams): AmortizationGapResult =>
          amortizationGap({ states, start, ascent, evaluation, learningRate: num(settings, "learningRate"), steps: num(settings, "steps") });
        const first = run(amortized);
        const rows = gapRows(base, "amortized", first);
        const extra = num(settings, "extraIterations");
        if (agent.config.optimizer === "iterative" && extra > 0) {
          const further = agent.optimizer.optimize(states, amortizeObjective, { init: amortized, iterations: extra, evaluateFinal: false });
          const refined = { mean: further.lambda.mean.clone(), logStd: further.lambda.logStd.clone() };
          disposeOptimization(further);
          starts.push(refined);
          const second = run(refined);
          const gain = meanAndStd(Array.from(second.before, (b, i) => b - first.before[i]));
          rows.push(...gapRows(base, `amortized+${extra}`, second, { extra_iteration_gain_mean: gain.mean, extra_iteration_gain_std: gain.std }));
        }
        return checkFiniteRows(rows);
      } finally {
        states.dispose();
        starts.forEach(disposePolicyParams);
      }
    },
  };
}
