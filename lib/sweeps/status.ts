/** The table `iapo sweep plan` and `iapo sweep status` print: one row per run and an overall progress bar. */
import type { RunProgress } from "./run-state";

function fixed(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/** An aligned text table of the runs; `engine` adds the executor's view (queue state, Slurm task) where known. */
export function formatRunTable(rows: RunProgress[], engine: Map<string, string> = new Map()): string {
  const header = ["run", "state", "step", "steps/s", "last eval", "worker / node", ...(engine.size ? ["engine"] : [])];
  const cells = rows.map((r) => [
    r.id,
    r.state,
    `${r.step}/${r.total}`,
    fixed(r.stepsPerSecond, 1),
    fixed(r.lastEvalReturn, 1),
    r.worker ?? "–",
    ...(engine.size ? [engine.get(r.id) ?? "–"] : []),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j].length)));
  const line = (c: string[]): string => c.map((x, j) => x.padEnd(widths[j])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** `[##########..........] 52% of steps; 3/8 finished, 2 running, 1 interrupted, 2 missing`. */
export function formatSweepProgress(rows: RunProgress[], width = 30): string {
  const done = rows.reduce((s, r) => s + Math.min(r.step, r.total), 0);
  const total = rows.reduce((s, r) => s + r.total, 0);
  const frac = total > 0 ? done / total : 0;
  const filled = Math.round(frac * width);
  const count = (state: string): number => rows.filter((r) => r.state === state).length;
  const parts = ["running", "interrupted", "failed", "missing"].filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.floor(frac * 100)}% of steps; ${count("finished")}/${rows.length} finished${parts.length ? ", " + parts.join(", ") : ""}`;
}
