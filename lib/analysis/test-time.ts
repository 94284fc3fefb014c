/**
 * Test-time optimization (App B.4; Fig 15, 16): evaluation returns when, at evaluation only, the agent's λ is
 * refined further — extra Adam steps on λ (semi-amortized, Fig 15: 50 steps) or extra iterative amortized
 * iterations (Fig 16: 5) — next to the plain amortized policy on the same episode seeds; and what the same
 * refinement does to J (Eq. 7) on on-policy states, scored on one noise draw (common random numbers). Sec 4.2.3
 * contrasts the two: the refinement raises the estimated J, yet the returns barely move. Training, acting and
 * targets are untouched: this wraps the agent's evaluation policy, it does not change the agent.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import { Rng } from "../core/rng";
import type { SacAgent } from "../agents/sac/agent";
import { GradientAscentOptimizer } from "../policy/gradient-ascent";
import type { VariationalObjective } from "../policy/objective";
import { meanAndStd } from "../core/stats";
import { disposeOptimization } from "../policy/optimizer";
import { disposePolicyParams, type PolicyParams } from "../policy/params";
import { agentObjective, amortizedLambda, fixedNoiseObjective, objectiveValues } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, agentEvalPolicy, estimatorStates, runEpisodes, summarizeReturns, type BatchPolicy } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { choiceSetting, intSetting, numberSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

/** How λ is refined at evaluation: "adam" (Fig 15) or "iterations" (Fig 16, iterative agents). */
export type TestTimeMode = "adam" | "iterations";

export interface TestTimeOptions {
  mode: TestTimeMode;
  /** Adam steps and learning rate (mode "adam"). */
  adamSteps: number;
  adamLearningRate: number;
  /** Extra amortized iterations (mode "iterations"). */
  extraIterations: number;
  /** Action samples per estimate of the J the refinement climbs; null or absent: the agent's own. */
  samples?: number | null;
}

/** λ ↦ refined λ on `objective`, per the mode (a new PolicyParams; the input is not consumed). */
export function testTimeRefinement(agent: SacAgent, objective: VariationalObjective, o: TestTimeOptions): (states: tf.Tensor2D, lambda: PolicyParams) => PolicyParams {
  if (o.mode === "iterations" && agent.config.optimizer !== "iterative") {
    throw new ConfigError(`test-time "iterations" needs an iterative agent; this one is ${agent.config.optimizer} (use "adam")`);
  }
  const adam = new GradientAscentOptimizer({ learningRate: o.adamLearningRate, iterations: o.adamSteps, initialStd: 1 }, agent.spec.actionSize);
  return (states, lambda) => {
    const result = o.mode === "adam"
      ? adam.optimize(states, objective, { init: lambda, evaluateFinal: false })
      : agent.optimizer.optimize(states, objective, { init: lambda, iterations: o.extraIterations, evaluateFinal: false });
    const refined = { mean: result.lambda.mean.clone(), logStd: result.lambda.logStd.clone() };
    disposeOptimization(result);
    return refined;
  };
}

/**
 * The J the agent's own optimizer runs on as it acts (its sample count, noise exactly `rng`'s stream, as the plain
 * evaluation policy given an Rng in the same state draws it) and the J the refinement climbs (`o.samples` action
 * samples, noise from a stream seeded off a copy of `rng`; the acting objective itself when that is the agent's count).
 */
function refinementObjectives(agent: SacAgent, rng: Rng, o: TestTimeOptions): { acting: VariationalObjective; climb: VariationalObjective } {
  const own = o.samples === undefined || o.samples === null || o.samples === agent.config.samples;
  const climbRng = own ? null : Rng.fromState(rng.getState()).fork();
  const acting = agentObjective(agent, rng, { purpose: "act", samples: null });
  return { acting, climb: climbRng === null ? acting : agentObjective(agent, climbRng, { purpose: "act", samples: o.samples ?? null }) };
}

/**
 * The agent's deterministic evaluation policy with test-time refinement, shaped like a learner's `act`
 * (so the training loop's `evaluate` can run it); J's noise comes from `rng`, never the agent's.
 */
export function testTimePolicy(agent: SacAgent, rng: Rng, o: TestTimeOptions): { act(observation: ArrayLike<number>, mode: "explore" | "eval"): Float32Array; batch: BatchPolicy } {
  const { acting, climb } = refinementObjectives(agent, rng, o);
  const batch = agentEvalPolicy(agent, acting, testTimeRefinement(agent, climb, o));
  return {
    batch,
    act(observation, mode) {
      if (mode !== "eval") throw new ConfigError("a test-time policy only evaluates (mode \"eval\"); training acts with the agent itself");
      return batch(Float32Array.from(observation), 1);
    },
  };
}

/** J per state of the amortized λ and of its refinement, both scored on one fixed noise draw. */
export interface TestTimeObjective {
  amortized: Float64Array;
  refined: Float64Array;
}

/**
 * What the refinement does to J at `states`: the amortized λ and its refinement as `testTimePolicy` computes
 * them (noise from `rng`), both scored on `score` (fixed noise: common random numbers).
 */
