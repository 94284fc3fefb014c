/**
 * The optimization landscape (Sec 2.3, 4.2.1, App A.1, B.3; Fig 1, 14): J (Eq. 7) at one on-policy state on a
 * grid over two dimensions of the policy mean μ, every other entry of λ held at the amortized estimate, with
 * the amortized estimate, the grid optimum, and the iterative optimizer's trajectory when it may only update
 * those two dimensions ("iterative amortization is additionally performed while preventing any updates to the
 * constant dimensions"). One fixed noise draw serves every grid point and the trajectory, so the surface is a
 * smooth function of μ and the trajectory moves on exactly the surface drawn. Several trajectories from random
 * starts on the grid show the optimizer reaching different modes of J from different initialisations (Fig 2).
 */
import { tf } from "../backend/tf";
import { ConfigError } from "../core/errors";
import type { Rng } from "../core/rng";
import type { IterativeAmortizedOptimizer } from "../policy/iterative";
import { objectiveAndGradient } from "../policy/iterative";
import type { PolicyObjective } from "../policy/objective";
import { disposePolicyParams, type PolicyParams } from "../policy/params";
import { sampleActions } from "./action-cloud";
import { agentObjective, amortizedLambda, drawFixedNoise, objectiveValues, statesTensor } from "./agent-objective";
import type { SacAgent } from "../agents/sac/agent";
import type { AnalysisContext, AnalysisRow, AnalysisValue, Estimator } from "./estimator";
import { STATE_SOURCE_SETTINGS, estimatorStates } from "./rollouts";
import { checkFiniteRows, rowBase } from "./rows";
import { intSetting, numberSetting, orAgent, resolveSettings, type SettingSpecs } from "./settings";

export interface LandscapeInput {
  /** One state, [1, obs]. */
  state: tf.Tensor2D;
  /** λ at that state, [1, |A|] each: the amortized estimate; the entries not on the grid stay at it. */
  center: PolicyParams;
  /**
   * J over a batch of copies of `state`. Must give every row the same noise (common random numbers) so the
   * grid is one surface: see `tiledFixedNoiseObjective`.
   */
  objective: (batch: number) => PolicyObjective;
  /** The two μ dimensions (0-based, distinct). */
  dims: [number, number];
  /** Grid points per dimension. */
  resolution: number;
  /** The grid spans [lo, hi] in each of the two dimensions of μ (pre-tanh). */
  range: [number, number];
  /** Grid points per objective call (memory bound). */
  chunk?: number;
  /**
   * An iterative optimizer whose trajectories to trace, updating only `dims` of μ; with its iteration count and
   * the starts, one per row of `start` ([runs, |A|]; only μ[dims] of a start matters, the rest is `center`).
   */
  trajectory?: { optimizer: IterativeAmortizedOptimizer; iterations: number; start: PolicyParams };
}

export interface LandscapeResult {
  /** Grid coordinates per dimension (`resolution` values each). */
  xs: number[];
  ys: number[];
  /** J on the grid, row-major [ys.length][xs.length]: j[iy * resolution + ix]. */
  j: Float64Array;
  /** The grid point with the largest J. */
  optimum: { x: number; y: number; j: number };
  /** The amortized estimate's coordinates and J. */
  amortized: { x: number; y: number; j: number };
  /** The restricted iterative trajectories, one per start (start first), or null. */
  trajectories: { x: number; y: number; j: number }[][] | null;
  /** λ where each trajectory ended, [runs · |A|] each (every entry, the held ones included), or null. */
  ends: { mean: Float32Array; logStd: Float32Array } | null;
}

function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (n - 1)));
}

/** `center` with μ[dims] replaced by each (x, y) of `points`, as a batch. */
function withMeans(center: PolicyParams, dims: [number, number], points: [number, number][]): PolicyParams {
  const A = center.mean.shape[1];
  const mu = center.mean.dataSync();
  const mean = new Float32Array(points.length * A);
  points.forEach(([x, y], i) => {
    mean.set(mu, i * A);
    mean[i * A + dims[0]] = x;
    mean[i * A + dims[1]] = y;
  });
  return { mean: tf.tensor2d(mean, [points.length, A]), logStd: tf.tile(center.logStd, [points.length, 1]) as tf.Tensor2D };
}

