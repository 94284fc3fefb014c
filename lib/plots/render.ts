/** Turning a vega-lite spec into an SVG string or PNG bytes, headless (no browser). */
import * as fs from "node:fs";
import * as path from "node:path";
import type { VegaLiteSpec } from "./spec";
import { withWrappedTitle } from "./title";

// vega and vega-lite load lazily: importing the library should not pay for them until a chart is drawn.
function vegaModules(): { vega: typeof import("vega"); vl: typeof import("vega-lite") } {
  return { vega: require("vega"), vl: require("vega-lite") };
}

/** Renders a vega-lite spec to a standalone SVG document. */
export async function toSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vl } = vegaModules();
  const compiled = vl.compile(spec as unknown as import("vega-lite").TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a vega-lite spec to PNG bytes (text uses the system's fonts). */
export async function toPng(spec: VegaLiteSpec, scale = 2): Promise<Uint8Array> {
  const { Resvg } = require("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
  const svg = await toSvg(spec);
  const resvg = new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, font: { loadSystemFonts: true } });
  return resvg.render().asPng();
}

/** Writes a chart to `file` as SVG, PNG or the vega-lite JSON itself, chosen by the file's extension. */
export async function saveChart(chart: VegaLiteSpec, file: string): Promise<void> {
  const spec = withWrappedTitle(chart);
  const ext = path.extname(file).toLowerCase();
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  if (ext === ".svg") fs.writeFileSync(file, await toSvg(spec));
  else if (ext === ".png") fs.writeFileSync(file, await toPng(spec));
  else if (ext === ".json") fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  else throw new Error(`saveChart: unsupported extension "${ext}" for ${file}; use .svg, .png or .json`);
}
