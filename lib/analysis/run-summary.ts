/**
 * What a set of logged runs is, in one line for a chart's title (scale, preset, steps, seeds, commit, Q
 * architecture), and their final values per task and group beside published reference values (Fig 5's table):
 * a reader of a chart must be able to tell an early, small-scale result from the paper's.
 */
import { IapoError } from "../core/errors";
import type { Run } from "../runs/run-dir";
import { flattenConfig, type Cell } from "./aggregate";
import { byOptimizer, finalValues, runIdentity, summarizeByGroup, type GroupBy } from "./curves";

export interface RunsDescription {
  runs: number;
  /** Distinct values, in order of first appearance (seeds and steps ascending). */
  envs: string[];
  optimizers: string[];
  seeds: number[];
  scales: string[];
  presets: string[];
  /** Environment steps each run reached: its status, else its last logged row. */
  steps: number[];
  /** Git commits that trained the runs (first 7 hex digits, "-dirty" kept; "no git" outside a repository). */
  commits: string[];
  qArchitectures: string[];
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function shortCommit(commit: string | null): string {
  if (commit === null) return "no git";
  const [hash, ...rest] = commit.split("-");
  return [hash.slice(0, 7), ...rest].join("-");
}

function stepsReached(run: Run): number {
  return run.status?.step ?? run.metrics[run.metrics.length - 1]?.step ?? 0;
}

/** The distinct settings of `runs` that a chart of them must name; no runs is an error. */
export function describeRuns(runs: readonly Run[]): RunsDescription {
  if (runs.length === 0) throw new IapoError("describeRuns: no runs to describe");
  const ids = runs.map(runIdentity);
  const flat = runs.map((r) => flattenConfig(r.config));
  const field = (key: string): string[] => distinct(flat.map((f) => f[key]).filter((v): v is Exclude<Cell, null> => v !== undefined && v !== null).map(String));
  return {
    runs: runs.length,
    envs: distinct(ids.map((i) => i.env)),
    optimizers: distinct(ids.map((i) => i.optimizer)),
    seeds: distinct(ids.map((i) => i.seed)).sort((a, b) => a - b),
    scales: field("scale"),
    presets: field("preset"),
    steps: distinct(runs.map(stepsReached)).sort((a, b) => a - b),
    commits: distinct(runs.flatMap((r) => r.provenance.map((p) => shortCommit(p.gitCommit)))),
    qArchitectures: field("agent.qArchitecture"),
  };
}

const plural = (n: number, word: string): string => (n === 1 ? word : `${word}s`);

/**
 * One line naming what a chart of `runs` shows, e.g. "quick scale, preset paper, 6000 steps, seeds 0,1, commit
 * 27aebae, Q architecture A"; settings the runs do not record (runs from before presets) are left out.
 */
export function runsLabel(runs: readonly Run[]): string {
  const d = describeRuns(runs);
  const steps = d.steps.length === 1 ? `${d.steps[0]}` : `${d.steps[0]}–${d.steps[d.steps.length - 1]}`;
  return [
    d.scales.length > 0 ? `${d.scales.join("/")} scale` : null,
    d.presets.length > 0 ? `preset ${d.presets.join("/")}` : null,
    `${steps} steps`,
    `${plural(d.seeds.length, "seed")} ${d.seeds.join(",")}`,
    `${plural(d.commits.length, "commit")} ${d.commits.join(", ")}`,
    d.qArchitectures.length > 0 ? `${plural(d.qArchitectures.length, "Q architecture")} ${d.qArchitectures.join(", ")}` : null,
  ].filter((p) => p !== null).join(", ");
}

/** A column of published values per task (e.g. a SAC return at 1M steps), shown beside a summary's rows. */
export interface ReferenceColumn {
  name: string;
  values: Readonly<Partial<Record<string, number>>>;
}

export interface TaskSummaryRow {
  [column: string]: string | number | null;
  env: string;
  group: string;
  runs: number;
  seeds: string;
  /** The last step any run of the row logged the metric at. */
  step: number;
  mean: number;
  /** Population std over the runs (the paper's ± std over seeds). */
  std: number;
}

/**
 * Each run's last logged `metric`, summarised per task and group (default: optimizer): mean and std over the
 * runs, with one column per reference holding its value for that task (null where it has none). Tasks come in
 * the order `envs` gives (e.g. the paper's), then any others as the runs come.
 */
export function finalSummaryByTask(
  runs: readonly Run[],
  metric: string,
  options: { group?: GroupBy; references?: readonly ReferenceColumn[]; envs?: readonly string[] } = {},
): TaskSummaryRow[] {
  const finals = finalValues(runs, metric, options.group ?? byOptimizer);
  const out: TaskSummaryRow[] = [];
  const present = distinct(finals.map((r) => r.env));
  for (const env of distinct([...(options.envs ?? []).filter((e) => present.includes(e)), ...present])) {
    const rows = finals.filter((r) => r.env === env);
    for (const s of summarizeByGroup(rows)) {
      const members = rows.filter((r) => r.group === s.group);
      const row: TaskSummaryRow = {
        env, group: s.group, runs: s.runs, seeds: members.map((r) => r.seed).join(","), step: Math.max(...members.map((r) => r.step)), mean: s.mean, std: s.std,
      };
      for (const ref of options.references ?? []) row[ref.name] = ref.values[env] ?? null;
      out.push(row);
    }
  }
  return out;
}
