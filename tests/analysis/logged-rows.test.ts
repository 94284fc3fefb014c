/** Estimator rows read back from runs' analysis.jsonl: labels, groups, settings filters, and the tables built on them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../../lib/runs";
import {
  amortizationGapRows, loggedEstimatorRows, optimizerComparisonRows, summarizeComparison, testTimeRows, testTimeSummaries,
} from "../../lib/analysis";

/** A run folder holding only analysis.jsonl (all the readers look at), with its config. */
function run(optimizer: string, seed: number, rows: object[], iterations = 5): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-logged-rows-"));
  fs.writeFileSync(path.join(dir, "analysis.jsonl"), rows.map((r) => JSON.stringify(r) + "\n").join(""));
  return { dir, id: `${optimizer}-${seed}`, config: { env: "Hopper-v2", optimizer, seed, agent: { iterations: { train: iterations } } }, provenance: [], backends: [], status: null, metrics: [], truncatedTail: false };
}

const T = { mode: "auto", extraIterations: 5 };
const ttSummary = (step: number, variant: string, extra: number, settings: object, fields: object) =>
  ({ estimator: "test-time", step, settings, kind: "summary", variant, extra_steps: extra, episodes: 2, states: 3, ...fields });

test("test-time rows: one group per refinement, and each refinement's table row pairs it with its amortized policy", () => {
  const runs = [
    run("direct", 0, [
      ttSummary(10, "amortized", 0, T, { return_mean: 100, return_std: 1, j_mean: -2, j_std: 0.5 }),
      ttSummary(10, "adam+50", 50, T, { return_mean: 98, return_std: 2, j_mean: -1.5, j_std: 0.5, return_change_mean: -2, return_change_std: 1, j_gain_mean: 0.5, j_gain_std: 0.25 }),
      { estimator: "test-time", step: 10, settings: T, kind: "episode", variant: "adam+50", extra_steps: 50, episode: 0, return: 97, return_change: -3 },
    ]),
    run("iterative", 1, [ttSummary(20, "iterative+5", 5, T, { return_mean: 50, return_std: 0, j_mean: 1, j_std: 0, return_change_mean: 0.5, return_change_std: 0, j_gain_mean: 0.25, j_gain_std: 0.125 })]),
  ];
  const rows = testTimeRows(runs);
  assert.deepEqual(rows.map((r) => r.group), ["direct", "direct +50 Adam steps", "direct +50 Adam steps", "iterative +5 iterations"]);
  assert.equal(rows[2].return_change, -3);
  assert.deepEqual(testTimeSummaries(rows), [
    { group: "direct +50 Adam steps", seed: 0, step: 10, extra_steps: 50, episodes: 2, return_amortized: 100, return_refined: 98, return_change_mean: -2, return_change_std: 1, states: 3, j_amortized: -2, j_refined: -1.5, j_gain_mean: 0.5, j_gain_std: 0.25 },
    { group: "iterative +5 iterations", seed: 1, step: 20, extra_steps: 5, episodes: 2, return_amortized: 49.5, return_refined: 50, return_change_mean: 0.5, return_change_std: 0, states: 3, j_amortized: 0.75, j_refined: 1, j_gain_mean: 0.25, j_gain_std: 0.125 },
  ]);
});

test("a list of settings keeps the rows of each (a sweep over one setting); one setting keeps only its own", () => {
  const a = { mode: "iterations", extraIterations: 1 };
  const b = { mode: "iterations", extraIterations: 10 };
  const runs = [run("iterative", 0, [
    ttSummary(5, "iterative+1", 1, a, { j_gain_mean: 0.1 }),
    ttSummary(5, "iterative+10", 10, b, { j_gain_mean: 0.3 }),
    ttSummary(5, "iterative+5", 5, T, { j_gain_mean: 0.2 }),
  ])];
  assert.throws(() => testTimeRows(runs), /test-time rows of 3 different settings; pass the settings to keep/);
  assert.deepEqual(testTimeRows(runs, [b, a]).map((r) => [r.extra_steps, r.group]), [[1, "iterative +1 iteration"], [10, "iterative +10 iterations"]], "log order, only the listed settings");
  assert.deepEqual(testTimeRows(runs, { extraIterations: 10, mode: "iterations" }).map((r) => r.group), ["iterative +10 iterations"]);
});

