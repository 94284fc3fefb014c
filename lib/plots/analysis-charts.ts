/**
 * Charts of the estimators' tidy rows (what `iapo analyze` writes to analysis.jsonl, or an estimator's `run`
 * returns): one builder per figure of the paper. Each takes plain rows, keeps the rows of the kind it draws and
 * the scalar fields it needs, and declares any mean ± std (over states and seeds) in the spec. J is in the
 * units of the return (reward summed with γ, less α·KL); steps are environment steps.
 */
import { lineChart, meanStdChart, type Row, type VegaLiteSpec } from "./spec";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Any rows, e.g. AnalysisRow (non-scalar fields such as `settings` are dropped). */
export type AnalysisRows = readonly Record<string, unknown>[];

/** The scalar fields of the rows with `kind` (all rows when null), keeping only those passing `where`. */
function scalarRows(rows: AnalysisRows, kind: string | null, where: (r: Record<string, unknown>) => boolean = () => true): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    if ((kind !== null && r.kind !== kind) || !where(r)) continue;
    const row: Row = {};
    for (const [k, v] of Object.entries(r)) if (v === null || ["string", "number", "boolean"].includes(typeof v)) row[k] = v as Row[string];
    out.push(row);
  }
  return out;
}

/** The top of a hand-built spec: schema, the title (`o.title` or the chart's own) and the size. */
function frame(o: AnalysisChartOptions, title: string, width = 480, height = 260): VegaLiteSpec {
  return { $schema: SCHEMA, title: o.title ?? title, width: o.width ?? width, height: o.height ?? height };
}

export interface AnalysisChartOptions {
  /** Column giving one curve each (default per chart: "variant", "optimizer", ...). Rows may carry e.g. a run group. */
  color?: string;
  title?: string;
  width?: number;
  height?: number;
}

/** Fig 6, 16, 17b: the amortization gap per state over training, mean ± std over states and seeds. */
export function amortizationGapChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return meanStdChart(scalarRows(rows, "state"), {
    x: "step", y: "gap", color: o.color ?? "variant", points: true, width: o.width, height: o.height,
    title: o.title ?? "Amortization gap", xTitle: "environment steps", yTitle: "J(optimised) − J(amortized) (return units)",
  });
}

/** The gap's Adam ascent: mean J over states against Adam step, one line per analysed training step (did it converge?). */
export function gapAscentChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return lineChart(scalarRows(rows, "trace"), {
    x: "iteration", y: "j_mean", color: o.color ?? "step", width: o.width, height: o.height,
    title: o.title ?? "Gradient ascent on λ", xTitle: "Adam steps on λ", yTitle: "mean J over states (return units)",
  });
}

/** Fig 18: L2 distance between the tanh(μ) of separate optimizer runs, mean ± std over states and seeds. */
export function multipleEstimatesChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return meanStdChart(scalarRows(rows, "state"), {
    x: "step", y: "distance", color: o.color, points: true, width: o.width, height: o.height,
    title: o.title ?? "Distance between policy means", xTitle: "environment steps", yTitle: "‖tanh μ₁ − tanh μ₂‖₂ (action units)",
  });
}

/** Fig 2: actions sampled from each optimizer run's policy at one state and step, with each run's tanh(μ). */
export function actionCloudChart(rows: AnalysisRows, state = 0, step?: number, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const at = (r: Record<string, unknown>): boolean => r.state === state && (step === undefined || r.step === step);
  const axes = {
    x: { field: "a_x", type: "quantitative", title: "action dimension x", scale: { domain: [-1, 1] } },
    y: { field: "a_y", type: "quantitative", title: "action dimension y", scale: { domain: [-1, 1] } },
    color: { field: "run", type: "nominal", title: "optimizer run" },
  };
  return {
    ...frame(o, "Multiple policy estimates", 320, 320),
    layer: [
      { data: { values: scalarRows(rows, "cloud", at) }, mark: { type: "point", opacity: 0.4, size: 12 }, encoding: axes },
      { data: { values: scalarRows(rows, "estimate", at) }, mark: { type: "point", shape: "diamond", filled: true, size: 150, stroke: "black" }, encoding: axes },
    ],
  };
}

