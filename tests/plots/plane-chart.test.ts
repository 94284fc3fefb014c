import { test } from "node:test";
import assert from "node:assert/strict";
import { planeChart } from "../../lib/plots/plane-chart";
import { toSvg } from "../../lib/plots/render";

test("planeChart draws one cell per grid point, the arrows, the paths and the optimum", async () => {
  const surface = [];
  for (const mean of [0, 1, 2]) for (const logStd of [-1, 0, 1]) surface.push({ mean, logStd, j: -(mean ** 2) });
  const spec = planeChart({
    surface,
    arrows: [{ mean: 0, logStd: 0, mean2: 0.5, logStd2: 0 }],
    paths: [{ iteration: 0, mean: 0, logStd: 0, label: "a" }, { iteration: 1, mean: 1, logStd: 0, label: "a" }],
    optimum: { mean: 0, logStd: 0 },
    title: "plane",
  });
  const layers = spec.layer as { mark: { type: string } }[];
  assert.deepEqual(layers.map((l) => l.mark.type), ["rect", "rule", "line", "point"]);
  const svg = await toSvg(spec);
  // 9 heatmap cells, each reaching halfway to its neighbours: 0.5 either side of a point spaced 1 apart
  const heatmap = /aria-roledescription="rect mark container">(.*?)<\/g>/.exec(svg);
  assert.ok(heatmap, "no rect marks");
  assert.equal((heatmap[1].match(/<path /g) ?? []).length, 9);
  assert.match(svg, /μ \(pre-tanh mean of the action\)/);
  assert.match(svg, /log σ \(log standard deviation\)/);
  assert.deepEqual((layers[0] as unknown as { encoding: { x: { scale: { domain: number[] } } } }).encoding.x.scale.domain, [-0.5, 2.5]);
});
