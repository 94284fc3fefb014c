import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../../lib/runs";
import { amortizationGapRows, gapSummaries } from "../../lib/analysis";

const S = { states: 2, steps: 3 };

/** A run folder holding only analysis.jsonl (all the reader looks at), with its config. */
function run(optimizer: string, seed: number, rows: object[]): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-gap-rows-"));
  fs.writeFileSync(path.join(dir, "analysis.jsonl"), rows.map((r) => JSON.stringify(r) + "\n").join(""));
  return { dir, id: `${optimizer}-${seed}`, config: { env: "Hopper-v2", optimizer, seed }, provenance: [], backends: [], status: null, metrics: [], truncatedTail: false };
}
const summary = (step: number, variant: string, gap: number, settings: object = S, extra: object = {}) =>
  ({ estimator: "amortization-gap", step, settings, kind: "summary", variant, gap_mean: gap, gap_std: gap / 2, j_before_mean: -gap, j_after_mean: 0, states: 2, ...extra });
const state = (step: number, variant: string, i: number, gap: number) => ({ estimator: "amortization-gap", step, settings: S, kind: "state", variant, state: i, j_before: -gap, j_after: 0, gap });

test("gap rows of several runs: labelled with task, optimizer, seed and one group per curve, settings dropped", () => {
  const runs = [
    run("direct", 0, [summary(10, "amortized", 0.4), state(10, "amortized", 0, 0.3), { estimator: "policy-change", step: 10, settings: {}, kl: 1 }]),
    run("iterative", 1, [summary(10, "amortized", 0.2), summary(10, "amortized+5", 0.1, S, { extra_iteration_gain_mean: 0.05, extra_iteration_gain_std: 0 }), state(20, "amortized+5", 1, 0.1)]),
  ];
  const rows = amortizationGapRows(runs);
  assert.deepEqual(rows.map((r) => [r.group, r.seed, r.step, r.kind, r.env, r.run]), [
    ["direct", 0, 10, "summary", "Hopper-v2", "direct-0"],
    ["direct", 0, 10, "state", "Hopper-v2", "direct-0"],
    ["iterative", 1, 10, "summary", "Hopper-v2", "iterative-1"],
    ["iterative +5 iterations", 1, 10, "summary", "Hopper-v2", "iterative-1"],
    ["iterative +5 iterations", 1, 20, "state", "Hopper-v2", "iterative-1"],
  ]);
  assert.ok(rows.every((r) => !("settings" in r) && !("estimator" in r)), "flat rows");
  assert.equal(rows[1].gap, 0.3);
  // every summary with the same columns, the +k variant's gain filled in and null elsewhere
  const table = gapSummaries(rows);
  assert.deepEqual(table.map((r) => [r.group, r.gap_mean, r.gap_std, r.extra_iteration_gain_mean]), [["direct", 0.4, 0.2, null], ["iterative", 0.2, 0.1, null], ["iterative +5 iterations", 0.1, 0.05, 0.05]]);
  assert.ok(table.every((r) => Object.keys(r).join() === Object.keys(table[0]).join()));
});

test("rows of different gap settings are never mixed: choose them, or a clear error lists them", () => {
  const runs = [run("direct", 0, [summary(10, "amortized", 0.4), summary(10, "amortized", 9, { states: 100, steps: 100 })])];
  assert.throws(() => amortizationGapRows(runs), /amortization-gap rows of 2 different settings; pass the settings to keep: .*"states":2.*\|.*"states":100/);
  assert.deepEqual(amortizationGapRows(runs, { steps: 100, states: 100 }).map((r) => r.gap_mean), [9]);
  assert.deepEqual(amortizationGapRows(runs, { states: 7, steps: 1 }), []);
});
