/**
 * An estimator's rows as runs logged them (analysis.jsonl), ready for charts and tables: flat (no `settings`),
 * labelled with each run's task, optimizer, seed and id, and a `group` naming the curve a row belongs to (by
 * default the run's optimizer; e.g. "iterative, β = 2.5" when runs differ in a setting). Rows of one estimator
 * setting only, so numbers measured differently are never mixed.
 */
import { IapoError } from "../core/errors";
import { readAnalysisRows, canonicalJson } from "../runs/analysis-log";
import type { Run } from "../runs/run-dir";
import { runIdentity } from "./curves";
import type { AnalysisValue } from "./estimator";

/** A logged row with the run's identity and its curve's name. */
export type LoggedRow = Record<string, AnalysisValue> & { step: number; group: string; env: string; optimizer: string; seed: number; run: string };

export interface LoggedRowsOptions {
  /**
   * Keep only rows of exactly these estimator settings (e.g. `makeEstimator(name, s).settings`); without it the
   * runs must hold rows of one setting only, or the error lists those found.
   */
  settings?: Record<string, AnalysisValue>;
  /** The curve a row belongs to (default: the run's optimizer). */
  group?: (run: Run, row: Record<string, AnalysisValue>) => string;
}

/** Every row `estimator` logged in `runs`, in run order and then in the order written. */
export function loggedAnalysisRows(runs: readonly Run[], estimator: string, options: LoggedRowsOptions = {}): LoggedRow[] {
  const wanted = options.settings === undefined ? null : canonicalJson(options.settings);
  const found = new Set<string>();
  const out: LoggedRow[] = [];
  for (const run of runs) {
    const id = runIdentity(run);
    for (const row of readAnalysisRows(run.dir)) {
      if (row.estimator !== estimator) continue;
      const key = canonicalJson(row.settings);
      if (wanted !== null && key !== wanted) continue;
      found.add(key);
      const { settings: _settings, estimator: _estimator, ...fields } = row;
      const flat = fields as Record<string, AnalysisValue>;
      out.push({ ...flat, step: row.step, group: options.group ? options.group(run, flat) : id.optimizer, env: id.env, optimizer: id.optimizer, seed: id.seed, run: run.id });
    }
  }
  if (found.size > 1) throw new IapoError(`the runs hold ${estimator} rows of ${found.size} different settings; pass the settings to keep: ${[...found].join(" | ")}`);
  return out;
}
