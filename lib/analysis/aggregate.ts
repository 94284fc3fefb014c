/**
 * Analysing any set of logged runs: tidy rows with every config field as a column, filtering and grouping by
 * any of them, and aggregation across seeds as papers report it: mean ± std, and the interquartile mean (IQM)
 * with stratified-bootstrap confidence intervals as rliable reports them (Agarwal et al., 2021, "Deep RL at
 * the edge of the statistical precipice"). Rows are plain records, so `toDataFrame` (plots) turns them into a
 * danfojs DataFrame and vega-lite plots them as they are.
 */
import { IapoError } from "../core/errors";
import type { Rng } from "../core/rng";
import { mean, meanAndStd } from "../core/stats";
import type { Run } from "../runs/run-dir";

/** One cell of a tidy row: what danfojs and vega-lite take. */
export type Cell = string | number | boolean | null;
export type TidyRow = Record<string, Cell>;

/**
 * A run's config as flat columns: nested objects joined with dots (`agent.betaTrain`, `agent.iterations.train`),
 * arrays as JSON text, so that any field can be filtered or grouped on.
 */
export function flattenConfig(config: unknown, prefix = ""): TidyRow {
  const out: TidyRow = {};
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    if (prefix === "") throw new IapoError(`a run config must be an object, got ${JSON.stringify(config)}`);
    return { [prefix]: Array.isArray(config) ? JSON.stringify(config) : (config as Cell) };
  }
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
    const key = prefix === "" ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) Object.assign(out, flattenConfig(v, key));
    else out[key] = Array.isArray(v) ? JSON.stringify(v) : (v as Cell) ?? null;
  }
  return out;
}

/** The columns every row of a run carries: its id, its status and its flattened config. */
function runColumns(run: Run): TidyRow {
  return { run: run.id, status: run.status?.state ?? "unknown", ...flattenConfig(run.config) };
}

/**
 * One row per (run, logged step) holding `metrics` (every key logged when omitted) beside the run's config
 * columns; a metric a row did not log is null.
 */
export function runRows(runs: readonly Run[], metrics?: readonly string[]): TidyRow[] {
  const rows: TidyRow[] = [];
  for (const run of runs) {
    const cols = runColumns(run);
    for (const m of run.metrics) {
      const keys = metrics ?? Object.keys(m);
      const row: TidyRow = { ...cols, step: m.step };
      for (const k of keys) row[k] = typeof m[k] === "number" || typeof m[k] === "string" ? (m[k] as Cell) : null;
      rows.push(row);
    }
  }
  return rows;
}

/**
 * One row per run that logged `metric`: its config columns, `value` = the mean of the metric's last `last`
 * finite values (1: the final value; more smooths evaluation noise, as papers average the last evaluations)
 * and `step` = the step of the last one. Runs that never logged it are left out.
 */
export function finalScores(runs: readonly Run[], metric: string, last = 1): TidyRow[] {
  if (!Number.isInteger(last) || last < 1) throw new IapoError(`finalScores: last must be a positive integer, got ${last}`);
  const rows: TidyRow[] = [];
  for (const run of runs) {
    const logged = run.metrics.filter((m) => typeof m[metric] === "number" && Number.isFinite(m[metric]));
    if (logged.length === 0) continue;
    const tail = logged.slice(-last);
    rows.push({ ...runColumns(run), metric, step: tail[tail.length - 1].step, value: mean(tail.map((m) => m[metric] as number)) });
  }
  return rows;
}

/** A condition on one column: a value, a list of allowed values, or a predicate. */
export type Where = Record<string, Cell | readonly Cell[] | ((v: Cell) => boolean)>;

/** The rows matching every condition, e.g. `filterRows(rows, { env: "Hopper-v2", "agent.betaTrain": [1, 2.5] })`. */
export function filterRows<R extends TidyRow>(rows: readonly R[], where: Where): R[] {
  return rows.filter((r) =>
    Object.entries(where).every(([k, cond]) => {
      const v = k in r ? r[k] : null;
      if (typeof cond === "function") return cond(v);
      if (Array.isArray(cond)) return cond.includes(v);
      return v === cond;
    }),
  );
}

/** Groups rows by the values of `by` (in order of first appearance); the key is the JSON of those values. */
export function groupRows<R extends TidyRow>(rows: readonly R[], by: readonly string[]): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const missing = by.find((k) => !(k in r));
    if (missing !== undefined) throw new IapoError(`cannot group by "${missing}": no such column; columns: ${Object.keys(r).join(", ")}`);
    const key = JSON.stringify(by.map((k) => r[k]));
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
}

