/**
 * Test-time optimization from logged runs (Sec 4.2.3, App B.4; Fig 15, 16): the rows the test-time estimator
 * wrote into each run's analysis.jsonl, labelled with the run and a `group` per curve ("direct", "direct +50 Adam
 * steps", "iterative +5 iterations", ...), for `testTimeChart` / `testTimeGainChart(rows, { color: "group" })`,
 * and one table row per refinement pairing it with the amortized policy it started from.
 */
import type { Run } from "../runs/run-dir";
import type { GroupBy } from "./curves";
import type { AnalysisValue } from "./estimator";
import { loggedAnalysisRows, refinementGroup, type LoggedRow } from "./logged-rows";
import { TEST_TIME } from "./test-time";

/**
 * Every test-time row the runs logged (kinds "summary", "episode", "state"), flat and labelled. `settings`: one
 * estimator setting, or a list (e.g. a sweep over `extraIterations`); `label`: a run's curve name (default its optimizer).
 */
export function testTimeRows(runs: readonly Run[], settings?: Record<string, AnalysisValue> | readonly Record<string, AnalysisValue>[], label?: GroupBy): LoggedRow[] {
  return loggedAnalysisRows(runs, TEST_TIME, { settings, label, group: refinementGroup });
}

/** One refinement at one step of one run, beside the amortized policy on the same episode seeds and states. */
export interface TestTimeSummary {
  [column: string]: string | number;
  group: string;
  seed: number;
  step: number;
  /** Adam steps or amortized iterations added at evaluation. */
  extra_steps: number;
  episodes: number;
  return_amortized: number;
  return_refined: number;
  /** Refined minus amortized return, per episode seed: mean and population std. */
  return_change_mean: number;
  return_change_std: number;
  states: number;
  j_amortized: number;
  j_refined: number;
  /** Refined minus amortized J, per state: mean and population std (return units). */
  j_gain_mean: number;
  j_gain_std: number;
}

/** The refined variants' summaries of `testTimeRows`, each with the amortized figures it is paired with. */
export function testTimeSummaries(rows: readonly LoggedRow[]): TestTimeSummary[] {
  const num = (r: LoggedRow, k: string): number => r[k] as number;
  return rows.filter((r) => r.kind === "summary" && typeof r.j_gain_mean === "number").map((r) => ({
    group: r.group, seed: r.seed, step: r.step, extra_steps: num(r, "extra_steps"), episodes: num(r, "episodes"),
    return_amortized: num(r, "return_mean") - num(r, "return_change_mean"), return_refined: num(r, "return_mean"),
    return_change_mean: num(r, "return_change_mean"), return_change_std: num(r, "return_change_std"),
    states: num(r, "states"), j_amortized: num(r, "j_mean") - num(r, "j_gain_mean"), j_refined: num(r, "j_mean"),
    j_gain_mean: num(r, "j_gain_mean"), j_gain_std: num(r, "j_gain_std"),
  }));
}