export function testTimeObjective(agent: SacAgent, states: tf.Tensor2D, rng: Rng, score: VariationalObjective, o: TestTimeOptions): TestTimeObjective {
  const { acting, climb } = refinementObjectives(agent, rng, o);
  const amortized = amortizedLambda(agent, states, acting);
  const refined = testTimeRefinement(agent, climb, o)(states, amortized);
  try {
    return { amortized: objectiveValues(score, states, amortized), refined: objectiveValues(score, states, refined) };
  } finally {
    disposePolicyParams(amortized);
    disposePolicyParams(refined);
  }
}

export const TEST_TIME = "test-time";

const SPECS: SettingSpecs = {
  /** "auto": extra iterations for iterative agents (Fig 16), Adam steps for the others (Fig 15). */
  mode: choiceSetting("auto", ["auto", "adam", "iterations"] as const),
  /** Fig 15: 50 extra gradient steps. */
  adamSteps: intSetting(50, 1),
  /** A.3's step size for gradient refinement of λ. */
  adamLearningRate: numberSetting(5e-3, 0, 10, true),
  /** Fig 16: 5 extra iterations. */
  extraIterations: intSetting(5, 1),
  /** Evaluation episodes per variant (the paper's evaluations: 5). */
  episodes: intSetting(5, 1),
  /** On-policy states J is compared at (as the gap's 100, A.3). */
  states: intSetting(100, 1),
  /** Action samples per estimate of J, for the refinement's gradients and for scoring (the authors' code: 10); null: the agent's own. */
  samples: orAgent(intSetting(10, 1), false),
  ...STATE_SOURCE_SETTINGS,
};

/** The options of a mode resolved against the agent ("auto": iterations for iterative agents, Adam otherwise). */
function optionsFor(agent: SacAgent, settings: Record<string, AnalysisValue>): TestTimeOptions {
  const mode: TestTimeMode = settings.mode === "auto" ? (agent.config.optimizer === "iterative" ? "iterations" : "adam") : (settings.mode as TestTimeMode);
  return { mode, adamSteps: settings.adamSteps as number, adamLearningRate: settings.adamLearningRate as number, extraIterations: settings.extraIterations as number, samples: settings.samples as number | null };
}

/**
 * Rows per variant ("amortized", and "adam+<steps>" or "iterative+<iterations>"), each with `extra_steps` (0 for
 * the amortized policy): a summary (returns over episodes, J over states, and for the refined variant the paired
 * changes), one row per episode (`return`, and `return_change` against the same seed's amortized episode) and one
 * per state (`j`, and `j_gain` against the same state's amortized λ).
 */
export function testTimeEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(TEST_TIME, SPECS, user);
  return {
    name: TEST_TIME,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent = context.agent;
      const o = optionsFor(agent, settings);
      const count = settings.states as number;
      const { rng, states } = await estimatorStates(context, TEST_TIME, settings, count);
      try {
        const seeds = Array.from({ length: settings.episodes as number }, () => rng.nextSeed());
        const timeLimit = settings.timeLimit as number | null;
        // both policies draw the acting J's noise from copies of one stream, so an iterative agent's amortized λ
        // differs between them only once their episodes do
        const acting = rng.fork().getState();
        const plain = await runEpisodes(context.env, agentEvalPolicy(agent, agentObjective(agent, Rng.fromState(acting), { purpose: "act", samples: null })), { seeds, timeLimit });
        const refined = await runEpisodes(context.env, testTimePolicy(agent, Rng.fromState(acting), o).batch, { seeds, timeLimit });
        const samples = o.samples ?? agent.config.samples;
        const j = testTimeObjective(agent, states, rng.fork(), fixedNoiseObjective(agent, rng, samples, count, "act"), o);
        const base = rowBase(TEST_TIME, context.step, settings);
        const extra = o.mode === "adam" ? o.adamSteps : o.extraIterations;
        const label = o.mode === "adam" ? `adam+${extra}` : `iterative+${extra}`;
        const rows: AnalysisRow[] = [];
        for (const [variant, r, js, steps] of [["amortized", plain, j.amortized, 0], [label, refined, j.refined, extra]] as const) {
          // the refined variant is paired with the amortized one: same episode seeds, same states and J noise
          const refinedVariant = steps > 0;
          const returnChange = r.returns.map((ret, e) => ret - plain.returns[e]);
          const jGain = Array.from(js, (v, i) => v - j.amortized[i]);
          const returns = summarizeReturns(r);
          const jStats = meanAndStd(Array.from(js));
          const summary: AnalysisRow = { ...base, kind: "summary", variant, extra_steps: steps, return_mean: returns.mean, return_std: returns.std, episodes: returns.episodes, j_mean: jStats.mean, j_std: jStats.std, states: js.length };
          if (refinedVariant) {
            const rc = meanAndStd(returnChange);
            const jg = meanAndStd(jGain);
            Object.assign(summary, { return_change_mean: rc.mean, return_change_std: rc.std, j_gain_mean: jg.mean, j_gain_std: jg.std });
          }
          rows.push(summary);
          r.returns.forEach((ret, episode) => rows.push({ ...base, kind: "episode", variant, extra_steps: steps, episode, return: ret, length: r.lengths[episode], ...(refinedVariant ? { return_change: returnChange[episode] } : {}) }));
          js.forEach((v, state) => rows.push({ ...base, kind: "state", variant, extra_steps: steps, state, j: v, ...(refinedVariant ? { j_gain: jGain[state] } : {}) }));
        }
        return checkFiniteRows(rows);
      } finally {
        states.dispose();
      }
    },
  };
}