/** A five-pointed star as an SVG path for vega-lite's `shape`. */
const STAR = "M0,-1L0.24,-0.31L0.95,-0.31L0.38,0.12L0.59,0.81L0,0.38L-0.59,0.81L-0.38,0.12L-0.95,-0.31L-0.24,-0.31Z";

/**
 * Fig 1, 2, 14: J over two dimensions of μ at one state and step as a heatmap, with the amortized estimate
 * (diamond), the grid optimum (star) and the restricted iterative trajectories (white dots outlined in black,
 * each run joined in order, so they show on every part of the heatmap), each starting at a white square.
 */
export function landscapeChart(rows: AnalysisRows, step?: number, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const at = (r: Record<string, unknown>): boolean => step === undefined || r.step === step;
  const grid = scalarRows(rows, "grid", at);
  const xs = [...new Set(grid.map((r) => r.mu_x as number))].sort((a, b) => a - b);
  const ys = [...new Set(grid.map((r) => r.mu_y as number))].sort((a, b) => a - b);
  const half = (v: number[]): number => (v.length > 1 ? (v[1] - v[0]) / 2 : 0.5); // cell half-width: layout, not data
  const [hx, hy] = [half(xs), half(ys)];
  const x = { field: "mu_x", type: "quantitative", title: "μ, first chosen dimension (pre-tanh)", scale: { zero: false, nice: false } };
  const y = { field: "mu_y", type: "quantitative", title: "μ, second chosen dimension (pre-tanh)", scale: { zero: false, nice: false } };
  return {
    ...frame(o, "Optimization landscape", 360, 360),
    layer: [
      {
        data: { values: grid },
        transform: [
          { calculate: `datum.mu_x - ${hx}`, as: "x0" }, { calculate: `datum.mu_x + ${hx}`, as: "x1" },
          { calculate: `datum.mu_y - ${hy}`, as: "y0" }, { calculate: `datum.mu_y + ${hy}`, as: "y1" },
        ],
        mark: "rect",
        encoding: {
          x: { ...x, field: "x0" }, x2: { field: "x1" }, y: { ...y, field: "y0" }, y2: { field: "y1" },
          color: { field: "j", type: "quantitative", title: "J (return units)", scale: { scheme: "viridis" } },
        },
      },
      { data: { values: scalarRows(rows, "trajectory", at) }, mark: { type: "line", point: { filled: true, color: "white", stroke: "black", strokeWidth: 1 }, color: "white" }, encoding: { x, y, detail: { field: "run", type: "nominal" }, order: { field: "iteration", type: "quantitative" } } },
      { data: { values: scalarRows(rows, "trajectory", (r) => at(r) && r.iteration === 0) }, mark: { type: "square", filled: true, size: 90, color: "white", stroke: "black", strokeWidth: 1 }, encoding: { x, y } },
      { data: { values: scalarRows(rows, "amortized", at) }, mark: { type: "point", shape: "diamond", filled: true, size: 160, color: "black" }, encoding: { x, y } },
      { data: { values: scalarRows(rows, "optimum", at) }, mark: { type: "point", shape: STAR, filled: true, size: 260, color: "red" }, encoding: { x, y } },
    ],
  };
}

/** Fig 4c, 13: J against iteration (mean ± std over states' means across seeds), one curve per optimizer. */
export function optimizerComparisonChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return meanStdChart(scalarRows(rows, null, (r) => typeof r.j_mean === "number" && typeof r.iteration === "number"), {
    x: "iteration", y: "j_mean", color: o.color ?? "optimizer", width: o.width, height: o.height,
    title: o.title ?? "Policy optimizers", xTitle: "optimization iterations", yTitle: "mean J over states (return units)",
  });
}

