/** The estimators' charts: each keeps only its kind of rows and their scalar fields, and renders with labelled axes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  actionCloudChart, amortizationGapChart, gapAscentChart, improvementChart, lambdaTraceChart, landscapeChart,
  multipleEstimatesChart, optimizerComparisonChart, optimizerTimeChart, policyChangeChart, testTimeChart, testTimeGainChart, toSvg, valueBiasChart,
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
  ...[0, 1].map((iteration) => ({ ...base("landscape", 5), kind: "trajectory", iteration, mu_x: 1 - iteration, mu_y: 1 - iteration, j: 0 })),
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
    [landscapeChart(landscapeRows), [9, 2, 1, 1], ["μ, first chosen dimension", "J (return units)"]],
    [multipleEstimatesChart(multiRows), [1], ["‖tanh μ₁ − tanh μ₂‖₂"]],
    [actionCloudChart(multiRows), [4, 2], ["action dimension x", "optimizer run"]],
    [optimizerComparisonChart(comparisonRows), [6], ["optimization iterations"]],
    [optimizerTimeChart(comparisonRows), [6], ["wall-clock time (s)"]],
    [testTimeChart(testTimeRows), [4], ["evaluation return"]],
    [testTimeGainChart(testTimePaired), [3], ["environment steps", "J gain per state (return units)"]],
    [testTimeGainChart(testTimePaired, { measure: "return", x: "extra_steps" }), [2], ["extra steps at evaluation", "return change per episode"]],
    [lambdaTraceChart(iterationRows, 0), [2], ["μ (pre-tanh)"]],
    [improvementChart(iterationRows), [2], ["ΔJ per iteration"]],
    [valueBiasChart(valueBiasRows), [6], ["environment steps", "estimated Q(s, a) − Monte Carlo Q(s, a)"]],
    [policyChangeChart(policyChangeRows), [1], ["KL(π_t ‖ π_previous)"]],
  ];
  for (const [spec, counts, titles] of cases) {
    const data = dataOf(spec);
    assert.deepEqual(data.map((d) => d.length), counts, String(spec.title));
    for (const d of data) for (const r of d) assert.equal(r.settings, undefined);
    const svg = await toSvg(spec);
    for (const t of titles) assert.ok(svg.includes(t.replace(/&/g, "&amp;")), `${String(spec.title)}: missing "${t}"`);
  }
});

test("the landscape chart sizes each cell to the grid spacing and marks the trajectory in order", () => {
  const spec = landscapeChart(landscapeRows);
  const layers = spec.layer as { transform?: { calculate: string }[]; encoding: Record<string, { field?: string }> }[];
  assert.deepEqual(layers[0].transform?.map((t) => t.calculate), ["datum.mu_x - 0.5", "datum.mu_x + 0.5", "datum.mu_y - 0.5", "datum.mu_y + 0.5"]);
  assert.equal(layers[1].encoding.order.field, "iteration");
  assert.deepEqual(dataOf(landscapeChart(landscapeRows, 6)).map((d) => d.length), [0, 0, 0, 0], "another step has no rows");
});
