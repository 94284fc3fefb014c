/**
 * Iterative amortization planning with model-based values (Sec. 4.2.5, Fig. 8b, 8c): on on-policy states, the
 * agent's optimizer climbs J on Eq. 13's estimate; at each iterate the model's planned trajectory from one traced
 * state (a_0 = tanh μ, then the rollout policy's mean actions, s_0..s_h: every state dimension) and J of every state
 * on one fixed noise draw. The iterates refine the plan (8b) and raise J (8c).
 */
import { ConfigError } from "../core/errors";
import { meanAndStd } from "../core/stats";
import { tf } from "../backend/tf";
import { disposeOptimization } from "../policy/optimizer";
import { agentObjective, fixedNoiseObjective, objectiveValues } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, estimatorStates } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { intSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

export const MODEL_BASED_PLANNING = "model-based-planning";

const SPECS: SettingSpecs = {
  states: intSetting(10, 1),
  /** Which state's planned trajectory is kept. */
  tracedState: intSetting(0, 0),
  /** Iterations; null: the agent's acting iterations. */
  iterations: orAgent(intSetting(5, 1)),
  /** Action samples per J estimate; null: the agent's own. */
  samples: orAgent(intSetting(10, 1)),
  ...STATE_SOURCE_SETTINGS,
};

/**
 * Rows: kind "plan" (iteration, t = 0..h, dim, value: the traced state's planned s_t) and kind "objective"
 * (iteration, j_mean, j_std over states). Needs an agent with model-based values.
 */
export function modelBasedPlanningEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(MODEL_BASED_PLANNING, SPECS, user);
  return {
    name: MODEL_BASED_PLANNING,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent = context.agent;
      const model = agent.model;
      if (!model) throw new ConfigError(`${MODEL_BASED_PLANNING}: the agent has model-free values; it needs valueEstimate "model-based" (a learned model)`);
      const count = settings.states as number;
      const traced = Math.min(settings.tracedState as number, count - 1);
      const { rng, states } = await estimatorStates(context, MODEL_BASED_PLANNING, settings, count);
      const samples = (settings.samples as number | null) ?? agent.config.samples;
      const evaluation = fixedNoiseObjective(agent, rng, samples, count);
      const objective = agentObjective(agent, rng.fork(), { purpose: "train", samples: null });
      const result = agent.optimizer.optimize(states, objective, { iterations: (settings.iterations as number | null) ?? undefined, evaluateFinal: false });
      const O = agent.spec.observationSize;
      const base = rowBase(MODEL_BASED_PLANNING, context.step, settings);
      const rows: AnalysisRow[] = [];
      try {
        const tracedState = tf.slice(states, [traced, 0], [1, O]) as tf.Tensor2D;
        result.trace.forEach(({ lambda }, iteration) => {
          const one = tf.tidy(() => ({ mean: tf.slice(lambda.mean, [traced, 0], [1, -1]) as tf.Tensor2D, logStd: tf.slice(lambda.logStd, [traced, 0], [1, -1]) as tf.Tensor2D }));
          model.plan(tracedState, one, agent.updates).forEach((s, t) => s.forEach((value, dim) => rows.push({ ...base, kind: "plan", state: traced, iteration, t, dim, value })));
          tf.dispose([one.mean, one.logStd]);
          const { mean, std } = meanAndStd(Array.from(objectiveValues(evaluation, states, lambda)));
          rows.push({ ...base, kind: "objective", iteration, j_mean: mean, j_std: std });
        });
        tracedState.dispose();
        return checkFiniteRows(rows);
      } finally {
        disposeOptimization(result);
        states.dispose();
      }
    },
  };
}
