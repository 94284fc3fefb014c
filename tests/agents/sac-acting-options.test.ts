/**
 * The SacConfig options that change how the agent acts and evaluates, on both update paths: the Q-networks J
 * uses when acting (useTargetQForActing), and the evaluation-time iterations (iterations.eval, Sec. 4.2.3), which
 * change evaluation's λ and leave the agent's Rng where acting leaves it. Then the fused and tfjs paths with
 * every update option of the authors' code at once give the same metrics and actions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { SacAgent, type AgentSnapshot } from "../../lib/agents/sac/agent";
import { FIDELITY_OPTIONS_BEFORE_PRESETS, type SacConfig } from "../../lib/agents/sac/config";
import { defaultSacConfig } from "../../lib/presets";
import { evaluationLegs, sideStream } from "../../lib/agents/sac/evaluation-iterations";
import { fusedSacUpdatesEnabled, setFusedSacUpdates } from "../../lib/agents/sac/fused-update";
import { agentEvalPolicy, agentObjective, amortizedLambda } from "../../lib/analysis";
import { statesTensor } from "../../lib/analysis/agent-objective";
import { disposeOptimization } from "../../lib/policy/optimizer";
import type { PolicyParams } from "../../lib/policy/params";
import { relativeError } from "../backend/compare";

const [O, A, COUNT] = [5, 3, 4];

function config(changes: Partial<SacConfig> = {}): SacConfig {
  return {
    // the options as they were before presets: a zero-initialised optimizer head would make every λ the same
    ...defaultSacConfig("HalfCheetah-v2", "iterative", "smoke"),
    ...FIDELITY_OPTIONS_BEFORE_PRESETS,
    batchSize: 32,
    policyHiddenSizes: [32, 32],
    samples: 2,
    iterations: { train: 3, act: 2, eval: 2 },
    learningRate: 3e-3,
    tau: 0.1, // the targets lag the online networks visibly after a few updates
    ...changes,
  };
}

/** 200 random transitions. */
function buffer(): ReplayBuffer {
  const data = new Rng(0);
  const b = new ReplayBuffer(200, O, A);
  for (let i = 0; i < 200; i++) b.add(data.fillNormal(new Float32Array(O)), data.fillUniform(new Float32Array(A), -1, 1), data.normal(), data.fillNormal(new Float32Array(O)), data.random() < 0.2);
  return b;
}

/** An agent after `updates` updates on the path set now (the iterative output layer is then no longer zero). */
function trained(c: SacConfig, updates: number): { agent: SacAgent; metrics: Record<string, number>[] } {
  const agent = SacAgent.create(c, { observationSize: O, actionSize: A }, new Rng(5));
  const b = buffer();
  const rng = new Rng(9);
  const metrics: Record<string, number>[] = [];
  for (let i = 0; i < updates; i++) metrics.push(agent.update(b.sample(32, rng)));
  return { agent, metrics };
}

/** The state of an agent of config `c` after `updates` updates. */
async function trainedState(c: SacConfig, updates: number): Promise<AgentSnapshot> {
  const { agent } = trained(c, updates);
  const state = await agent.getState();
  agent.dispose();
  return state;
}

/** An agent of config `c` holding the weights, Adam states and Rng of `state`. */
async function restored(c: SacConfig, state: AgentSnapshot): Promise<SacAgent> {
  const agent = SacAgent.create(c, { observationSize: O, actionSize: A }, new Rng(1));
  await agent.setState(state);
  return agent;
}

const observations = (): Float32Array => new Rng(11).fillNormal(new Float32Array(COUNT * O)) as Float32Array;

/** The paths to run: tfjs always, fused where the native addon makes it the agent's path. */
function paths(): boolean[] {
  const probe = SacAgent.create(config(), { observationSize: O, actionSize: A }, new Rng(0));
  const fused = fusedSacUpdatesEnabled() && probe.updatePath().path === "fused";
  probe.dispose();
  return fused ? [false, true] : [false];
}

