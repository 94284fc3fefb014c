import { test } from "node:test";
import assert from "node:assert/strict";
import { lineChart, meanStdChart, toSvg, toPng, tableHtml, tableText, toDataFrame, wrapTitle, withWrappedTitle, TITLE_LINE_CHARS } from "../../lib/plots";

const rows = [
  { step: 0, seed: 0, value: 1 },
  { step: 0, seed: 1, value: 3 },
  { step: 1, seed: 0, value: 2 },
  { step: 1, seed: 1, value: 6 },
];

test("lineChart builds a vega-lite v5 line spec over the given columns", () => {
  const spec = lineChart(rows, { x: "step", y: "value", color: "seed", title: "t" });
  assert.equal(spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
  assert.deepEqual((spec.data as { values: unknown[] }).values, rows);
  const enc = spec.encoding as Record<string, { field: string }>;
  assert.equal(enc.x.field, "step");
  assert.equal(enc.y.field, "value");
  assert.equal(enc.color.field, "seed");
});

test("meanStdChart declares a mean line and a ±1 std band computed by vega-lite", () => {
  const spec = meanStdChart(rows, { x: "step", y: "value" });
  const layers = spec.layer as { mark: { type: string; extent?: string }; encoding: { y: { aggregate?: string } } }[];
  assert.equal(layers[0].mark.type, "errorband");
  assert.equal(layers[0].mark.extent, "stdev");
  assert.equal(layers[1].encoding.y.aggregate, "mean");
});

test("a chart renders to an SVG document with its title, axis titles and marks", async () => {
  const svg = await toSvg(meanStdChart(rows, { x: "step", y: "value", title: "Means", yTitle: "return" }));
  assert.match(svg, /^<svg/);
  assert.match(svg, />Means</);
  assert.match(svg, />return</);
  assert.match(svg, /class="mark-area/); // the std band
  assert.match(svg, /class="mark-line/); // the mean line
});

test("a chart renders to a PNG image", async () => {
  const png = await toPng(lineChart(rows, { x: "step", y: "value" }), 1);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test("tables render records and danfojs frames alike, escaping HTML", () => {
  const records = [{ name: "<b>", x: 1.23456 }, { name: "y", x: 2 }];
  const html = tableHtml(records, 2);
  assert.match(html, /<th>name<\/th><th>x<\/th>/);
  assert.match(html, /<td>&lt;b&gt;<\/td><td>1\.23<\/td>/);
  assert.equal(tableHtml(toDataFrame(records), 2), html);
  assert.equal(tableText(records, 1), "name    x\n <b>  1.2\n   y    2");
});

test("long chart titles are broken into lines at spaces so the figure keeps its plot's width", async () => {
  assert.deepEqual(wrapTitle("aa bb cc dd", 5), ["aa bb", "cc dd"]);
  assert.deepEqual(wrapTitle("a   verylongword b", 5), ["a", "verylongword", "b"]);
  assert.deepEqual(wrapTitle("", 5), []);
  assert.throws(() => wrapTitle("x", 0), /width must be a positive integer, got 0/);
  const short = { title: "Return", mark: "point" };
  assert.equal(withWrappedTitle(short), short);
  const title = "Hopper-v2: evaluation return, mean ± std over seeds (quick scale, preset paper, 8000 steps, 2 seeds 0,1, commit abc1234)";
  const long = lineChart([{ x: 0, y: 1, g: "a" }, { x: 1, y: 2, g: "a" }], { x: "x", y: "y", color: "g", title });
  const wrapped = withWrappedTitle(long);
  const lines = (wrapped.title as { text: string[] }).text;
  assert.equal(lines.join(" "), title);
  assert.ok(lines.length >= 2 && lines.every((l) => l.length <= TITLE_LINE_CHARS));
  // drawn, the wrapped chart is as wide as the same chart without a title; one line of title made it far wider
  const width = (svg: string): number => Number(/<svg[^>]*width="([\d.]+)"/.exec(svg)![1]);
  const [oneLine, broken, untitled] = [width(await toSvg(long)), width(await toSvg(wrapped)), width(await toSvg({ ...long, title: undefined }))];
  assert.ok(oneLine > untitled + 300, `one line ${oneLine} px vs untitled ${untitled} px`);
  assert.ok(broken <= untitled + 10, `wrapped ${broken} px vs untitled ${untitled} px`);
});
