/**
 * Test-time optimization (App B.4; Fig 15, 16): evaluation returns when, at evaluation only, the agent's λ is
 * refined further — extra Adam steps on λ (semi-amortized, Fig 15: 50 steps) or extra iterative amortized
 * iterations (Fig 16: 5) — next to the plain amortized policy on the same episode seeds. Training, acting and
 * targets are untouched: this wraps the agent's evaluation policy, it does not change the agent.
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import type { SacAgent } from "../agents/sac/agent";
import { GradientAscentOptimizer } from "../policy/gradient-ascent";
import type { VariationalObjective } from "../policy/objective";
import { disposeOptimization } from "../policy/optimizer";
import type { PolicyParams } from "../policy/params";
import { agentObjective, estimatorRng } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, Estimator } from "./estimator";
import { agentEvalPolicy, runEpisodes, summarizeReturns, type BatchPolicy } from "./rollouts";
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
 * The agent's deterministic evaluation policy with test-time refinement, shaped like a learner's `act`
 * (so the training loop's `evaluate` can run it); J's noise comes from `rng`, never the agent's.
 */
export function testTimePolicy(agent: SacAgent, rng: Rng, o: TestTimeOptions): { act(observation: ArrayLike<number>, mode: "explore" | "eval"): Float32Array; batch: BatchPolicy } {
  const objective = agentObjective(agent, rng, { purpose: "act", samples: null });
  const batch = agentEvalPolicy(agent, objective, testTimeRefinement(agent, objective, o));
  return {
    batch,
    act(observation, mode) {
      if (mode !== "eval") throw new ConfigError("a test-time policy only evaluates (mode \"eval\"); training acts with the agent itself");
      return batch(Float32Array.from(observation), 1);
    },
  };
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
  timeLimit: orAgent(intSetting(1000, 1)),
};

export function testTimeEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(TEST_TIME, SPECS, user);
  return {
    name: TEST_TIME,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent = context.agent;
      const mode: TestTimeMode = settings.mode === "auto" ? (agent.config.optimizer === "iterative" ? "iterations" : "adam") : (settings.mode as TestTimeMode);
      const o: TestTimeOptions = { mode, adamSteps: settings.adamSteps as number, adamLearningRate: settings.adamLearningRate as number, extraIterations: settings.extraIterations as number };
      const rng = estimatorRng(context, TEST_TIME);
      const seeds = Array.from({ length: settings.episodes as number }, () => rng.nextSeed());
      const timeLimit = settings.timeLimit as number | null;
      const plain = await runEpisodes(context.env, agentEvalPolicy(agent, agentObjective(agent, rng.fork(), { purpose: "act", samples: null })), { seeds, timeLimit });
      const refined = await runEpisodes(context.env, testTimePolicy(agent, rng.fork(), o).batch, { seeds, timeLimit });
      const base = rowBase(TEST_TIME, context.step, settings);
      const label = mode === "adam" ? `adam+${o.adamSteps}` : `iterative+${o.extraIterations}`;
      const rows: AnalysisRow[] = [];
      for (const [variant, r] of [["amortized", plain], [label, refined]] as const) {
        const s = summarizeReturns(r);
        rows.push({ ...base, kind: "summary", variant, return_mean: s.mean, return_std: s.std, episodes: s.episodes });
        r.returns.forEach((ret, episode) => rows.push({ ...base, kind: "episode", variant, episode, return: ret, length: r.lengths[episode] }));
      }
      return checkFiniteRows(rows);
    },
  };
}
