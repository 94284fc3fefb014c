/**
 * The amortization gap over training (Sec 4.2.3; Fig 6, 16) from logged runs: the rows the gap estimator wrote
 * into each run's analysis.jsonl, labelled with the run's task, optimizer and seed, and a `group` naming the curve
 * ("direct", "iterative", "iterative +5 iterations"), ready for `amortizationGapChart(rows, { color: "group" })`
 * and for tables. Rows of one estimator setting only, so gaps measured differently are never mixed.
 */
import type { Run } from "../runs/run-dir";
import type { GroupBy } from "./curves";
import { AMORTIZATION_GAP } from "./amortization-gap";
import type { AnalysisValue } from "./estimator";
import { loggedAnalysisRows, refinementGroup, type LoggedRow } from "./logged-rows";

/** A gap row with the run's identity and its curve's name. */
export type GapRow = LoggedRow;

/**
 * Every amortization-gap row the runs logged (kinds "summary", "state", "trace"), flat (no `settings`), labelled.
 * `settings`: keep only rows of exactly these estimator settings (e.g. `makeEstimator("amortization-gap", s).settings`);
 * without it the runs must hold rows of one setting only, or the error lists those found. `label`: a run's curve
 * name (default its optimizer; e.g. its iteration count, Fig 17b).
 */
export function amortizationGapRows(runs: readonly Run[], settings?: Record<string, AnalysisValue>, label?: GroupBy): GapRow[] {
  return loggedAnalysisRows(runs, AMORTIZATION_GAP, { settings, label, group: refinementGroup });
}

/** One row per (group, seed, step): the gap's mean and std over states, J before and after, as a table shows them. */
export interface GapSummary {
  [column: string]: string | number | null;
  group: string;
  seed: number;
  step: number;
  gap_mean: number;
  gap_std: number;
  j_before_mean: number;
  j_after_mean: number;
  /** Mean J the extra amortized iterations added (the +k variant only; null otherwise). */
  extra_iteration_gain_mean: number | null;
  states: number;
}

/** The "summary" rows of `amortizationGapRows`, every row with the same columns (so DataFrames line up). */
export function gapSummaries(rows: readonly GapRow[]): GapSummary[] {
  return rows.filter((r) => r.kind === "summary").map((r) => ({
    group: r.group, seed: r.seed, step: r.step,
    gap_mean: r.gap_mean as number, gap_std: r.gap_std as number,
    j_before_mean: r.j_before_mean as number, j_after_mean: r.j_after_mean as number,
    extra_iteration_gain_mean: typeof r.extra_iteration_gain_mean === "number" ? r.extra_iteration_gain_mean : null,
    states: r.states as number,
  }));
}
