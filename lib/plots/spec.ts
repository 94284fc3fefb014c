/**
 * Vega-lite spec builders. They take plain records (one object per row) and return a spec; they compute
 * nothing from the data themselves (aggregation such as mean ± std is declared in the spec, or done by
 * `analysis/` beforehand), so a plot shows exactly the logged numbers.
 */

/** A vega-lite v5 top-level spec, kept structural so the library's types stay readable by tslab. */
export type VegaLiteSpec = { [key: string]: unknown };

/** One row of data for a chart: column name -> value. */
export type Row = Record<string, string | number | boolean | null>;

export interface LineChartOptions {
  /** Column for the x axis (quantitative). */
  x: string;
  /** Column for the y axis (quantitative). */
  y: string;
  /** Column whose values get one line each (nominal), e.g. "optimizer". */
  color?: string;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Pixel size of the plotting area. */
  width?: number;
  height?: number;
  /** Draw a point on each datum, for short series. */
  points?: boolean;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

function encodingXY(o: LineChartOptions): Record<string, unknown> {
  const enc: Record<string, unknown> = {
    x: { field: o.x, type: "quantitative", title: o.xTitle ?? o.x },
    y: { field: o.y, type: "quantitative", title: o.yTitle ?? o.y, scale: { zero: false } },
  };
  // long curve names ("direct +50 Adam steps") are shown whole, not cut at vega's default 160 px
  if (o.color) enc.color = { field: o.color, type: "nominal", legend: { labelLimit: 280 } };
  return enc;
}

/** A line per `color` group of y against x. */
export function lineChart(data: readonly Row[], o: LineChartOptions): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    ...(o.title ? { title: o.title } : {}),
    width: o.width ?? 480,
    height: o.height ?? 260,
    data: { values: data },
    mark: { type: "line", point: o.points ?? false },
    encoding: encodingXY(o),
  };
}

/**
 * Mean line with a ± one standard deviation band over the rows that share an x (e.g. seeds), one per
 * `color` group: the paper's "mean and ± standard deviation over seeds" curves. Vega-lite computes the
 * mean and std (extent "stdev"), so the rows passed in are the raw per-seed values.
 */
export function meanStdChart(data: readonly Row[], o: LineChartOptions): VegaLiteSpec {
  const enc = encodingXY(o);
  const yField = enc.y as Record<string, unknown>;
  return {
    $schema: SCHEMA,
    ...(o.title ? { title: o.title } : {}),
    width: o.width ?? 480,
    height: o.height ?? 260,
    data: { values: data },
    layer: [
      { mark: { type: "errorband", extent: "stdev", opacity: 0.25 }, encoding: { ...enc, y: { ...yField } } },
      { mark: { type: "line", point: o.points ?? false }, encoding: { ...enc, y: { ...yField, aggregate: "mean" } } },
    ],
  };
}
