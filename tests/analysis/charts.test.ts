/** The estimators' charts: each keeps only its kind of rows and their scalar fields, and renders with labelled axes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as vega from "vega";
import * as vl from "vega-lite";
import {
  actionCloudChart, amortizationGapChart, episodeImprovementChart, episodeLambdaChart, gapAscentChart, improvementChart, lambdaTraceChart, landscapeChart,
  multipleEstimatesChart, optimizerComparisonChart, optimizerTimeChart, policyChangeChart, testTimeChart, testTimeGainChart, toSvg, totalImprovementChart, valueBiasChart,
  type VegaLiteSpec,
} from "../../lib/plots";

const settings = { states: 2 };
const base = (estimator: string, step: number): Record<string, unknown> => ({ estimator, step, settings });

const gapRows = [100, 200].flatMap((step) => [
  { ...base("amortization-gap", step), kind: "summary", variant: "amortized", gap_mean: 0.5 },
  ...[0, 1].map((state) => ({ ...base("amortization-gap", step), kind: "state", variant: "amortized", state, gap: state + step / 100 })),
  ...[0, 1, 2].map((iteration) => ({ ...base("amortization-gap", step), kind: "trace", variant: "amortized", iteration, j_mean: iteration })),
]);
const landscapeRows = [
  ...[-1, 0, 1].flatMap((mu_y) => [-1, 0, 1].map((mu_x) => ({ ...base("landscape", 5), kind: "grid", mu_x, mu_y, j: -(mu_x ** 2) - mu_y ** 2 }))),
  { ...base("landscape", 5), kind: "amortized", mu_x: 0.5, mu_y: -0.5, j: -0.5 },
  { ...base("landscape", 5), kind: "optimum", mu_x: 0, mu_y: 0, j: 0, gap: 0.5 },
  ...[0, 1].flatMap((run) => [0, 1].map((iteration) => ({ ...base("landscape", 5), kind: "trajectory", run, iteration, mu_x: 1 - iteration - run, mu_y: 1 - iteration, j: 0 }))),
];
const multiRows = [
  { ...base("multiple-estimates", 1), kind: "state", state: 0, distance: 0.1 },
  ...[0, 1].flatMap((run) => [0, 1].map((sample) => ({ ...base("multiple-estimates", 1), kind: "cloud", run, state: 0, sample, a_x: 0.1 * sample, a_y: -0.1 * run }))),
  ...[0, 1].map((run) => ({ ...base("multiple-estimates", 1), kind: "estimate", run, state: 0, a_x: 0, a_y: run / 2 })),
];
const comparisonRows = ["iterative", "adam"].flatMap((optimizer) => [0, 1, 2].map((iteration) => ({ ...base("optimizer-comparison", 1), optimizer, iteration, j_mean: iteration, j_std: 0, seconds: iteration / 10 })));
const testTimeRows = ["amortized", "adam+50"].flatMap((variant) => [0, 1].map((episode) => ({ ...base("test-time", 9), kind: "episode", variant, episode, return: episode * 10, length: 5 })));
// the refined variant's episodes carry return_change and its states j_gain; the amortized variant's do not
const testTimePaired = [
  ...testTimeRows.map((r) => (r.variant === "adam+50" ? { ...r, extra_steps: 50, return_change: 1 } : { ...r, extra_steps: 0 })),
  ...["amortized", "adam+50"].flatMap((variant) => [0, 1, 2].map((state) => ({ ...base("test-time", 9), kind: "state", variant, state, extra_steps: variant === "amortized" ? 0 : 50, j: -state, ...(variant === "amortized" ? {} : { j_gain: 0.1 * state }) }))),
];
const iterationRows = [0, 1].flatMap((iteration) => [
  { ...base("per-iteration", 3), kind: "lambda", state: 0, iteration, dim: 0, mu: iteration, sigma: 1, action: 0 },
  { ...base("per-iteration", 3), kind: "lambda", state: 0, iteration, dim: 1, mu: 9, sigma: 1, action: 0 },
  { ...base("per-iteration", 3), kind: "improvement", iteration: iteration + 1, dj_mean: 0.2, dj_std: 0.1 },
]);
const episodeRows = [0, 1, 2].flatMap((t) => [0, 1].flatMap((iteration) => [
  ...[0, 1].map((dim) => ({ ...base("per-iteration", 3), kind: "episode-lambda", t, iteration, dim, mu: t - iteration, sigma: 0.5, action: 0 })),
  ...(iteration > 0 ? [{ ...base("per-iteration", 3), kind: "episode-improvement", t, iteration, dj: 0.1 * t }] : []),
]));
/** `improvementOverTraining` rows: ΔJ of iteration k at each step and seed. */
const loggedImprovement = [0, 1].flatMap((seed) => [10, 20].flatMap((step) => [1, 2, 3].map((iteration) => ({ step, seed, iteration, group: "iterative", env: "E", run: `r${seed}`, value: seed * 10 + (step / 10) * iteration }))));

const valueBiasRows = [100, 200].flatMap((step) => ["pessimistic", "q1", "q2"].map((q) => ({ ...base("value-bias", step), q, biasMean: step / 100, biasStd: 0.5, qMean: 1, mcMean: 0 })));
const policyChangeRows = [
  { ...base("policy-change", 100), previous_step: null, kl_mean: null, kl_std: null, kl_max: null },
  { ...base("policy-change", 200), previous_step: 100, kl_mean: 0.2, kl_std: 0.1, kl_max: 0.4 },
  { ...base("value-bias", 200), q: "q1", biasMean: 3, biasStd: 1 },
];

