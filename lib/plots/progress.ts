/** A live progress display for notebooks: one output block that is updated in place (tslab display ids). */
import { formatDuration, type Progress, type ProgressListener } from "../core/progress";
import { escapeHtml } from "./html";

interface UpdatableDisplay {
  html(s: string): void;
  text(s: string): void;
}

function progressHtml(p: Progress): string {
  const pct = p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : 0;
  const figures = Object.entries(p.figures)
    .map(([k, v]) => `${escapeHtml(k)} <b>${v === null || !Number.isFinite(v) ? "–" : v.toFixed(2)}</b>`)
    .join(" · ");
  return (
    `<div style="font-family:monospace">${escapeHtml(p.label)}: ${p.done}/${p.total} (${pct.toFixed(0)}%) · ` +
    `${p.rate.toFixed(1)}/s · ETA ${formatDuration(p.etaSeconds)}${figures ? " · " + figures : ""}` +
    `<div style="background:#eee;width:320px;height:8px"><div style="background:#4c78a8;width:${(pct * 3.2).toFixed(0)}px;height:8px"></div></div></div>`
  );
}

/**
 * A listener that shows progress in the notebook: one output block per job label (so each run of a sweep keeps
 * its own line), updated in place. Outside a notebook it prints a line at most every `minIntervalMs`.
 */
export function notebookProgress(minIntervalMs = 500): ProgressListener {
  let newDisplay: (() => UpdatableDisplay) | null = null;
  try {
    const tslab = require("tslab") as { newDisplay(): UpdatableDisplay };
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    if (jupyter.lastWriteDisplayData) newDisplay = () => tslab.newDisplay();
  } catch {
    newDisplay = null;
  }
  const displays = new Map<string, UpdatableDisplay>();
  let last = 0;
  return (p: Progress) => {
    const now = Date.now();
    const finished = p.done >= p.total;
    if (!finished && now - last < minIntervalMs) return;
    last = now;
    if (newDisplay) {
      let display = displays.get(p.label);
      if (!display) displays.set(p.label, (display = newDisplay()));
      display.html(progressHtml(p));
    } else {
      console.log(`${p.label}: ${p.done}/${p.total} ${p.rate.toFixed(1)}/s ETA ${formatDuration(p.etaSeconds)}`);
    }
  };
}