/** B.2's wall-clock comparison: mean J against mean elapsed seconds per iteration, one line per optimizer. */
export function optimizerTimeChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const color = o.color ?? "optimizer";
  return {
    ...frame(o, "Policy optimizers against time"),
    data: { values: scalarRows(rows, null, (r) => typeof r.seconds === "number" && typeof r.j_mean === "number") },
    transform: [{ aggregate: [{ op: "mean", field: "seconds", as: "seconds" }, { op: "mean", field: "j_mean", as: "j_mean" }], groupby: [color, "iteration"] }],
    mark: { type: "line", point: false },
    encoding: {
      x: { field: "seconds", type: "quantitative", title: "wall-clock time (s)" },
      y: { field: "j_mean", type: "quantitative", title: "mean J over states (return units)", scale: { zero: false } },
      color: { field: color, type: "nominal" },
      order: { field: "iteration", type: "quantitative" },
    },
  };
}

/** Fig 15, 16: evaluation return with and without test-time optimization, mean ± std over episodes and seeds. */
export function testTimeChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return meanStdChart(scalarRows(rows, "episode"), {
    x: "step", y: "return", color: o.color ?? "variant", points: true, width: o.width, height: o.height,
    title: o.title ?? "Test-time optimization", xTitle: "environment steps", yTitle: "evaluation return",
  });
}

export interface TestTimeGainOptions extends AnalysisChartOptions {
  /** "j": J gain, J(refined) − J(amortized) per on-policy state; "return": return(refined) − return(amortized) per episode seed. */
  measure?: "j" | "return";
  /** "step": over training; "extra_steps": against the refinement's budget (Adam steps or amortized iterations). */
  x?: "step" | "extra_steps";
}

/**
 * Sec 4.2.3, App B.4: what test-time refinement changes, paired with the amortized policy (same states and J noise,
 * same episode seeds), mean ± std over states or episodes and seeds; a dashed line at no change.
 */
export function testTimeGainChart(rows: AnalysisRows, o: TestTimeGainOptions = {}): VegaLiteSpec {
  const [kind, y, yTitle] = (o.measure ?? "j") === "j"
    ? ["state", "j_gain", "J gain per state (return units)"]
    : ["episode", "return_change", "return change per episode"];
  const x = o.x ?? "step";
  const spec = meanStdChart(scalarRows(rows, kind, (r) => typeof r[y] === "number"), {
    x, y, color: o.color ?? "variant", points: true, width: o.width, height: o.height,
    title: o.title ?? "Test-time refinement", yTitle,
    xTitle: x === "step" ? "environment steps" : "extra steps at evaluation (Adam steps or amortized iterations)",
  });
  return { ...spec, layer: [...(spec.layer as unknown[]), { mark: { type: "rule", strokeDash: [4, 4], color: "gray" }, encoding: { y: { datum: 0 } } }] };
}

/** Fig 4a: one dimension of the traced state's μ over training, one line per optimizer iteration. */
export function lambdaTraceChart(rows: AnalysisRows, dim = 0, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return lineChart(scalarRows(rows, "lambda", (r) => r.dim === dim), {
    x: "step", y: "mu", color: o.color ?? "iteration", points: true, width: o.width, height: o.height,
    title: o.title ?? `Policy mean, dimension ${dim}, across iterations`, xTitle: "environment steps", yTitle: "μ (pre-tanh)",
  });
}

/**
 * Fig 4a: one dimension of π along an episode (the per-iteration estimator's "episode-lambda" rows): μ at each
 * time step after each iteration, a band of ± σ around it, darker for later iterations.
 */
export function episodeLambdaChart(rows: AnalysisRows, dim = 0, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const color = o.color ?? "iteration";
  const x = { field: "t", type: "quantitative", title: "time step of the episode" };
  const shade = { field: color, type: "ordinal", scale: { scheme: { name: "blues", extent: [0.3, 1] } } };
  return {
    ...frame(o, `Policy, dimension ${dim}, across iterations`),
    data: { values: scalarRows(rows, "episode-lambda", (r) => r.dim === dim) },
    transform: [{ calculate: "datum.mu - datum.sigma", as: "low" }, { calculate: "datum.mu + datum.sigma", as: "high" }],
    layer: [
      { mark: { type: "area", opacity: 0.15 }, encoding: { x, y: { field: "low", type: "quantitative", title: "μ ± σ (pre-tanh action units)" }, y2: { field: "high" }, color: shade } },
      { mark: { type: "line" }, encoding: { x, y: { field: "mu", type: "quantitative" }, color: shade } },
    ],
  };
}