test("any run label names the curves: the gap per iteration count during training (Fig 17b)", () => {
  const S = { states: 2 };
  const gap = (variant: string) => ({ estimator: "amortization-gap", step: 4, settings: S, kind: "summary", variant, gap_mean: 1 });
  const runs = [run("iterative", 0, [gap("amortized")], 1), run("iterative", 0, [gap("amortized"), gap("amortized+5")], 5)];
  const label = (r: Run) => `${(r.config as { agent: { iterations: { train: number } } }).agent.iterations.train} iterations`;
  assert.deepEqual(amortizationGapRows(runs, S, label).map((r) => r.group), ["1 iterations", "5 iterations", "5 iterations +5 iterations"]);
});

test("the run's identity replaces a row's field of the same name; the comparison keeps its optimizer as the group", () => {
  const C = { iterations: 2 };
  const point = (optimizer: string, iteration: number, j: number, seconds: number) => ({ estimator: "optimizer-comparison", step: 7, settings: C, optimizer, iteration, j_mean: j, j_std: 0, seconds });
  const runs = [run("iterative", 3, [point("iterative", 0, -1, 0), point("adam", 0, -1, 0), { estimator: "landscape", step: 7, settings: {}, kind: "grid" }])];
  const generic = loggedEstimatorRows(runs, "optimizer-comparison");
  assert.deepEqual(generic.map((r) => [r.optimizer, r.group, r.kind, r.variant, r.seed, r.run]), [["iterative", "iterative", "", "", 3, "iterative-3"], ["iterative", "iterative", "", "", 3, "iterative-3"]]);
  assert.deepEqual(optimizerComparisonRows(runs).map((r) => r.group), ["iterative", "adam"]);
});

test("comparison summary: means over seeds per iteration, and the first iteration reaching the reference's J", () => {
  // two seeds; iterative reaches J = 0 after 2 iterations (mean of −0.5 and 0.5); Adam gets there after 3, CEM never
  const rows = [
    ...[[-2, -1, -0.5, 0], [-2, -1, 0.5, 0]].flatMap((js, seed) => js.map((j, iteration) => ({ seed, optimizer: "iterative", iteration, j_mean: j, seconds: iteration * 0.25 }))),
    ...[[-2, -1.5, -1, 0.5], [-2, -1.5, -1, -0.3]].flatMap((js, seed) => js.map((j, iteration) => ({ seed, optimizer: "adam", iteration, j_mean: j, seconds: iteration * 0.1 }))),
    ...[0, 1, 2, 3].map((iteration) => ({ seed: 0, optimizer: "cem-actions", iteration, j_mean: -2 + iteration * 0.1, seconds: iteration * 0.3 })),
    { optimizer: "adam", iteration: 1, note: "a row without J is ignored" },
  ];
  const summary = summarizeComparison(rows, { optimizer: "iterative", iteration: 2 });
  const byName = Object.fromEntries(summary.map((s) => [s.optimizer, s]));
  assert.deepEqual(byName.iterative, { optimizer: "iterative", seeds: 2, iterations: 3, j_start: -2, j_final: 0, seconds_per_iteration: 0.25, iterations_to_reference: 2, seconds_to_reference: 0.5 });
  assert.equal(byName.adam.iterations_to_reference, 3);
  assert.ok(Math.abs(byName.adam.j_final - 0.1) < 1e-12);
  assert.ok(Math.abs((byName.adam.seconds_to_reference as number) - 0.3) < 1e-12);
  assert.equal(byName["cem-actions"].seeds, 1);
  assert.equal(byName["cem-actions"].iterations_to_reference, null);
  assert.equal(byName["cem-actions"].seconds_to_reference, null);
  assert.throws(() => summarizeComparison(rows, { optimizer: "iterative", iteration: 9 }), /no rows of "iterative" at iteration 9 \(optimizer values: iterative, adam, cem-actions\)/);
  assert.throws(() => summarizeComparison(rows, { optimizer: "direct", iteration: 0, by: "seed" }), /no rows of "direct"/);
});
