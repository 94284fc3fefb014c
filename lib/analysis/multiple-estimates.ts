/**
 * Multiple policy estimates (Sec 3.2.1, App B.5; Fig 2, 18): the agent's policy optimizer run several times per
 * state, from different random starts and with its own stochastic gradients; the L2 distance between the
 * resulting deterministic actions tanh(μ) (B.5: two runs, 100 on-policy states; at most 2√|A|), and sampled
 * action clouds of each run for plotting (Fig 2's modes). A direct optimizer ignores the start and its estimate
 * has no noise, so its distance is exactly 0 (B.5).
 */
import { tf } from "../backend/tf";
import { meanAndStd } from "../core/stats";
import type { Rng } from "../core/rng";
import type { PolicyObjective } from "../policy/objective";
import { disposeOptimization, type PolicyOptimizer } from "../policy/optimizer";
import { sampleActions } from "./action-cloud";
import { agentObjective } from "./agent-objective";
import type { AnalysisContext, AnalysisRow, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, estimatorStates } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { intSetting, numberSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";
import { ConfigError } from "../core/errors";

export interface MultipleEstimatesInput {
  /** [batch, obs]. */
  states: tf.Tensor2D;
  optimizer: PolicyOptimizer;
  objective: PolicyObjective;
  /** Optimizer runs per state (B.5: 2). */
  runs: number;
  /** Iterations per run (undefined: the optimizer's acting count). */
  iterations?: number;
  /** Std of the random start μ0 ~ N(0, startSpread²) per run (0: the optimizer's own λ0 every run). */
  startSpread: number;
  /** σ of the start (the iterative optimizer's λ0 σ). */
  startStd: number;
  /** Draws the starts. */
  rng: Rng;
  /** Actions sampled from each run's π for the first `cloudStates` states (Fig 2). */
  cloudStates: number;
  cloudSamples: number;
}

export interface MultipleEstimatesResult {
  /** Mean over run pairs of ‖tanh μ_i − tanh μ_j‖₂, per state. */
  distance: Float64Array;
  mean: number;
  std: number;
  /** tanh(μ) per run, [runs][batch · |A|]. */
  actions: Float32Array[];
  /** Sampled actions per run for the cloud states: [runs][cloudStates · cloudSamples · |A|] (state-major). */
  clouds: Float32Array[];
}

export function multipleEstimates(input: MultipleEstimatesInput): MultipleEstimatesResult {
  const [batch] = input.states.shape;
  const A = input.objective.actionSize;
  const actions: Float32Array[] = [];
  const clouds: Float32Array[] = [];
  const cloudStates = Math.min(input.cloudStates, batch);
  for (let r = 0; r < input.runs; r++) {
    const start = {
      mean: tf.tensor2d(input.rng.fillNormal(new Float32Array(batch * A), 0, input.startSpread) as Float32Array, [batch, A]),
      logStd: tf.fill([batch, A], Math.log(input.startStd)) as tf.Tensor2D,
    };
    const result = input.optimizer.optimize(input.states, input.objective, { init: start, iterations: input.iterations, evaluateFinal: false });
    const { mean, logStd } = result.lambda;
    actions.push(tf.tidy(() => Float32Array.from(tf.tanh(mean).dataSync() as Float32Array)));
    clouds.push(sampleActions(mean.dataSync().subarray(0, cloudStates * A), logStd.dataSync().subarray(0, cloudStates * A), A, input.cloudSamples, input.rng));
    disposeOptimization(result);
    tf.dispose([start.mean, start.logStd]);
  }
  const distance = new Float64Array(batch);
  let pairs = 0;
  for (let i = 0; i < input.runs; i++) {
    for (let j = i + 1; j < input.runs; j++) {
      pairs++;
      for (let s = 0; s < batch; s++) {
        let d2 = 0;
        for (let a = 0; a < A; a++) d2 += (actions[i][s * A + a] - actions[j][s * A + a]) ** 2;
        distance[s] += Math.sqrt(d2);
      }
    }
  }
  for (let s = 0; s < batch; s++) distance[s] /= pairs;
  return { distance, ...meanAndStd(Array.from(distance)), actions, clouds };
}

export const MULTIPLE_ESTIMATES = "multiple-estimates";

const SPECS: SettingSpecs = {
  /** On-policy states (B.5: 100). */
  states: intSetting(100, 1),
  /** Optimizer runs per state (B.5: 2). */
  runs: intSetting(2, 2, 100),
  /** Iterations per run; null: the agent's acting iterations. */
  iterations: orAgent(intSetting(5, 1)),
  /** Std of the random start of μ (Sec 3.2.1: "stochastic gradients and random initialization"). */
  startSpread: numberSetting(1, 0, 100),
  /** Action samples per J estimate; null: the agent's own. */
  samples: orAgent(intSetting(1, 1)),
  /** States whose action clouds are kept (Fig 2), and samples per run per state. */
  cloudStates: intSetting(1, 0),
  cloudSamples: intSetting(100, 1, 100_000),
  /** The two action dimensions the cloud rows carry (Fig 2 plots two). */
  dimX: intSetting(0, 0),
  dimY: intSetting(1, 0),
  ...STATE_SOURCE_SETTINGS,
};

export function multipleEstimatesEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = resolveSettings(MULTIPLE_ESTIMATES, SPECS, user);
  return {
    name: MULTIPLE_ESTIMATES,
    settings,
    async run(context: AnalysisContext): Promise<AnalysisRow[]> {
      const agent = context.agent;
      const A = agent.spec.actionSize;
      const dims = [settings.dimX as number, settings.dimY as number].map((d) => Math.min(d, A - 1));
      if ((settings.dimX as number) >= A || ((settings.dimY as number) >= A && A > 1)) {
        throw new ConfigError(`${MULTIPLE_ESTIMATES}: settings "dimX"/"dimY" (${String(settings.dimX)}, ${String(settings.dimY)}) must be below the action size of ${context.env} (${A})`);
      }
      const count = settings.states as number;
      const { rng, states } = await estimatorStates(context, MULTIPLE_ESTIMATES, settings, count);
      try {
        const r = multipleEstimates({
          states,
          optimizer: agent.optimizer,
          objective: agentObjective(agent, rng.fork(), { purpose: "act", samples: settings.samples as number | null }),
          runs: settings.runs as number,
          iterations: (settings.iterations as number | null) ?? undefined,
          startSpread: settings.startSpread as number,
          startStd: agent.config.initialStd,
          rng: rng.fork(),
          cloudStates: settings.cloudStates as number,
          cloudSamples: settings.cloudSamples as number,
        });
        const base = rowBase(MULTIPLE_ESTIMATES, context.step, settings);
        const rows: AnalysisRow[] = [{ ...base, kind: "summary", distance_mean: r.mean, distance_std: r.std, distance_max: 2 * Math.sqrt(A), states: count }];
        r.distance.forEach((d, s) => rows.push({ ...base, kind: "state", state: s, distance: d }));
        const n = settings.cloudSamples as number;
        r.clouds.forEach((cloud, run) => {
          for (let k = 0; k < cloud.length / A; k++) {
            rows.push({ ...base, kind: "cloud", run, state: Math.floor(k / n), sample: k % n, a_x: cloud[k * A + dims[0]], a_y: cloud[k * A + dims[1]] });
          }
        });
        r.actions.forEach((a, run) => {
          for (let s = 0; s < Math.min(count, settings.cloudStates as number); s++) rows.push({ ...base, kind: "estimate", run, state: s, a_x: a[s * A + dims[0]], a_y: a[s * A + dims[1]] });
        });
        return checkFiniteRows(rows);
      } finally {
        states.dispose();
      }
    },
  };
}