/**
 * The interquartile mean: the mean of the middle 50% of the scores, trimmed as scipy's
 * `trim_mean(x, 0.25)` does (rliable's IQM): ⌊n/4⌋ values cut from each end of the sorted scores.
 */
export function iqm(values: readonly number[]): number {
  if (values.length === 0) throw new IapoError("iqm of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(0.25 * sorted.length);
  return mean(sorted.slice(cut, sorted.length - cut));
}

/** The q-quantile (0..1) with linear interpolation between order statistics (numpy's default `percentile`). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new IapoError("quantile of no values");
  if (!(q >= 0 && q <= 1)) throw new IapoError(`quantile: q must be in [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  rng: Rng;
  /** Bootstrap resamples (rliable's default is 50 000; 2 000 already fixes a 95% interval to about ±0.01 in probability). */
  reps?: number;
  /** Interval coverage, e.g. 0.95. */
  confidence?: number;
}

/**
 * A stratified-bootstrap percentile confidence interval of `statistic` over scores grouped by task (rliable's
 * `StratifiedBootstrap`): each resample draws, within every task independently, as many runs as that task has,
 * with replacement, and applies `statistic` to the pooled resampled scores; the interval is the
 * ((1−c)/2, (1+c)/2) quantiles of the resampled statistics. With one task it is the ordinary bootstrap.
 */
export function stratifiedBootstrapCI(
  scoresByTask: readonly (readonly number[])[],
  statistic: (scores: number[]) => number,
  { rng, reps = 2000, confidence = 0.95 }: BootstrapOptions,
): [number, number] {
  if (scoresByTask.length === 0 || scoresByTask.some((s) => s.length === 0)) throw new IapoError("bootstrap needs at least one score in every task");
  if (!Number.isInteger(reps) || reps < 1) throw new IapoError(`bootstrap reps must be a positive integer, got ${reps}`);
  if (!(confidence > 0 && confidence < 1)) throw new IapoError(`bootstrap confidence must be in (0, 1), got ${confidence}`);
  const stats: number[] = [];
  for (let r = 0; r < reps; r++) {
    const sample: number[] = [];
    for (const task of scoresByTask) for (let i = 0; i < task.length; i++) sample.push(task[rng.int(task.length)]);
    stats.push(statistic(sample));
  }
  return [quantile(stats, (1 - confidence) / 2), quantile(stats, (1 + confidence) / 2)];
}

export interface SeedAggregate {
  [key: string]: Cell;
  runs: number;
  mean: number;
  /** Population standard deviation over runs (the paper's "± std over seeds"). */
  std: number;
  iqm: number;
  iqm_low: number;
  iqm_high: number;
}

export interface AggregateOptions extends BootstrapOptions {
  /** Columns that define a group, e.g. ["env", "optimizer"] or ["optimizer", "agent.betaTrain"]. */
  by: readonly string[];
  /** The score column (default "value", as `finalScores` writes). */
  value?: string;
  /** The column that names a task, the bootstrap's strata (default "env"; a group within one task is not stratified). */
  task?: string;
}

/**
 * One row per group of `by`: the number of runs, mean ± std of the score over them, and its IQM with a
 * stratified-bootstrap confidence interval. Pooling different tasks into one group only makes sense for
 * scores on a common scale (e.g. normalized returns), as in rliable.
 */
export function aggregateSeeds(rows: readonly TidyRow[], opts: AggregateOptions): SeedAggregate[] {
  const valueKey = opts.value ?? "value";
  const taskKey = opts.task ?? "env";
  const out: SeedAggregate[] = [];
  for (const group of groupRows(rows, opts.by).values()) {
    const scores = group.map((r) => r[valueKey]);
    const bad = scores.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad >= 0) throw new IapoError(`column "${valueKey}" of run ${String(group[bad].run)} is ${typeof scores[bad] === "number" ? scores[bad] : JSON.stringify(scores[bad])}, not a finite number`);
    const values = scores as number[];
    const byTask = [...groupRows(group, taskKey in group[0] ? [taskKey] : []).values()].map((g) => g.map((r) => r[valueKey] as number));
    const { mean: m, std } = meanAndStd(values);
    const [low, high] = stratifiedBootstrapCI(byTask, iqm, opts);
    const keys: TidyRow = {};
    for (const k of opts.by) keys[k] = group[0][k];
    out.push({ ...keys, runs: values.length, mean: m, std, iqm: iqm(values), iqm_low: low, iqm_high: high });
  }
  return out;
}
