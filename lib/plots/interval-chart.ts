/**
 * Point estimates with confidence intervals, one row per group (rliable's style of reporting an aggregate, e.g.
 * the IQM of final returns with its 95% stratified-bootstrap interval), optionally one panel per facet value
 * (e.g. per task, each with its own x scale since returns differ across tasks). Computes nothing itself.
 */
import type { Row, VegaLiteSpec } from "./spec";

export interface IntervalChartOptions {
  /** Column naming each row of the chart (nominal), e.g. "optimizer". */
  group: string;
  /** Columns of the point estimate and the interval's ends. */
  estimate: string;
  low: string;
  high: string;
  /** Column giving one panel per value (e.g. "env"). */
  facet?: string;
  title: string;
  /** Axis title for the estimate, with units, e.g. "IQM of final return (95% CI)". */
  xTitle: string;
  width?: number;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

export function intervalChart(data: readonly Row[], o: IntervalChartOptions): VegaLiteSpec {
  const y = { field: o.group, type: "nominal", title: o.group };
  const color = { field: o.group, type: "nominal", legend: null };
  const layer = [
    { mark: { type: "rule", strokeWidth: 2 }, encoding: { y, x: { field: o.low, type: "quantitative", title: o.xTitle, scale: { zero: false } }, x2: { field: o.high }, color } },
    { mark: { type: "point", filled: true, size: 80 }, encoding: { y, x: { field: o.estimate, type: "quantitative", title: o.xTitle }, color } },
  ];
  const inner = { width: o.width ?? 360, layer };
  return o.facet
    ? { $schema: SCHEMA, title: o.title, data: { values: data }, facet: { row: { field: o.facet, type: "nominal", title: o.facet } }, spec: inner, resolve: { scale: { x: "independent" } } }
    : { $schema: SCHEMA, title: o.title, data: { values: data }, ...inner };
}
