/**
 * The browser check itself, on small pages whose faults are known: it must pass a page whose figures are drawn
 * and name each fault of a page that looks like the old export (an SVG reduced to its text), a broken image,
 * a broken link, a missing anchor and a console error. The notebooks test runs the same check on the real report.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toSvg } from "../../lib/plots/render";
import { lineChart } from "../../lib/plots/spec";
import { reportIndexHtml } from "../../lib/cli/report-index";
import { checkReportPages } from "./report-pages";

const dataUri = (svg: string): string => `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;

test("the browser check passes drawn figures and names every fault", { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-report-"));
  const svg = await toSvg(lineChart([{ x: 0, y: 1 }, { x: 1, y: 3 }], { x: "x", y: "y", title: "t" }));
  fs.writeFileSync(
    path.join(dir, "index.html"),
    reportIndexHtml([
      { stem: "good", title: "Good", run: { scale: "smoke", status: "ok", seconds: 3, finished: "2026-01-01T00:00:00Z" }, thumbnail: dataUri(svg) },
      { stem: "bad", title: "Bad", run: null, thumbnail: null },
    ]),
  );
  fs.writeFileSync(
    path.join(dir, "good.html"),
    `<!DOCTYPE html><html><body><h1 id="top">Good</h1><a href="#top">top</a><a href="index.html">index</a>
<img alt="chart" src="${dataUri(svg)}">${svg}
<canvas id="c" width="20" height="20"></canvas><script>document.getElementById("c").getContext("2d").fillRect(0, 0, 5, 5)</script>
</body></html>`,
  );
  fs.writeFileSync(
    path.join(dir, "bad.html"),
    `<!DOCTYPE html><html><body>
<svg class="marks" width="529" height="324">05101520step−505valueRandom walks</svg>
<img alt="gone" src="missing.png"><img alt="text only" src="${dataUri('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"></svg>')}">
<a href="nowhere.html">x</a><a href="#nope">y</a><canvas width="9" height="9"></canvas>
<script>console.error("boom")</script></body></html>`,
  );
  const results = new Map((await checkReportPages(path.join(dir, "index.html"))).map((r) => [r.page, r]));
  assert.deepEqual([...results.keys()].sort(), ["bad.html", "good.html", "index.html"]);
  assert.deepEqual(results.get("index.html")!.problems, []);
  assert.equal(results.get("index.html")!.figures, 1);
  assert.deepEqual(results.get("good.html")!.problems, []);
  assert.equal(results.get("good.html")!.figures, 3); // the image, the inline SVG, the canvas
  const bad = results.get("bad.html")!;
  assert.equal(bad.figures, 0);
  for (const fault of [
    /^inline SVG drawn blank: <svg class="marks"/,
    /^image did not load: gone/,
    /^SVG image has no marks: text only/,
    /^broken link: nowhere\.html/,
    /^link to a missing anchor: #nope/,
    /^canvas has no pixels/,
    /^console error: boom/,
    /^request failed: .*missing\.png/,
  ]) {
    assert.ok(bad.problems.some((p) => fault.test(p)), `${fault} not among ${JSON.stringify(bad.problems, null, 1)}`);
  }
});
