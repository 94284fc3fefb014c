/**
 * An estimator's rows as the runs logged them (analysis.jsonl), flat and labelled for charts and tables: each row
 * gets its run's task, optimizer, seed and id, and a `group` naming its curve (by default the run's optimizer, or
 * any label of the run such as its iteration count, combined with the row's variant). Rows of different estimator
 * settings are never mixed by accident: the caller names the settings to keep.
 */
import { IapoError } from "../core/errors";
import { readAnalysisRows, canonicalJson } from "../runs/analysis-log";
import type { Run } from "../runs/run-dir";
import { byOptimizer, runIdentity, type GroupBy } from "./curves";
import type { AnalysisValue } from "./estimator";

/**
 * A logged row with its run's identity and its curve's name (the `settings` object and estimator name dropped).
 * The run's `env`, `optimizer`, `seed` and `run` replace row fields of the same name (the optimizer comparison's
 * own `optimizer` column, say): keep such a field as the row's `group`.
 */
export type LoggedRow = Record<string, AnalysisValue> & { step: number; kind: string; variant: string; group: string; env: string; optimizer: string; seed: number; run: string };

export interface LoggedRowsOptions {
  /**
   * Keep only rows of exactly these settings (e.g. `makeEstimator(name, s).settings`), or of any of a list of them
   * (a sweep over one setting); without it the runs must hold rows of one setting only, or the error lists those found.
   */
  settings?: Record<string, AnalysisValue> | readonly Record<string, AnalysisValue>[];
  /** The run's part of a curve's name (default: its optimizer). */
  label?: GroupBy;
  /** A row's curve from its run's label and the row's own fields (e.g. its `variant`); default: the label. */
  group?: (label: string, row: Readonly<Record<string, AnalysisValue>>, run: Run) => string;
}

/**
 * The curve of a row whose `variant` refines the amortized policy ("amortized+5" or "iterative+1": more amortized
 * iterations; "adam+50": Adam steps on the action): "<label> +5 iterations", "<label> +1 iteration",
 * "<label> +50 Adam steps". Any other row is its run's `label`.
 */
export function refinementGroup(label: string, row: Readonly<Record<string, AnalysisValue>>): string {
  const refined = /^(amortized|iterative|adam)\+(\d+)$/.exec(String(row.variant));
  if (!refined) return label;
  const unit = refined[1] === "adam" ? "Adam step" : "iteration";
  return `${label} +${refined[2]} ${unit}${refined[2] === "1" ? "" : "s"}`;
}

/** Every row `estimator` logged in `runs`, in run order then log order, flat and labelled. */
export function loggedAnalysisRows(runs: readonly Run[], estimator: string, options: LoggedRowsOptions = {}): LoggedRow[] {
  const listed = options.settings === undefined ? null : Array.isArray(options.settings) ? options.settings : [options.settings];
  const wanted = listed === null ? null : new Set(listed.map((s) => canonicalJson(s)));
  const label = options.label ?? byOptimizer;
  const group = options.group ?? ((l: string) => l);
  const found = new Set<string>();
  const out: LoggedRow[] = [];
  for (const run of runs) {
    const id = runIdentity(run);
    const runLabel = label(run);
    for (const row of readAnalysisRows(run.dir)) {
      if (row.estimator !== estimator) continue;
      const key = canonicalJson(row.settings);
      if (wanted !== null && !wanted.has(key)) continue;
      found.add(key);
      const { settings: _settings, estimator: _estimator, ...fields } = row;
      const own = fields as Record<string, AnalysisValue>;
      const variant = own.variant === undefined ? "" : String(own.variant);
      const kind = own.kind === undefined ? "" : String(own.kind);
      out.push({ ...own, step: row.step, kind, variant, group: group(runLabel, own, run), env: id.env, optimizer: id.optimizer, seed: id.seed, run: run.id });
    }
  }
  if (wanted === null && found.size > 1) throw new IapoError(`the runs hold ${estimator} rows of ${found.size} different settings; pass the settings to keep: ${[...found].join(" | ")}`);
  return out;
}
