/**
 * Showing charts and tables in a tslab notebook. A chart goes out as ONE display bundle holding the
 * vega-lite spec (JupyterLab renders it interactively), an SVG (what nbconvert's HTML and static viewers
 * show) and a text fallback. Outside a notebook these print a one-line note instead of failing.
 */
import { toSvg } from "./render";
import type { VegaLiteSpec } from "./spec";
import { withWrappedTitle } from "./title";

export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

type DisplayWriter = (content: { data: Record<string, unknown>; metadata: object; transient: object }, update: boolean) => void;

/**
 * tslab's writer for display_data messages, or null when not running in a tslab kernel. tslab's public
 * `display.raw` sends one MIME type per message; the module-level writer lets us send a full bundle.
 */
function tslabWriter(): DisplayWriter | null {
  try {
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: DisplayWriter | null };
    return jupyter.lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

/** True inside a tslab notebook cell. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

/** Sends a MIME bundle (type -> content) as one output; returns false outside a notebook. */
export function displayBundle(data: Record<string, unknown>): boolean {
  const write = tslabWriter();
  if (write === null) return false;
  write({ data, metadata: {}, transient: {} }, false);
  return true;
}

/** Displays a vega-lite chart inline (interactive in JupyterLab, SVG in static exports). */
export async function showChart(chart: VegaLiteSpec): Promise<void> {
  const title = typeof chart.title === "string" ? chart.title : "chart";
  const spec = withWrappedTitle(chart);
  const svg = await toSvg(spec);
  if (!displayBundle({ [VEGALITE_MIME]: spec, "image/svg+xml": svg, "text/plain": `<vega-lite chart: ${title}>` })) {
    console.log(`[chart: ${title}; ${svg.length} bytes of SVG; run in a notebook to see it]`);
  }
}

/** Displays an SVG image (e.g. an env frame or filmstrip); outside a notebook, prints its size. */
export function showSvg(svg: string, title = "image"): void {
  if (!displayBundle({ "image/svg+xml": svg, "text/plain": `<svg: ${title}>` })) console.log(`[svg: ${title}; ${svg.length} bytes]`);
}

/** Displays HTML (with a plain-text fallback). */
export function showHtml(html: string, text: string): void {
  if (!displayBundle({ "text/html": html, "text/plain": text })) console.log(text);
}