/** J at each point, in batches of `chunk`. */
function jAt(input: LandscapeInput, points: [number, number][]): Float64Array {
  const out = new Float64Array(points.length);
  const chunk = input.chunk ?? 1024;
  for (let at = 0; at < points.length; at += chunk) {
    const part = points.slice(at, at + chunk);
    const lambda = withMeans(input.center, input.dims, part);
    const states = tf.tile(input.state, [part.length, 1]) as tf.Tensor2D;
    out.set(objectiveValues(input.objective(part.length), states, lambda), at);
    tf.dispose([states]);
    disposePolicyParams(lambda);
  }
  return out;
}

/** J on the grid, the optimum, the amortized estimate and the restricted trajectory. */
export function optimizationLandscape(input: LandscapeInput): LandscapeResult {
  const [d0, d1] = input.dims;
  const A = input.center.mean.shape[1];
  if (!(Number.isInteger(d0) && Number.isInteger(d1) && d0 >= 0 && d1 >= 0 && d0 < A && d1 < A && d0 !== d1)) {
    throw new ConfigError(`landscape: dims must be two distinct action dimensions in [0, ${A - 1}], got [${d0}, ${d1}]${A < 2 ? " (this task has one action dimension, so there is no 2-D landscape)" : ""}`);
  }
  const xs = linspace(input.range[0], input.range[1], input.resolution);
  const ys = xs.slice();
  const grid: [number, number][] = [];
  for (const y of ys) for (const x of xs) grid.push([x, y]);
  const j = jAt(input, grid);
  let best = 0;
  for (let i = 1; i < j.length; i++) if (j[i] > j[best]) best = i;
  const mu = input.center.mean.dataSync();
  const point = (x: number, y: number, value: number): { x: number; y: number; j: number } => ({ x, y, j: value });
  const amortized = point(mu[d0], mu[d1], jAt(input, [[mu[d0], mu[d1]]])[0]);
  let trajectories: LandscapeResult["trajectories"] = null;
  let ends: LandscapeResult["ends"] = null;
  if (input.trajectory) {
    const { optimizer, iterations, start } = input.trajectory;
    const runs = start.mean.shape[0];
    // Only μ[dims] may move: everything else is reset to `center` after each step. The runs move as one batch
    // of copies of the state (the optimizer treats each row on its own).
    const mask = tf.tidy(() => tf.oneHot([d0, d1], A).sum(0).reshape([1, A]) as tf.Tensor2D);
    const states = tf.tile(input.state, [runs, 1]) as tf.Tensor2D;
    const hold = (lambda: PolicyParams): PolicyParams =>
      tf.tidy(() => ({ mean: tf.add(tf.mul(mask, lambda.mean), tf.mul(tf.sub(1, mask), input.center.mean)) as tf.Tensor2D, logStd: tf.tile(input.center.logStd, [runs, 1]) as tf.Tensor2D }));
    let lambda = hold(start);
    const objective = input.objective(runs);
    const paths: [number, number][][] = Array.from({ length: runs }, () => []);
    for (let k = 0; ; k++) {
      const m = lambda.mean.dataSync();
      paths.forEach((path, r) => path.push([m[r * A + d0], m[r * A + d1]]));
      if (k === iterations) break;
      const { terms, grad } = objectiveAndGradient(states, objective, lambda);
      const next = optimizer.step(states, lambda, grad);
      tf.dispose([terms.j, terms.q, terms.logProb, grad.mean, grad.logStd].filter((t) => t !== undefined));
      disposePolicyParams(lambda);
      lambda = hold(next);
      disposePolicyParams(next);
    }
    ends = { mean: Float32Array.from(lambda.mean.dataSync()), logStd: Float32Array.from(lambda.logStd.dataSync()) };
    disposePolicyParams(lambda);
    tf.dispose([mask, states]);
    trajectories = paths.map((path) => {
      const values = jAt(input, path);
      return path.map(([x, y], i) => point(x, y, values[i]));
    });
  }
  return { xs, ys, j, optimum: point(grid[best][0], grid[best][1], j[best]), amortized, trajectories, ends };
}

export const LANDSCAPE = "landscape";

