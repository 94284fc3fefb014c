/**
 * The registered estimators on small agents: each leaves the agent exactly as it was (its getState before and
 * after are equal, so no Rng but the estimator's own was drawn from), gives identical rows for the same context,
 * frees every tensor it makes, checks its settings, and its rows agree with themselves (the gap's before/after equal its ascent trace's ends
 * under common random numbers; a direct agent has a single estimate, so its multiple estimates coincide).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ConfigError, UnknownNameError } from "../../lib/core/errors";
import { SacAgent } from "../../lib/agents";
import { defaultSacConfig } from "../../lib/presets";
import { agentEvalPolicy, agentObjective, estimatorNames, makeEstimator, testTimePolicy, type AnalysisContext, type AnalysisRow } from "../../lib/analysis";

type Kind = "direct" | "iterative";

function agentFor(env: "Pendulum-v1" | "PointReach-v0", kind: Kind, seed = 7): SacAgent {
  const spec = env === "Pendulum-v1" ? { observationSize: 3, actionSize: 1 } : { observationSize: 4, actionSize: 2 };
  return SacAgent.create(defaultSacConfig(env, kind, "smoke"), spec, new Rng(seed));
}

/** Small settings per estimator (CI time); defaults are the paper's. */
const SMALL: Record<string, Record<string, unknown>> = {
  "amortization-gap": { states: 6, steps: 8, timeLimit: 10 },
  landscape: { resolution: 4, dimX: 0, dimY: 1, iterations: 3, timeLimit: 10 },
  "multiple-estimates": { states: 5, cloudStates: 1, cloudSamples: 3, timeLimit: 10 },
  "optimizer-comparison": { states: 4, iterations: 3, cemPopulation: 12, cemElites: 3, optimizers: "amortized,adam,cem-actions,cem-lambda", timeLimit: 10 },
  "per-iteration": { states: 5, timeLimit: 10, episodeSteps: 4 },
  "test-time": { episodes: 2, adamSteps: 2, states: 5, samples: 3, timeLimit: 8 },
};

const context = (agent: SacAgent, env: string): AnalysisContext => ({ agent, env, step: 1234, seed: 5, runDir: null });

/** Rows without wall-clock fields (the only part of a row that is not a function of the context). */
const timeless = (rows: AnalysisRow[]): AnalysisRow[] => rows.map(({ seconds: _s, ...rest }) => rest as AnalysisRow);

test("every estimator of the paper is registered", () => {
  for (const name of ["amortization-gap", "value-bias", "policy-change", "landscape", "multiple-estimates", "optimizer-comparison", "per-iteration", "test-time"]) assert.ok(estimatorNames().includes(name), name);
  assert.equal(makeEstimator("gap").name, "amortization-gap", "the short name selects the gap estimator");
});

for (const kind of ["direct", "iterative"] as const) {
  test(`${kind} agent: every estimator leaves the agent unchanged and repeats its rows exactly`, async () => {
    await initBackend();
    for (const name of Object.keys(SMALL)) {
      const env = name === "landscape" ? "PointReach-v0" : "Pendulum-v1";
      const agent = agentFor(env, kind);
      const before = await agent.getState();
      const estimator = makeEstimator(name, SMALL[name]);
      const rows = await estimator.run(context(agent, env));
      assert.deepEqual(await agent.getState(), before, `${name} changed the agent`);
      const tensors = tf.memory().numTensors;
      const again = await makeEstimator(name, SMALL[name]).run(context(agent, env));
      assert.equal(tf.memory().numTensors, tensors, `${name} left tensors behind`);
      assert.deepEqual(timeless(again), timeless(rows), `${name}: same context, different rows`);
      assert.ok(rows.length > 0);
      for (const r of rows) {
        assert.equal(r.estimator, name);
        assert.equal(r.step, 1234);
        assert.deepEqual(r.settings, estimator.settings);
        assert.doesNotThrow(() => JSON.stringify(r));
      }
      if (name === "amortization-gap") {
        const other = await estimator.run({ ...context(agent, env), step: 99 });
        assert.notDeepEqual(other.map((r) => ({ ...r, step: 0 })), rows.map((r) => ({ ...r, step: 0 })), "another step draws other states");
      }
      agent.dispose();
    }
  });
}