/** Fig 4b: ΔJ of each iteration at each time step of an episode (the per-iteration estimator's "episode-improvement" rows). */
export function episodeImprovementChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return {
    ...frame(o, "Improvement per iteration along an episode"),
    data: { values: scalarRows(rows, "episode-improvement") },
    mark: { type: "line" },
    encoding: {
      x: { field: "t", type: "quantitative", title: "time step of the episode" },
      y: { field: "dj", type: "quantitative", title: "ΔJ = J(λ_k) − J(λ_k−1) (return units)" },
      color: { field: o.color ?? "iteration", type: "ordinal", title: "iteration k", scale: { scheme: { name: "blues", extent: [0.3, 1] } } },
    },
  };
}

/**
 * Fig 4b, 12: ΔJ of each iteration over training, mean ± std over seeds: from the live estimator's
 * "improvement" rows (field dj_mean) or from `improvementOverTraining` on logs (field value).
 */
export function improvementChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const live = rows.some((r) => r.kind === "improvement");
  return meanStdChart(live ? scalarRows(rows, "improvement") : scalarRows(rows, null), {
    x: "step", y: live ? "dj_mean" : "value", color: o.color ?? "iteration", width: o.width, height: o.height,
    title: o.title ?? "Improvement per iteration", xTitle: "environment steps", yTitle: "ΔJ per iteration (return units)",
  });
}

/**
 * Fig 12: the improvement in J from all of a step's iterations, J(λ_K) − J(λ_0), over training, one line per
 * seed: the per-iteration rows of `improvementOverTraining` (field value) summed over iterations in the spec.
 */
export function totalImprovementChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const color = o.color ?? "seed";
  return {
    ...frame(o, "Improvement per step"),
    data: { values: scalarRows(rows, null, (r) => typeof r.value === "number" && typeof r.iteration === "number") },
    transform: [{ aggregate: [{ op: "sum", field: "value", as: "total" }], groupby: [...new Set([color, "group", "step"])] }],
    mark: { type: "line", point: false },
    encoding: {
      x: { field: "step", type: "quantitative", title: "environment steps" },
      y: { field: "total", type: "quantitative", title: "J(λ_K) − J(λ_0), mean over a batch (return units)" },
      color: { field: color, type: "nominal" },
      detail: { field: "group", type: "nominal" },
    },
  };
}

/**
 * Fig 3a: value bias Q̂(s, a) − Q_MC(s, a) over training, one curve per Q estimate (the pessimistic Q̂ of Eq. 12,
 * Q1, Q2; or per `color`): the line is the mean over pairs (averaged over seeds), the band ± the std over pairs.
 */
export function valueBiasChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const color = o.color ?? "q";
  const encoding = {
    x: { field: "step", type: "quantitative", title: "environment steps" },
    color: { field: color, type: "nominal" },
  };
  return {
    ...frame(o, "Value bias"),
    data: { values: scalarRows(rows, null, (r) => typeof r.biasMean === "number" && typeof r.biasStd === "number") },
    transform: [
      { calculate: "datum.biasMean - datum.biasStd", as: "low" },
      { calculate: "datum.biasMean + datum.biasStd", as: "high" },
      { aggregate: [{ op: "mean", field: "biasMean", as: "bias" }, { op: "mean", field: "low", as: "low" }, { op: "mean", field: "high", as: "high" }], groupby: [color, "step"] },
    ],
    layer: [
      { mark: { type: "area", opacity: 0.25 }, encoding: { ...encoding, y: { field: "low", type: "quantitative", title: "estimated Q(s, a) − Monte Carlo Q(s, a) (return units)" }, y2: { field: "high" } } },
      { mark: { type: "line", point: true }, encoding: { ...encoding, y: { field: "bias", type: "quantitative" } } },
      { mark: { type: "rule", strokeDash: [4, 4], color: "gray" }, encoding: { y: { datum: 0 } } },
    ],
  };
}

