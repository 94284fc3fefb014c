/**
 * Turning logged runs into tidy rows for plots and tables: one row per (run, logged step) for a metric,
 * labelled with the run's seed and a group (by default its policy optimizer), so that vega-lite or danfojs
 * can aggregate over seeds. Pure functions over `Run`s loaded with `loadRuns`.
 */
import { CorruptFileError } from "../core/errors";
import { meanAndStd } from "../core/stats";
import type { Run } from "../runs/run-dir";
import { flattenConfig, type Cell } from "./aggregate";

/** The part of a run's config these helpers read (what `iapo train` writes). */
export interface RunIdentity {
  env: string;
  optimizer: string;
  seed: number;
}

export interface CurveRow {
  [key: string]: string | number;
  step: number;
  value: number;
  seed: number;
  group: string;
  env: string;
  run: string;
}

/**
 * The task, optimizer and seed a run was configured with. Runs are loaded with an untyped config (any tool may
 * have written them), so the fields are checked here and a run without them is named in the error.
 */
export function runIdentity(run: Run): RunIdentity {
  const c = run.config as Partial<RunIdentity> | null;
  if (!c || typeof c.env !== "string" || typeof c.optimizer !== "string" || typeof c.seed !== "number") {
    throw new CorruptFileError(`${run.dir}/run.json: config has no env/optimizer/seed; is it a training run?`);
  }
  return { env: c.env, optimizer: c.optimizer, seed: c.seed };
}

/** The runs whose task/optimizer/seed match every field given, e.g. `selectRuns(runs, { env: "Hopper-v2" })`. */
export function selectRuns(runs: readonly Run[], where: Partial<RunIdentity>): Run[] {
  return runs.filter((run) => {
    const id = runIdentity(run);
    return (Object.keys(where) as (keyof RunIdentity)[]).every((k) => where[k] === undefined || id[k] === where[k]);
  });
}

/** How runs are grouped into curves: by default "<optimizer>". */
export type GroupBy = (run: Run) => string;
export const byOptimizer: GroupBy = (run) => runIdentity(run).optimizer;
/** "<optimizer>, <value estimate>" (Fig. 8a: direct and iterative, each with model-free or model-based values). */
export const byOptimizerAndValue: GroupBy = (run) => {
  const agent = (run.config as { agent?: { valueEstimate?: unknown } } | null)?.agent;
  return `${runIdentity(run).optimizer}, ${typeof agent?.valueEstimate === "string" ? agent.valueEstimate : "model-free"}`;
};

/**
 * Curves by any config field, nested fields joined with dots as `flattenConfig` names them, e.g.
 * `byConfigField("agent.iterations.train", (k) => `k = ${k}`)` (Fig 7); a run without the field is named in the error.
 */
export function byConfigField(field: string, format: (value: Cell) => string = String): GroupBy {
  return (run) => format(configValue(run, field));
}

function configValue(run: Run, field: string): Cell {
  const flat = flattenConfig(run.config);
  if (!(field in flat)) throw new CorruptFileError(`${run.dir}/run.json: config has no field "${field}" to group by`);
  return flat[field];
}

/**
 * Curves by several config fields at once, e.g. `byConfigFields(["optimizer", "agent.qArchitecture"])` gives
 * "direct, A" (Fig 10); `format` receives the values in the order of `fields`.
 */
export function byConfigFields(fields: readonly string[], format: (values: Cell[]) => string = (v) => v.join(", ")): GroupBy {
  return (run) => format(fields.map((f) => configValue(run, f)));
}

/** Every logged value of `key` in every run, as tidy rows (rows where the key is absent or null are skipped). */
export function metricCurve(runs: readonly Run[], key: string, group: GroupBy = byOptimizer): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const run of runs) {
    const id = runIdentity(run);
    const label = group(run);
    for (const m of run.metrics) {
      const v = m[key];
      if (typeof v === "number" && Number.isFinite(v)) {
        rows.push({ step: m.step, value: v, seed: id.seed, group: label, env: id.env, run: run.id });
      }
    }
  }
  return rows;
}

/** The last logged value of `key` per run. */
export function finalValues(runs: readonly Run[], key: string, group: GroupBy = byOptimizer): CurveRow[] {
  const out: CurveRow[] = [];
  for (const run of runs) {
    const rows = metricCurve([run], key, group);
    if (rows.length > 0) out.push(rows[rows.length - 1]);
  }
  return out;
}

export interface IterationRow {
  [key: string]: string | number;
  iteration: number;
  value: number;
  seed: number;
  group: string;
  run: string;
}

/**
 * Per-iteration values of an iterative optimizer, averaged over a run's logged rows from `fromStep` on:
 * reads the keys `<prefix>1`, `<prefix>2`, ... (e.g. "train/j_improvement_iter"), one row per run and iteration.
 */
export function perIterationMeans(runs: readonly Run[], prefix: string, fromStep = 0, group: GroupBy = byOptimizer): IterationRow[] {
  const out: IterationRow[] = [];
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(\\d+)$`);
  for (const run of runs) {
    const sums = new Map<number, { sum: number; n: number }>();
    for (const m of run.metrics) {
      if (m.step < fromStep) continue;
      for (const [k, v] of Object.entries(m)) {
        const match = pattern.exec(k);
        if (!match || typeof v !== "number" || !Number.isFinite(v)) continue;
        const it = Number(match[1]);
        const acc = sums.get(it) ?? { sum: 0, n: 0 };
        acc.sum += v;
        acc.n++;
        sums.set(it, acc);
      }
    }
    for (const [iteration, { sum, n }] of [...sums.entries()].sort((a, b) => a[0] - b[0])) {
      out.push({ iteration, value: sum / n, seed: runIdentity(run).seed, group: group(run), run: run.id });
    }
  }
  return out;
}

export interface GroupSummary {
  [key: string]: string | number;
  group: string;
  runs: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Mean, population std, min and max of `value` per group (e.g. final returns over seeds). */
export function summarizeByGroup(rows: readonly { group: string; value: number }[]): GroupSummary[] {
  const groups = new Map<string, number[]>();
  for (const r of rows) groups.set(r.group, [...(groups.get(r.group) ?? []), r.value]);
  return [...groups.entries()].map(([group, values]) => {
    const { mean, std } = meanAndStd(values);
    return { group, runs: values.length, mean, std, min: Math.min(...values), max: Math.max(...values) };
  });
}