/** Runs `fn` with the fused update on or off, restoring it after. */
async function onPath<T>(fused: boolean, fn: () => Promise<T> | T): Promise<T> {
  setFusedSacUpdates(fused);
  try {
    return await fn();
  } finally {
    setFusedSacUpdates(true);
  }
}

/** λ by hand on tfjs: the agent's optimizer from `init` (or λ0) for `iterations`, J on `q` at β_collect with noise from `rng`. */
function handLambda(agent: SacAgent, q: "online" | "target", iterations: number, rng: Rng, init?: PolicyParams): PolicyParams {
  return tf.tidy(() => {
    const s = statesTensor(observations(), O);
    const r = agent.optimizer.optimize(s, agent.objective(agent.config.betaCollect, agent.alpha, q, rng), { training: false, evaluateFinal: false, iterations, ...(init ? { init } : {}) });
    const out = { mean: r.lambda.mean.clone(), logStd: r.lambda.logStd.clone() };
    disposeOptimization(r);
    return out;
  });
}

const values = (l: PolicyParams): number[] => [...l.mean.dataSync(), ...l.logStd.dataSync()];

test("useTargetQForActing: acting's λ is the optimizer's run on J of the target Q-networks (of the online ones by default), on each path", async () => {
  await initBackend();
  for (const fused of paths()) {
    await onPath(fused, async () => {
      const state = await trainedState(config(), 3);
      for (const useTarget of [false, true]) {
        const agent = await restored(config({ useTargetQForActing: useTarget }), state);
        const got = agent.actingLambda(observations(), COUNT, new Rng(21));
        const want = handLambda(agent, useTarget ? "target" : "online", 2, new Rng(21));
        const other = handLambda(agent, useTarget ? "online" : "target", 2, new Rng(21));
        const g = [...got.mean, ...got.logStd];
        assert.ok(relativeError(g, values(want)) <= 1e-4, `${fused ? "fused" : "tfjs"}, target ${useTarget}: relative error ${relativeError(g, values(want))}`);
        assert.ok(relativeError(g, values(other)) > 1e-3, `${fused ? "fused" : "tfjs"}: the other Q-networks give another λ`);
        tf.dispose([want.mean, want.logStd, other.mean, other.logStd]);
        agent.dispose();
      }
    });
  }
});

test("iterations.eval: evaluation runs that many iterations and leaves the agent's Rng where acting's would, on each path", async () => {
  await initBackend();
  const actions: Record<string, number[]>[] = [];
  for (const fused of paths()) {
    actions.push(await onPath(fused, async () => {
      const state = await trainedState(config(), 3);
      const evalRun = async (act: number, evaluation: number): Promise<{ action: number[]; before: AgentSnapshot["rng"]; rng: AgentSnapshot["rng"] }> => {
        const agent = await restored(config({ iterations: { train: 3, act, eval: evaluation } }), state);
        agent.actingLambda(observations(), COUNT, new Rng(0)); // what the first act makes (the fused path's buffers), made; the agent's Rng unmoved
        const before = (await agent.getState()).rng;
        const tensors = tf.memory().numTensors;
        const action = Array.from(agent.actBatch(observations(), COUNT, "eval"));
        assert.equal(tf.memory().numTensors, tensors, `eval ${evaluation}: no tensor left behind`);
        const rng = (await agent.getState()).rng;
        agent.dispose();
        return { action, before, rng };
      };
      const same = await evalRun(2, 2);
      const fewer = await evalRun(2, 1);
      const more = await evalRun(2, 4);
      // the same draws as acting's 2 iterations
      assert.deepEqual(fewer.rng, same.rng, "eval 1 < act 2: the agent's Rng as after 2 iterations");
      assert.deepEqual(more.rng, same.rng, "eval 4 > act 2: the agent's Rng as after 2 iterations");
      // eval 1: acting's first iteration, as an agent acting with 1 iteration computes it
      assert.deepEqual(fewer.action, (await evalRun(1, 1)).action, "eval 1: the first iteration's λ");
      // eval 4: 2 iterations on the agent's Rng, then 2 more on the side stream (evaluation-iterations.ts), by hand
      const agent = await restored(config(), state);
      const rng = Rng.fromState(more.before);
      const first = handLambda(agent, "online", 2, rng);
      const assertLegs = evaluationLegs(2, 4);
      assert.deepEqual(assertLegs.map((l) => [l.iterations, l.noise]), [[2, "agent"], [2, "side"]]);
      const last = handLambda(agent, "online", 2, sideStream(rng), first);
      const want = Array.from(tf.tidy(() => tf.tanh(last.mean).dataSync()));
      assert.ok(relativeError(more.action, want) <= 1e-4, `eval 4 by hand: relative error ${relativeError(more.action, want)}`);
      assert.ok(relativeError(more.action, same.action) > 1e-4, "4 iterations act otherwise than 2");
      tf.dispose([first.mean, first.logStd, last.mean, last.logStd]);
      agent.dispose();
      return { same: same.action, fewer: fewer.action, more: more.action };
    }));
  }
  if (actions.length === 2) {
    for (const k of ["same", "fewer", "more"]) assert.ok(relativeError(actions[1][k], actions[0][k]) <= 1e-4, `${k}: fused and tfjs evaluation actions agree`);
  }
});