/**
 * Fig 3b: KL(π_t ‖ π_previous) on fixed states between consecutive analysed steps, mean ± std over seeds: the
 * policy-change rows (as logged, or flat from `loggedAnalysisRows`) that have a previous step.
 */
export function policyChangeChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return meanStdChart(scalarRows(rows, null, (r) => (r.estimator === undefined || r.estimator === "policy-change") && typeof r.kl_mean === "number"), {
    x: "step", y: "kl_mean", color: o.color, points: true, width: o.width, height: o.height,
    title: o.title ?? "Policy change", xTitle: "environment steps", yTitle: "KL(π_t ‖ π_previous) (nats)",
  });
}


/** True for rows of `estimator` as it returns them, and for rows as `loggedAnalysisRows` reads them (without the name). */
function ofEstimator(r: Record<string, unknown>, estimator: string): boolean {
  return r.estimator === undefined || r.estimator === estimator;
}

/** Fig 8a: evaluation return over training per optimizer and value estimate (curve rows grouped by `byOptimizerAndValue`), mean ± std over seeds. */
export function modelBasedPerformanceChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return meanStdChart(scalarRows(rows, null), {
    x: "step", y: "value", color: o.color ?? "group", width: o.width, height: o.height,
    title: o.title ?? "Model-based value estimates", xTitle: "environment steps", yTitle: "evaluation return",
  });
}

/**
 * Fig 8b: one dimension of the traced state's planned trajectory s_0..s_h (model-based-planning rows), one line
 * per optimizer iteration, at one analysed step (default: the last in the rows).
 */
export function plannedTrajectoryChart(rows: AnalysisRows, dim = 0, step?: number, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const plans = scalarRows(rows, "plan", (r) => ofEstimator(r, "model-based-planning") && r.dim === dim);
  const at = step ?? Math.max(...plans.map((r) => r.step as number));
  return lineChart(plans.filter((r) => r.step === at), {
    x: "t", y: "value", color: o.color ?? "iteration", points: true, width: o.width, height: o.height,
    title: o.title ?? `Planned trajectory, state dimension ${dim}, across iterations`, xTitle: "model steps ahead", yTitle: `s[${dim}] predicted by the model`,
  });
}

/** Fig 8c: J on the model-based estimate across optimizer iterations (mean over states), one line per analysed step. */
export function modelBasedObjectiveChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  return lineChart(scalarRows(rows, "objective", (r) => ofEstimator(r, "model-based-planning")), {
    x: "iteration", y: "j_mean", color: o.color ?? "step", points: true, width: o.width, height: o.height,
    title: o.title ?? "Model-based objective across iterations", xTitle: "optimizer iteration", yTitle: "mean J over states (return units)",
  });
}

/** "model-free" → "MF", "model-based" → "MB", as Fig 8d's legend names them. */
const short = (estimate: unknown): string => (estimate === "model-free" ? "MF" : estimate === "model-based" ? "MB" : String(estimate));

/** Fig 8d: evaluation return of each optimizer (trained on model-free or model-based values) on each value estimate, mean ± std over seeds. */
export function zeroShotTransferChart(rows: AnalysisRows, o: AnalysisChartOptions = {}): VegaLiteSpec {
  const labelled = scalarRows(rows, "return", (r) => ofEstimator(r, "zero-shot-transfer") && r.optimizer_trained_on !== undefined).map((r) => ({ ...r, pair: `${short(r.optimizer_trained_on)} optimizer on ${short(r.value_estimate)} values` }));
  return meanStdChart(labelled, {
    x: "step", y: "return_mean", color: o.color ?? "pair", points: true, width: o.width, height: o.height,
    title: o.title ?? "Zero-shot transfer", xTitle: "environment steps", yTitle: "evaluation return",
  });
}