test("amortization gap rows: gap = J(after) − J(before) per state, and the fixed-noise ascent trace starts and ends at their means", async () => {
  await initBackend();
  const agent = agentFor("Pendulum-v1", "iterative");
  const rows = await makeEstimator("amortization-gap", { states: 6, steps: 20, learningRate: 0.05, timeLimit: 10 }).run(context(agent, "Pendulum-v1"));
  for (const variant of ["amortized", "amortized+5"]) {
    const summary = rows.find((r) => r.kind === "summary" && r.variant === variant) as AnalysisRow;
    const states = rows.filter((r) => r.kind === "state" && r.variant === variant);
    const trace = rows.filter((r) => r.kind === "trace" && r.variant === variant).map((r) => r.j_mean as number);
    assert.equal(states.length, 6);
    assert.equal(trace.length, 21);
    for (const s of states) assert.ok(Math.abs((s.gap as number) - ((s.j_after as number) - (s.j_before as number))) < 1e-9);
    const meanGap = states.reduce((a, s) => a + (s.gap as number), 0) / 6;
    assert.ok(Math.abs((summary.gap_mean as number) - meanGap) < 1e-9);
    assert.ok(Math.abs(trace[0] - (summary.j_before_mean as number)) < 1e-4, `${variant}: trace starts at ${trace[0]}, J(amortized) ${summary.j_before_mean}`);
    assert.ok(Math.abs(trace[20] - (summary.j_after_mean as number)) < 1e-4);
    assert.ok((summary.gap_mean as number) > 0, `${variant}: ascent on the same J cannot lose on average (${summary.gap_mean})`);
  }
  const direct = agentFor("Pendulum-v1", "direct");
  const directRows = await makeEstimator("amortization-gap", { states: 4, steps: 3, timeLimit: 10 }).run(context(direct, "Pendulum-v1"));
  assert.deepEqual([...new Set(directRows.map((r) => r.variant))], ["amortized"], "no extra-iteration variant for a direct agent");
  agent.dispose();
  direct.dispose();
});

test("test-time rows: J gain and return change are the refined minus the amortized figures, paired per state and episode seed", async () => {
  await initBackend();
  for (const kind of ["direct", "iterative"] as const) {
    const agent = agentFor("Pendulum-v1", kind);
    const rows = await makeEstimator("test-time", { adamSteps: 5, samples: 4, episodes: 2, states: 6, timeLimit: 6 }).run(context(agent, "Pendulum-v1"));
    const label = kind === "direct" ? "adam+5" : "iterative+5";
    const of = (k: string, variant: string) => rows.filter((r) => r.kind === k && r.variant === variant);
    const [plain, refined] = [of("summary", "amortized")[0], of("summary", label)[0]];
    assert.deepEqual([plain.extra_steps, refined.extra_steps], [0, 5]);
    const [jPlain, jRefined] = [of("state", "amortized"), of("state", label)];
    assert.equal(jRefined.length, 6);
    jRefined.forEach((r, i) => assert.ok(Math.abs((r.j_gain as number) - ((r.j as number) - (jPlain[i].j as number))) < 1e-9));
    const meanGain = jRefined.reduce((a, r) => a + (r.j_gain as number), 0) / 6;
    assert.ok(Math.abs((refined.j_gain_mean as number) - meanGain) < 1e-9);
    assert.ok(Math.abs((refined.j_mean as number) - (plain.j_mean as number) - meanGain) < 1e-9);
    const [ePlain, eRefined] = [of("episode", "amortized"), of("episode", label)];
    assert.equal(eRefined.length, 2);
    eRefined.forEach((r, i) => assert.ok(Math.abs((r.return_change as number) - ((r.return as number) - (ePlain[i].return as number))) < 1e-9));
    assert.equal(plain.j_gain_mean, undefined, "the amortized variant has no change of its own");
    agent.dispose();
  }
});

test("a test-time policy draws the acting J's noise exactly as the plain evaluation policy does (paired episodes)", async () => {
  await initBackend();
  const agent = agentFor("Pendulum-v1", "iterative");
  const start = new Rng(3).getState();
  const [plainRng, refinedRng] = [Rng.fromState(start), Rng.fromState(start)];
  const plain = agentEvalPolicy(agent, agentObjective(agent, plainRng, { purpose: "act", samples: null }));
  // the refinement climbs J on 4 samples (not the agent's 1): its noise must come from a stream of its own
  const refined = testTimePolicy(agent, refinedRng, { mode: "adam", adamSteps: 2, adamLearningRate: 1e-9, extraIterations: 1, samples: 4 }).batch;
  const observations = Float32Array.from([1, 0, 0, 0.6, 0.8, -1]);
  const [a, b] = [plain(observations, 2), refined(observations, 2)];
  assert.deepEqual(refinedRng.getState(), plainRng.getState(), "the acting streams advanced differently");
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `action ${i}: ${v} vs ${b[i]} after a 1e-9 refinement`));
  agent.dispose();
});

test("test-time Adam refinement raises J on average over agents (fixed-noise scoring, 32 action samples)", async () => {
  await initBackend();
  const gains: number[] = [];
  for (const seed of [1, 2, 3, 7]) {
    const agent = agentFor("Pendulum-v1", "direct", seed);
    const rows = await makeEstimator("test-time", { adamSteps: 20, adamLearningRate: 0.015, samples: 32, episodes: 1, states: 4, timeLimit: 4 }).run(context(agent, "Pendulum-v1"));
    gains.push(rows.find((r) => r.kind === "summary" && r.variant === "adam+20")?.j_gain_mean as number);
    agent.dispose();
  }
  assert.ok(gains.reduce((a, g) => a + g, 0) / gains.length > 0.01, `mean J gain over agents ${gains.join(", ")}`);
});