const SPECS: SettingSpecs = {
  /** First μ dimension, 0-based (Fig 1: dimensions 1 and 3, i.e. 0 and 2). */
  dimX: intSetting(0, 0),
  dimY: intSetting(2, 0),
  /** Grid points per dimension. */
  resolution: intSetting(50, 2, 1000),
  /** The grid spans [-extent, extent] in μ (pre-tanh). */
  extent: numberSetting(3, 0, 100, true),
  /** Which of the on-policy states (index into the drawn states). */
  stateIndex: intSetting(0, 0),
  /** On-policy states drawn (the landscape uses one of them). */
  states: intSetting(1, 1),
  /** Iterative trajectory length (iterative agents). */
  iterations: intSetting(5, 0, 10_000),
  /**
   * Trajectories: 1 starts from λ0 (μ = 0) as the agent acts; more start from μ drawn uniformly over the grid
   * in the two plotted dimensions (Fig 2: "each square denotes an initialization").
   */
  starts: intSetting(1, 1, 1000),
  /** Actions sampled from the policy each trajectory ends at, in the two plotted dimensions (Fig 2's densities; 0: none). */
  cloudSamples: intSetting(0, 0, 100_000),
  /** Action samples of the fixed noise; null: the agent's own. */
  samples: orAgent(intSetting(10, 1), false),
  ...STATE_SOURCE_SETTINGS,
};

/** J for `batch` copies of one state with one noise draw [N, 1, |A|] repeated for every copy. */
export function tiledFixedNoise(noise: Float32Array, samples: number, actionSize: number, batch: number): Float32Array {
  const out = new Float32Array(samples * batch * actionSize);
  for (let n = 0; n < samples; n++) for (let b = 0; b < batch; b++) out.set(noise.subarray(n * actionSize, (n + 1) * actionSize), (n * batch + b) * actionSize);
  return out;
}

export function landscapeEstimator(user: Record<string, unknown> = {}): Estimator {
  const settings = landscapeSettings(user);
  return { name: LANDSCAPE, settings, run: (context) => agentLandscape(context, settings) };
}

/** The estimator's settings, resolved and checked (paper defaults for what `user` leaves out). */
function landscapeSettings(user: Record<string, unknown>): Record<string, AnalysisValue> {
  const settings = resolveSettings(LANDSCAPE, SPECS, user);
  if (settings.dimX === settings.dimY) throw new ConfigError(`${LANDSCAPE}: settings "dimX" and "dimY" must differ, both are ${String(settings.dimX)}`);
  if ((settings.stateIndex as number) >= (settings.states as number)) throw new ConfigError(`${LANDSCAPE}: setting "stateIndex" must be below "states" (${String(settings.states)})`);
  return settings;
}

/**
 * The landscape of the context's agent (its J, its on-policy state, its amortized estimate) with the trajectory
 * of `iterativeAgent`'s optimizer from λ0 on it (Fig 1: an iterative optimizer on a direct agent's landscape).
 * Rows as the estimator's, the trajectory rows labelled with the optimizer that made them.
 */
export async function landscapeWithOptimizer(context: AnalysisContext, iterativeAgent: SacAgent, user: Record<string, unknown> = {}): Promise<AnalysisRow[]> {
  if (iterativeAgent.config.optimizer !== "iterative") throw new ConfigError(`${LANDSCAPE}: the trajectory needs an iterative agent, got a ${iterativeAgent.config.optimizer} one`);
  if (iterativeAgent.spec.actionSize !== context.agent.spec.actionSize || iterativeAgent.spec.observationSize !== context.agent.spec.observationSize) {
    throw new ConfigError(`${LANDSCAPE}: the iterative agent was made for another task (observation ${iterativeAgent.spec.observationSize}, action ${iterativeAgent.spec.actionSize}) than the landscape's agent (${context.agent.spec.observationSize}, ${context.agent.spec.actionSize})`);
  }
  return agentLandscape(context, landscapeSettings(user), iterativeAgent);
}

