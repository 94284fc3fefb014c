/**
 * Progress of a long job (training, sweeps, analyses), reported as plain records so that each front end draws
 * it its own way: a text bar on a terminal (`formatProgressLine`), a live HTML block in a notebook
 * (plots/progress.ts).
 */
export interface Progress {
  /** What is running, e.g. "Hopper-v2 iterative seed 0". */
  label: string;
  /** Units done so far (environment steps for training). */
  done: number;
  total: number;
  /** Recent throughput in units per second. */
  rate: number;
  /** Seconds left at the recent rate; null before the rate is known. */
  etaSeconds: number | null;
  /** Extra figures to show, e.g. { "return": 153.2, "eval": 210.4 }. */
  figures: Record<string, number | null>;
}

export type ProgressListener = (p: Progress) => void;

/** "1h02m", "3m05s", "42s". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

function formatFigure(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

/** One line: `label [#####.....] 5000/10000 50% 120 steps/s ETA 42s return 12.3`. */
export function formatProgressLine(p: Progress, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const figures = Object.entries(p.figures).map(([k, v]) => `${k} ${formatFigure(v)}`).join("  ");
  return `${p.label} [${bar}] ${p.done}/${p.total} ${Math.floor(frac * 100)}% ${p.rate.toFixed(1)}/s ETA ${formatDuration(p.etaSeconds)}${figures ? "  " + figures : ""}`;
}