test("multiple estimates: a direct agent's runs coincide (distance exactly 0); an iterative agent's differ", async () => {
  await initBackend();
  const distance = async (kind: Kind): Promise<number> => {
    const agent = agentFor("Pendulum-v1", kind);
    const rows = await makeEstimator("multiple-estimates", SMALL["multiple-estimates"]).run(context(agent, "Pendulum-v1"));
    agent.dispose();
    return rows.find((r) => r.kind === "summary")?.distance_mean as number;
  };
  assert.equal(await distance("direct"), 0);
  assert.ok((await distance("iterative")) > 0);
});

test("per-iteration along an episode (Fig 4a/b): each time step's λ at every iterate and ΔJ per iteration, the other rows unchanged", async () => {
  await initBackend();
  const rowsOf = async (kind: Kind, episodeSteps: number): Promise<AnalysisRow[]> => {
    const agent = agentFor("Pendulum-v1", kind);
    const rows = await makeEstimator("per-iteration", { states: 5, timeLimit: 6, iterations: 3, episodeSteps }).run(context(agent, "Pendulum-v1"));
    agent.dispose();
    return rows;
  };
  const without = (rows: AnalysisRow[]): AnalysisRow[] => rows.filter((r) => !String(r.kind).startsWith("episode")).map(({ settings: _s, ...r }) => r as AnalysisRow);
  const plain = await rowsOf("iterative", 0);
  const traced = await rowsOf("iterative", 10);
  assert.equal(plain.filter((r) => String(r.kind).startsWith("episode")).length, 0, "no episode rows unless asked");
  assert.deepEqual(without(traced), without(plain), "the episode's rows come after, from their own random stream");
  // the episode has 6 steps (timeLimit), fewer than the 10 asked for; 4 iterates (λ0 and 3 iterations), 1 action dimension
  const lambda = traced.filter((r) => r.kind === "episode-lambda");
  assert.deepEqual(lambda.map((r) => [r.iteration, r.t]), [0, 1, 2, 3].flatMap((k) => [0, 1, 2, 3, 4, 5].map((t) => [k, t])));
  for (const r of lambda.filter((l) => l.iteration === 0)) assert.deepEqual([r.mu, r.sigma], [0, 1], "every time step starts at λ0 = (0, σ0 = 1)");
  for (const r of lambda) assert.ok(Math.abs((r.action as number) - Math.tanh(r.mu as number)) < 1e-12);
  const improvement = traced.filter((r) => r.kind === "episode-improvement");
  assert.deepEqual(improvement.map((r) => [r.iteration, r.t]), [1, 2, 3].flatMap((k) => [0, 1, 2, 3, 4, 5].map((t) => [k, t])));
  const direct = (await rowsOf("direct", 10)).filter((r) => String(r.kind).startsWith("episode"));
  assert.ok(direct.every((r) => r.kind === "episode-lambda" && r.iteration === 0) && direct.length === 6, "a direct agent: one estimate per time step, nothing to improve");
});

test("bad estimator names and settings fail naming the problem", async () => {
  await initBackend();
  assert.throws(() => makeEstimator("amortisation-gap"), (e: Error) => e instanceof UnknownNameError && /amortisation-gap/.test(e.message) && /amortization-gap/.test(e.message));
  assert.throws(() => makeEstimator("amortization-gap", { stpes: 3 }), (e: Error) => e instanceof ConfigError && /unknown setting "stpes"/.test(e.message) && /steps/.test(e.message));
  assert.throws(() => makeEstimator("amortization-gap", { learningRate: -1 }), /setting "learningRate" must be a number in \(0, 10\]/);
  assert.throws(() => makeEstimator("amortization-gap", { states: 2.5 }), /setting "states" must be an integer/);
  assert.throws(() => makeEstimator("amortization-gap", { ascentNoise: "loud" }), /"ascentNoise" must be one of fixed, fresh/);
  assert.throws(() => makeEstimator("landscape", { dimX: 1, dimY: 1 }), /"dimX" and "dimY" must differ/);
  assert.throws(() => makeEstimator("optimizer-comparison", { optimizers: "adam,lbfgs" }), /"optimizers" must be a comma-separated list/);
  assert.throws(() => makeEstimator("optimizer-comparison", { cemPopulation: 5, cemElites: 6 }), /"cemElites"/);
  const pendulum = agentFor("Pendulum-v1", "direct");
  await assert.rejects(makeEstimator("landscape").run(context(pendulum, "Pendulum-v1")), /"dimX" \(0\) must be below the action size|"dimY" \(2\) must be below the action size/);
  await assert.rejects(makeEstimator("test-time", { mode: "iterations", episodes: 1, timeLimit: 5 }).run(context(pendulum, "Pendulum-v1")), /needs an iterative agent/);
  await assert.rejects(makeEstimator("amortization-gap", { states: 50, maxEpisodes: 1, timeLimit: 10 }).run(context(pendulum, "Pendulum-v1")), /visited only 10 states, fewer than the 50/);
  assert.throws(() => testTimePolicy(pendulum, new Rng(0), { mode: "adam", adamSteps: 1, adamLearningRate: 0.01, extraIterations: 1 }).act([1, 0, 0], "explore"), /only evaluates/);
  pendulum.dispose();
});