/** Every `data.values` array in a spec and its layers. */
function dataOf(spec: VegaLiteSpec): Record<string, unknown>[][] {
  const own = spec.data ? [(spec.data as { values: Record<string, unknown>[] }).values] : [];
  return [...own, ...((spec.layer as VegaLiteSpec[] | undefined) ?? []).flatMap(dataOf)];
}

test("each analysis chart keeps its kind of rows, drops the settings object, and renders with its axis titles", async () => {
  const cases: [VegaLiteSpec, number[], string[]][] = [
    [amortizationGapChart(gapRows), [4], ["environment steps", "J(optimised) − J(amortized)"]],
    [gapAscentChart(gapRows), [6], ["Adam steps on λ", "mean J over states"]],
    [landscapeChart(landscapeRows), [9, 4, 2, 1, 1], ["μ, first chosen dimension", "J (return units)"]],
    [multipleEstimatesChart(multiRows), [1], ["‖tanh μ₁ − tanh μ₂‖₂"]],
    [actionCloudChart(multiRows), [4, 2], ["action dimension x", "optimizer run"]],
    [optimizerComparisonChart(comparisonRows), [6], ["optimization iterations"]],
    [optimizerTimeChart(comparisonRows), [6], ["wall-clock time (s)"]],
    [testTimeChart(testTimeRows), [4], ["evaluation return"]],
    [testTimeGainChart(testTimePaired), [3], ["environment steps", "J gain per state (return units)"]],
    [testTimeGainChart(testTimePaired, { measure: "return", x: "extra_steps" }), [2], ["extra steps at evaluation", "return change per episode"]],
    [lambdaTraceChart(iterationRows, 0), [2], ["μ (pre-tanh)"]],
    [improvementChart(iterationRows), [2], ["ΔJ per iteration"]],
    [episodeLambdaChart(episodeRows, 1), [6], ["time step of the episode", "μ ± σ (pre-tanh action units)"]],
    [episodeImprovementChart(episodeRows), [3], ["time step of the episode", "ΔJ = J(λ_k) − J(λ_k−1)", "iteration k"]],
    [totalImprovementChart(loggedImprovement), [12], ["environment steps", "J(λ_K) − J(λ_0)"]],
    [valueBiasChart(valueBiasRows), [6], ["environment steps", "estimated Q(s, a) − Monte Carlo Q(s, a)"]],
    [policyChangeChart(policyChangeRows), [1], ["KL(π_t ‖ π_previous)"]],
    // rows flattened by loggedAnalysisRows carry no estimator name
    [policyChangeChart(policyChangeRows.slice(0, 2).map((r: Record<string, unknown>) => ({ ...r, estimator: undefined }))), [1], ["KL(π_t ‖ π_previous)"]],
  ];
  for (const [spec, counts, titles] of cases) {
    const data = dataOf(spec);
    assert.deepEqual(data.map((d) => d.length), counts, String(spec.title));
    for (const d of data) for (const r of d) assert.equal(r.settings, undefined);
    const svg = await toSvg(spec);
    for (const t of titles) assert.ok(svg.includes(t.replace(/&/g, "&amp;")), `${String(spec.title)}: missing "${t}"`);
  }
});

/** The rows a chart draws after its own transforms, as vega computes them (dataset `name` of the compiled spec). */
async function computed(spec: VegaLiteSpec, name = "data_0"): Promise<Record<string, unknown>[]> {
  const view = new vega.View(vega.parse(vl.compile(spec as unknown as vl.TopLevelSpec).spec), { renderer: "none" });
  try {
    await view.runAsync();
    return view.data(name) as Record<string, unknown>[];
  } finally {
    view.finalize();
  }
}

test("Fig 12's chart sums the iterations' ΔJ at each step, one line per seed", async () => {
  const totals = (await computed(totalImprovementChart(loggedImprovement))).map((r) => [r.seed, r.step, r.total]);
  // seed s, step n: Σ_k (10 s + k n / 10) = 30 s + 6 n / 10
  assert.deepEqual(totals, [[0, 10, 6], [0, 20, 12], [1, 10, 36], [1, 20, 42]]);
  const spec = totalImprovementChart(loggedImprovement);
  assert.equal((spec.encoding as Record<string, { field: string }>).color.field, "seed");
});

test("Fig 4a's chart keeps one action dimension and bands μ ± σ", async () => {
  const rows = await computed(episodeLambdaChart(episodeRows, 1));
  assert.equal(rows.length, 6);
  for (const r of rows) {
    assert.equal(r.dim, 1);
    assert.deepEqual([r.low, r.high], [(r.mu as number) - 0.5, (r.mu as number) + 0.5]);
  }
});

test("the landscape chart sizes each cell to the grid spacing and marks each trajectory in order from its start", () => {
  const spec = landscapeChart(landscapeRows);
  const layers = spec.layer as { transform?: { calculate: string }[]; encoding: Record<string, { field?: string }> }[];
  assert.deepEqual(layers[0].transform?.map((t) => t.calculate), ["datum.mu_x - 0.5", "datum.mu_x + 0.5", "datum.mu_y - 0.5", "datum.mu_y + 0.5"]);
  assert.equal(layers[1].encoding.order.field, "iteration");
  assert.equal(layers[1].encoding.detail.field, "run", "one path per run, not one line through all");
  assert.deepEqual(dataOf(spec)[2].map((r) => [r.run, r.mu_x, r.mu_y]), [[0, 1, 1], [1, 0, 1]], "a square at each start");
  assert.deepEqual(dataOf(landscapeChart(landscapeRows, 6)).map((d) => d.length), [0, 0, 0, 0, 0], "another step has no rows");
});