/** The estimator's run: trajectory from `trajectoryAgent`'s optimizer (default: the agent's own, when iterative). */
async function agentLandscape(context: AnalysisContext, settings: Record<string, AnalysisValue>, trajectoryAgent?: SacAgent): Promise<AnalysisRow[]> {
  const agent = context.agent;
  const A = agent.spec.actionSize;
  for (const k of ["dimX", "dimY"]) {
    if ((settings[k] as number) >= A) throw new ConfigError(`${LANDSCAPE}: setting "${k}" (${String(settings[k])}) must be below the action size of ${context.env} (${A})`);
  }
  const drawn = await estimatorStates(context, LANDSCAPE, settings, settings.states as number);
  const rng = drawn.rng;
  drawn.states.dispose();
  const O = agent.spec.observationSize;
  const i = settings.stateIndex as number;
  const state = statesTensor(drawn.found.slice(i * O, (i + 1) * O), O);
  const samples = (settings.samples as number | null) ?? agent.config.samples;
  const noise = drawFixedNoise(rng, samples, 1, A);
  const objectiveFor = (batch: number): PolicyObjective => {
    const o = agentObjective(agent, rng.fork(), { purpose: "train", samples });
    o.setFixedNoise(tiledFixedNoise(noise, samples, A, batch));
    return o;
  };
  const center = amortizedLambda(agent, state, agentObjective(agent, rng.fork(), { purpose: "train", samples: null }));
  const mover = trajectoryAgent ?? agent;
  const iterative = mover.config.optimizer === "iterative" && (settings.iterations as number) > 0;
  const extent = settings.extent as number;
  const start = iterative ? trajectoryStarts(settings.starts as number, A, extent, mover.config.initialStd, rng) : null;
  try {
    const r = optimizationLandscape({
      state,
      center,
      objective: objectiveFor,
      dims: [settings.dimX as number, settings.dimY as number],
      resolution: settings.resolution as number,
      range: [-extent, extent],
      trajectory: start ? { optimizer: mover.optimizer as IterativeAmortizedOptimizer, iterations: settings.iterations as number, start } : undefined,
    });
    const base = rowBase(LANDSCAPE, context.step, settings);
    const rows = landscapeRows(base, r, agent.config.optimizer);
    if (trajectoryAgent) for (const row of rows) if (row.kind === "trajectory") row.optimizer = trajectoryAgent.config.optimizer;
    const samples = settings.cloudSamples as number;
    if (r.ends && samples > 0) rows.push(...cloudRows(base, r.ends, [settings.dimX as number, settings.dimY as number], A, samples, rng.fork(), i));
    return checkFiniteRows(rows);
  } finally {
    state.dispose();
    disposePolicyParams(center);
    if (start) disposePolicyParams(start);
  }
}

/**
 * Where the trajectories start, [starts, |A|]: one start is λ0 (μ = 0, σ = the optimizer's initial σ); several
 * have μ uniform in [−extent, extent] in every dimension (only the two plotted ones move; the rest is held).
 */
function trajectoryStarts(starts: number, actionSize: number, extent: number, initialStd: number, rng: Rng): PolicyParams {
  const mean = starts === 1 ? new Float32Array(actionSize) : (rng.fork().fillUniform(new Float32Array(starts * actionSize), -extent, extent) as Float32Array);
  return { mean: tf.tensor2d(mean, [starts, actionSize]), logStd: tf.fill([starts, actionSize], Math.log(initialStd)) as tf.Tensor2D };
}

/**
 * Fig 2's densities: for each trajectory's end λ, its action tanh(μ) ("estimate") and `samples` actions from its
 * π ("cloud"), in the two plotted dimensions, as `actionCloudChart` draws them.
 */
function cloudRows(base: ReturnType<typeof rowBase>, ends: NonNullable<LandscapeResult["ends"]>, dims: [number, number], A: number, samples: number, rng: Rng, state: number): AnalysisRow[] {
  const rows: AnalysisRow[] = [];
  const actions = sampleActions(ends.mean, ends.logStd, A, samples, rng);
  for (let run = 0; run < ends.mean.length / A; run++) {
    rows.push({ ...base, kind: "estimate", run, state, a_x: Math.tanh(ends.mean[run * A + dims[0]]), a_y: Math.tanh(ends.mean[run * A + dims[1]]) });
    for (let n = 0; n < samples; n++) {
      const k = (run * samples + n) * A;
      rows.push({ ...base, kind: "cloud", run, state, sample: n, a_x: actions[k + dims[0]], a_y: actions[k + dims[1]] });
    }
  }
  return rows;
}

/** Tidy rows: one per grid point ("grid"), the amortized estimate, the optimum, and each trajectory point (with its `run`). */
export function landscapeRows(base: ReturnType<typeof rowBase>, r: LandscapeResult, optimizer: string): AnalysisRow[] {
  const rows: AnalysisRow[] = [];
  const n = r.xs.length;
  r.j.forEach((j, k) => rows.push({ ...base, kind: "grid", mu_x: r.xs[k % n], mu_y: r.ys[Math.floor(k / n)], j }));
  rows.push({ ...base, kind: "amortized", optimizer, mu_x: r.amortized.x, mu_y: r.amortized.y, j: r.amortized.j });
  rows.push({ ...base, kind: "optimum", mu_x: r.optimum.x, mu_y: r.optimum.y, j: r.optimum.j, gap: r.optimum.j - r.amortized.j });
  r.trajectories?.forEach((path, run) => path.forEach((p, iteration) => rows.push({ ...base, kind: "trajectory", run, iteration, mu_x: p.x, mu_y: p.y, j: p.j })));
  return rows;
}
