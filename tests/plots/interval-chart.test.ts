import { test } from "node:test";
import assert from "node:assert/strict";
import { intervalChart } from "../../lib/plots/interval-chart";
import { toSvg } from "../../lib/plots/render";

const rows = [
  { env: "A", optimizer: "direct", iqm: 1, low: 0.5, high: 1.5 },
  { env: "A", optimizer: "iterative", iqm: 2, low: 1.5, high: 3 },
  { env: "B", optimizer: "direct", iqm: -100, low: -120, high: -90 },
];

test("intervalChart draws a point and an interval bar per group, one panel per facet value", async () => {
  const spec = intervalChart(rows, { group: "optimizer", estimate: "iqm", low: "low", high: "high", facet: "env", title: "t", xTitle: "IQM (95% CI)" });
  assert.deepEqual(spec.facet, { row: { field: "env", type: "nominal", title: "env" } });
  assert.deepEqual(spec.resolve, { scale: { x: "independent" } });
  const svg = await toSvg(spec);
  const count = (role: string): number => {
    const groups = svg.split(`aria-roledescription="${role} mark container">`).slice(1);
    return groups.reduce((n, g) => n + (g.split("</g>")[0].match(/<(path|line)[ >]/g) ?? []).length, 0);
  };
  assert.equal(count("symbol"), 3);
  assert.equal(count("rule"), 3);
  assert.match(svg, /IQM \(95% CI\)/);
  const flat = intervalChart(rows.slice(0, 2), { group: "optimizer", estimate: "iqm", low: "low", high: "high", title: "t", xTitle: "x" });
  assert.equal(flat.facet, undefined);
  assert.equal((flat.layer as unknown[]).length, 2);
});
