/**
 * A chart of an objective over the (μ, log σ) plane of a one-dimensional action: J as a heatmap, optionally the
 * gradient field as short arrows, the paths of optimizers' estimates λ_0, λ_1, … (one colour each, numbered by
 * iteration) and the optimum (a black cross). Takes the rows of policy/objective-surface.ts; computes nothing itself.
 */
import type { Row, VegaLiteSpec } from "./spec";

export interface PlaneChartOptions {
  /** Rows with mean, logStd and j on a regular grid. */
  surface: readonly Row[];
  /** Rows with mean, logStd, mean2, logStd2: drawn as segments (e.g. a scaled gradient). */
  arrows?: readonly Row[];
  /** Rows with iteration, mean, logStd and label: one path per label. */
  paths?: readonly Row[];
  /** The optimum, marked with a cross. */
  optimum?: { mean: number; logStd: number };
  title: string;
  /** Colour legend title, e.g. "J(λ)". */
  jTitle?: string;
  width?: number;
  height?: number;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

export function planeChart(o: PlaneChartOptions): VegaLiteSpec {
  const x = { field: "mean", type: "quantitative", title: "μ (pre-tanh mean of the action)" };
  const y = { field: "logStd", type: "quantitative", title: "log σ (log standard deviation)" };
  // each grid point is drawn as a cell reaching halfway to its neighbours
  const points = Math.max(2, Math.round(Math.sqrt(o.surface.length)));
  const [m0, m1] = extentOf(o.surface, "mean");
  const [l0, l1] = extentOf(o.surface, "logStd");
  const dm = (m1 - m0) / (points - 1) / 2;
  const dl = (l1 - l0) / (points - 1) / 2;
  const layers: Record<string, unknown>[] = [
    {
      data: { values: o.surface },
      transform: [
        { calculate: `datum.mean - ${dm}`, as: "mean_lo" },
        { calculate: `datum.mean + ${dm}`, as: "mean_hi" },
        { calculate: `datum.logStd - ${dl}`, as: "logStd_lo" },
        { calculate: `datum.logStd + ${dl}`, as: "logStd_hi" },
      ],
      mark: { type: "rect" },
      encoding: {
        x: { ...x, field: "mean_lo", scale: { domain: [m0 - dm, m1 + dm], nice: false } },
        x2: { field: "mean_hi" },
        y: { ...y, field: "logStd_lo", scale: { domain: [l0 - dl, l1 + dl], nice: false } },
        y2: { field: "logStd_hi" },
        color: { field: "j", type: "quantitative", title: o.jTitle ?? "J(λ)", scale: { scheme: "viridis" } },
      },
    },
  ];
  if (o.arrows?.length) {
    layers.push({
      data: { values: o.arrows },
      mark: { type: "rule", color: "white", opacity: 0.8 },
      encoding: { x, y, x2: { field: "mean2" }, y2: { field: "logStd2" } },
    });
  }
  if (o.paths?.length) {
    const color = { field: "label", type: "nominal", title: "estimates", scale: { scheme: "dark2" }, legend: { labelLimit: 280 } };
    layers.push({ data: { values: o.paths }, mark: { type: "line", point: { filled: true, size: 40 } }, encoding: { x, y, order: { field: "iteration" }, color } });
  }
  if (o.optimum) {
    layers.push({ data: { values: [{ ...o.optimum, label: "optimum" }] }, mark: { type: "point", shape: "cross", size: 160, color: "black", filled: true }, encoding: { x, y } });
  }
  return { $schema: SCHEMA, title: o.title, width: o.width ?? 380, height: o.height ?? 300, layer: layers, resolve: { scale: { color: "independent" } } };
}

function extentOf(rows: readonly Row[], key: string): [number, number] {
  const v = rows.map((r) => Number(r[key]));
  return [Math.min(...v), Math.max(...v)];
}