test("the analyses' evaluation policy runs the evaluation iterations", async () => {
  await initBackend();
  const state = await trainedState(config(), 3);
  const agent = await restored(config({ iterations: { train: 3, act: 2, eval: 4 } }), state);
  const policy = agentEvalPolicy(agent, agentObjective(agent, new Rng(3), { purpose: "act", samples: null }));
  const got = policy(observations(), COUNT);
  for (const [iterations, equal] of [[4, true], [2, false]] as const) {
    const s = statesTensor(observations(), O);
    const lambda = amortizedLambda(agent, s, agentObjective(agent, new Rng(3), { purpose: "act", samples: null }), iterations);
    const want = Array.from(tf.tidy(() => tf.tanh(lambda.mean).dataSync()));
    tf.dispose([s, lambda.mean, lambda.logStd]);
    if (equal) assert.deepEqual(Array.from(got), want, "tanh μ after 4 iterations");
    else assert.ok(relativeError(got, want) > 1e-4, "not the acting iterations'");
  }
  agent.dispose();
});

test("fused and tfjs paths agree with all the authors' code's SAC options at once (α loss, Polyak + copies, target Q for the policy and acting)", async () => {
  await initBackend();
  const both = paths();
  if (both.length < 2) return; // one path runs here: nothing to compare
  const c = config({ temperatureLoss: "alpha", targetUpdate: "polyak+hard", tau: 0.25, useTargetQForPolicy: true, useTargetQForActing: true, iterations: { train: 3, act: 2, eval: 3 } });
  const runs: Array<{ metrics: Record<string, number>[]; acts: number[] }> = [];
  for (const fused of both) {
    runs.push(await onPath(fused, () => {
      const { agent, metrics } = trained(c, 6); // copies after updates 1 and 5
      const obs = new Rng(12);
      const acts = [...agent.actBatch(obs.fillNormal(new Float32Array(COUNT * O)), COUNT, "explore"), ...agent.actBatch(obs.fillNormal(new Float32Array(COUNT * O)), COUNT, "eval")];
      agent.dispose();
      return { metrics, acts };
    }));
  }
  const [stock, fused] = runs;
  stock.metrics.forEach((m, u) => {
    assert.deepEqual(Object.keys(fused.metrics[u]), Object.keys(m), `update ${u + 1}: same metrics`);
    for (const [k, want] of Object.entries(m)) {
      const got = fused.metrics[u][k];
      const tolerance = k.startsWith("train/grad_norm") ? 5e-3 : 1e-3; // as fused-update.test.ts's sequences
      assert.ok(Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want)), `update ${u + 1}, ${k}: fused ${got}, tfjs ${want}`);
    }
  });
  assert.ok(relativeError(fused.acts, stock.acts) <= 1e-3, `actions: relative error ${relativeError(fused.acts, stock.acts)}`);
});
