/**
 * Fig 1's landscape: one agent's J with another (iterative) agent's optimizer moving on it. The surface, estimate
 * and optimum are exactly the landscape estimator's for the first agent; the path starts at λ0 on that same surface.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { SacAgent } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { landscapeWithOptimizer, makeEstimator, type AnalysisContext } from "../../lib/analysis";

const POINT = { observationSize: 4, actionSize: 2 };
const agent = (kind: "direct" | "iterative", seed: number, spec = POINT, env = "PointReach-v0"): SacAgent => SacAgent.create(defaultSacConfig(env, kind, "smoke"), spec, new Rng(seed));
const context = (a: SacAgent): AnalysisContext => ({ agent: a, env: "PointReach-v0", step: 40, seed: 3, runDir: null });
// odd resolution over [-3, 3]: the grid holds μ = (0, 0), where every trajectory starts
const SETTINGS = { resolution: 5, dimX: 0, dimY: 1, iterations: 4, timeLimit: 10 };

test("a direct agent's landscape with an iterative agent's path: the estimator's surface, and a path from λ0 on it", async () => {
  await initBackend();
  const direct = agent("direct", 1);
  const iterative = agent("iterative", 2);
  try {
    const before = tf.memory().numTensors;
    const rows = await landscapeWithOptimizer(context(direct), iterative, SETTINGS);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    const own = await makeEstimator("landscape", SETTINGS).run(context(direct));
    const without = (kind: string, rs: typeof rows) => rs.filter((r) => r.kind === kind);
    for (const kind of ["grid", "amortized", "optimum"]) assert.deepEqual(without(kind, rows), without(kind, own), `${kind} rows as the estimator's`);
    assert.equal(without("trajectory", own).length, 0, "a direct agent alone has no path");
    const path = without("trajectory", rows);
    assert.deepEqual(path.map((r) => r.iteration), [0, 1, 2, 3, 4]);
    assert.ok(path.every((r) => r.run === 0), "one start: one run");
    assert.ok(path.every((r) => r.optimizer === "iterative"), "the path names the optimizer that made it");
    assert.deepEqual([path[0].mu_x, path[0].mu_y], [0, 0], "starts at λ0 (μ = 0)");
    const origin = rows.find((r) => r.kind === "grid" && r.mu_x === 0 && r.mu_y === 0);
    assert.ok(origin);
    assert.ok(Math.abs((path[0].j as number) - (origin.j as number)) < 1e-5, `path J ${path[0].j} on the drawn surface (${origin.j})`);
    // an untrained iterative network outputs δ = 0 with gate ½ (A.4), so from μ = 0 it stays there on every step
    for (const r of path) assert.ok(Math.abs(r.mu_x as number) < 1e-6 && Math.abs(r.mu_y as number) < 1e-6 && Math.abs((r.j as number) - (origin.j as number)) < 1e-5, `iteration ${r.iteration} at (${r.mu_x}, ${r.mu_y})`);
  } finally {
    direct.dispose();
    iterative.dispose();
  }
});

test("several starts (Fig 2): one path per run from distinct random points of the grid, each moved by the optimizer on its own", async () => {
  await initBackend();
  const iterative = agent("iterative", 2);
  try {
    const before = tf.memory().numTensors;
    const settings = { ...SETTINGS, iterations: 3, starts: 4, extent: 2, cloudSamples: 6 };
    const rows = await makeEstimator("landscape", settings).run(context(iterative));
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    const path = rows.filter((r) => r.kind === "trajectory");
    assert.deepEqual([...new Set(path.map((r) => r.run))], [0, 1, 2, 3]);
    const starts = path.filter((r) => r.iteration === 0);
    for (const s of starts) assert.ok(Math.abs(s.mu_x as number) <= 2 && Math.abs(s.mu_y as number) <= 2, `start (${s.mu_x}, ${s.mu_y}) inside the grid`);
    assert.equal(new Set(starts.map((s) => `${s.mu_x},${s.mu_y}`)).size, 4, "distinct starts");
    // an untrained optimizer (δ = 0, gate ½) halves μ each iteration: each run from its own start
    for (const r of path) {
      const s = starts.find((t) => t.run === r.run) as (typeof rows)[number];
      const k = r.iteration as number;
      assert.ok(Math.abs((r.mu_x as number) - (s.mu_x as number) / 2 ** k) < 1e-6 && Math.abs((r.mu_y as number) - (s.mu_y as number) / 2 ** k) < 1e-6, `run ${r.run} iteration ${k}`);
    }
    // Fig 2's densities: each run's end action tanh(μ) and 6 samples of its π, in the plotted dimensions
    for (let run = 0; run < 4; run++) {
      const end = path.filter((r) => r.run === run).at(-1) as (typeof rows)[number];
      const estimate = rows.filter((r) => r.kind === "estimate" && r.run === run);
      assert.deepEqual(estimate.map((r) => [r.a_x, r.a_y, r.state]), [[Math.tanh(end.mu_x as number), Math.tanh(end.mu_y as number), 0]]);
      const cloud = rows.filter((r) => r.kind === "cloud" && r.run === run);
      assert.deepEqual(cloud.map((r) => r.sample), [0, 1, 2, 3, 4, 5]);
      assert.ok(cloud.every((r) => Math.abs(r.a_x as number) < 1 && Math.abs(r.a_y as number) < 1));
    }
    assert.deepEqual(await makeEstimator("landscape", settings).run(context(iterative)), rows, "the starts and samples are a function of the context");
    assert.throws(() => makeEstimator("landscape", { ...settings, starts: 0 }), /setting "starts" must be an integer in \[1, 1000\]/);
  } finally {
    iterative.dispose();
  }
});

test("the path needs an iterative agent made for the same task", async () => {
  await initBackend();
  const direct = agent("direct", 1);
  const other = agent("direct", 2);
  const pendulum = agent("iterative", 3, { observationSize: 3, actionSize: 1 }, "Pendulum-v1");
  try {
    await assert.rejects(landscapeWithOptimizer(context(direct), other, SETTINGS), /needs an iterative agent, got a direct one/);
    await assert.rejects(landscapeWithOptimizer(context(direct), pendulum, SETTINGS), /made for another task \(observation 3, action 1\)/);
    await assert.rejects(landscapeWithOptimizer(context(direct), agent("iterative", 4), { ...SETTINGS, dimY: 0 }), /"dimX" and "dimY" must differ/);
  } finally {
    direct.dispose();
    other.dispose();
    pendulum.dispose();
  }
});
