import { test } from "node:test";
import assert from "node:assert/strict";
import { NonFiniteError } from "../../lib/core/errors";
import { Rng } from "../../lib/core/rng";
import { ActionError, EnvPhaseError, EnvStateError } from "../../lib/envs/errors";
import { MujocoEnv } from "../../lib/envs/mujoco/mujocoEnv";
import { liveModelCount } from "../../lib/envs/mujoco/runtime";
import { MUJOCO_TASKS } from "../../lib/envs/mujoco/tasks";
import { MUJOCO_ENV_NAMES, makeEnv, makeEnvCopies } from "../../lib/envs/registry";
import type { Env, EnvState, StepResult } from "../../lib/envs/types";

/** qpos / qvel out of a MuJoCo env state ([time, qpos, qvel, warmstart, ctrl]). */
function split(env: Env, s: EnvState): { qpos: number[]; qvel: number[] } {
  const m = (env as MujocoEnv).native().model;
  return { qpos: s.physics.slice(1, 1 + m.nq), qvel: s.physics.slice(1 + m.nq, 1 + m.nq + m.nv) };
}

function randomActions(n: number, size: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.fillUniform(new Float64Array(size), -1, 1) as Float64Array);
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Steps until done or `actions` run out; restarts are not done here. */
function rollout(env: Env, actions: Float64Array[]): StepResult[] {
  const out: StepResult[] = [];
  for (const a of actions) {
    const r = env.step(a);
    out.push(r);
    if (r.terminated || r.truncated) break;
  }
  return out;
}

const MUJOCO_SIZES: Record<string, { obs: number; act: number; dt: number }> = {
  "Hopper-v2": { obs: 11, act: 3, dt: 0.008 },
  "Walker2d-v2": { obs: 17, act: 6, dt: 0.008 },
  "HalfCheetah-v2": { obs: 17, act: 6, dt: 0.05 },
  "Ant-v2": { obs: 27, act: 8, dt: 0.05 },
};

test("observation and action sizes, bounds and dt follow the task table", async () => {
  for (const name of MUJOCO_ENV_NAMES) {
    const env = await makeEnv(name);
    const { obs, act, dt } = MUJOCO_SIZES[name];
    assert.equal(env.observationSize, obs, name);
    assert.equal(env.actionSize, act, name);
    assert.ok(Math.abs(env.dt - dt) < 1e-15, `${name} dt ${env.dt}`);
    assert.equal(env.timeLimit, 1000);
    assert.deepEqual(Array.from(env.actionLow), new Array(act).fill(-1));
    assert.deepEqual(Array.from(env.actionHigh), new Array(act).fill(1));
    assert.equal(env.reset({ seed: 1 }).observation.length, obs);
    assert.equal(env.step(new Float64Array(act)).observation.length, obs);
    env.dispose();
  }
});

test("observation is qpos[k:] then qvel, clipped to ±10 for Hopper and Walker2d", async () => {
  for (const name of MUJOCO_ENV_NAMES) {
    const env = await makeEnv(name);
    env.reset({ seed: 3 });
    const s = env.getState();
    const { qpos, qvel } = split(env, s);
    for (let i = 0; i < qvel.length; i++) s.physics[1 + qpos.length + i] = i % 2 === 0 ? 50 : -0.5;
    env.setState(s);
    // the observation after one zero step must equal the formula applied to the state after it
    const r = env.step(new Float64Array(env.actionSize));
    const after = split(env, env.getState());
    const spec = MUJOCO_TASKS[name];
    const clip = (v: number): number => (spec.qvelClip === null ? v : Math.min(spec.qvelClip, Math.max(-spec.qvelClip, v)));
    assert.deepEqual(Array.from(r.observation), [...after.qpos.slice(spec.obsQposStart), ...after.qvel.map(clip)], name);
    if (spec.qvelClip !== null) assert.ok(r.observation.some((o) => o === 10), `${name}: a clipped velocity`);
    env.dispose();
  }
});

test("reward terms equal hand computations from the states before and after each step", async () => {
  for (const name of MUJOCO_ENV_NAMES) {
    const env = await makeEnv(name);
    const spec = MUJOCO_TASKS[name];
    env.reset({ seed: 5 });
    for (const a of randomActions(40, env.actionSize, 6)) {
      const before = env.getState();
      const r = env.step(a);
      const after = env.getState();
      // planar tasks: x = qpos[0] (physics[1]); Ant: torso xpos x, carried in memo[0]
      const x0 = spec.forward === "rootx" ? before.physics[1] : before.memo[0];
      const x1 = spec.forward === "rootx" ? after.physics[1] : after.memo[0];
      const sumSq = Array.from(a).reduce((s, v) => s + v * v, 0);
      const terms = r.info.rewardTerms;
      assert.equal(terms.forward, (x1 - x0) / env.dt, `${name} forward`);
      assert.equal(terms.control, -spec.controlWeight * sumSq, `${name} control`);
      if (name === "HalfCheetah-v2") assert.deepEqual(Object.keys(terms).sort(), ["control", "forward"]);
      else assert.equal(terms.healthy, 1, `${name} healthy`);
      if (name === "Ant-v2") assert.equal(terms.contact, -0, "contact cost is zero by default (mujoco-py 2.0)");
      const sum = Object.values(terms).reduce((s, v) => s + v, 0);
      assert.equal(r.reward, sum, `${name} reward = sum of terms`);
      if (r.terminated) break;
    }
    env.dispose();
  }
});

test("Ant's computed contact cost is 5e-4 · Σ clip(cfrc_ext, ±1)² and is paid once the ant touches the floor", async () => {
  const env = (await makeEnv("Ant-v2", { contactCost: "computed" })) as MujocoEnv;
  env.reset({ seed: 2 });
  let sawContact = false;
  for (const a of randomActions(30, 8, 9)) {
    const r = env.step(a);
    const cfrc = env.native().data.cfrc_ext as Float64Array;
    let c = 0;
    for (const f of cfrc) c += Math.min(1, Math.max(-1, f)) ** 2;
    assert.equal(r.info.rewardTerms.contact, -5e-4 * c);
    if (c > 0) sawContact = true;
    if (r.terminated) break;
  }
  assert.ok(sawContact, "the ant lands within 30 steps, so some contact force is non-zero");
  env.dispose();
});

test("termination predicates switch exactly at the gym v2 thresholds", () => {
  const hop = MUJOCO_TASKS["Hopper-v2"].isHealthy!;
  const q = (z: number, ang: number, rest = 0): Float64Array => Float64Array.of(0, z, ang, rest, 0, 0);
  const v0 = new Float64Array(6);
  assert.equal(hop(q(1.25, 0), v0), true);
  assert.equal(hop(q(0.7, 0), v0), false);
  assert.equal(hop(q(0.7000001, 0), v0), true);
  assert.equal(hop(q(1.25, 0.2), v0), false);
  assert.equal(hop(q(1.25, -0.1999), v0), true);
  assert.equal(hop(q(1.25, 0, 100), v0), false);
  assert.equal(hop(q(1.25, 0, 99.9), v0), true);
  assert.equal(hop(q(1.25, 0), Float64Array.of(0, 0, 0, -100, 0, 0)), false);
  assert.equal(hop(q(1.25, 0), Float64Array.of(500, 0, 0, 0, 0, 0)), false, "qvel[0] counts in gym's state[2:]");
  assert.equal(hop(q(1.25, 0), Float64Array.of(0, NaN, 0, 0, 0, 0)), false);

  const walk = MUJOCO_TASKS["Walker2d-v2"].isHealthy!;
  const w = (z: number, ang: number): Float64Array => Float64Array.of(0, z, ang, 0, 0, 0, 0, 0, 0);
  const wv = new Float64Array(9);
  assert.equal(walk(w(0.8, 0), wv), false);
  assert.equal(walk(w(0.8001, 0), wv), true);
  assert.equal(walk(w(2.0, 0), wv), false);
  assert.equal(walk(w(1.9999, 0.9999), wv), true);
  assert.equal(walk(w(1.2, 1), wv), false);
  assert.equal(walk(w(1.2, -1), wv), false);
  assert.equal(walk(w(1.2, 0), Float64Array.of(1e9, 0, 0, 0, 0, 0, 0, 0, 0)), true, "v2 Walker2d has no velocity bound");

  const ant = MUJOCO_TASKS["Ant-v2"].isHealthy!;
  const a = (z: number): Float64Array => Float64Array.of(0, 0, z, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const av = new Float64Array(14);
  assert.equal(ant(a(0.2), av), true);
  assert.equal(ant(a(0.1999), av), false);
  assert.equal(ant(a(1.0), av), true);
  assert.equal(ant(a(1.0001), av), false);
  assert.equal(ant(a(0.5), Float64Array.of(...new Array(13).fill(0), Infinity)), false);

  assert.equal(MUJOCO_TASKS["HalfCheetah-v2"].isHealthy, null);
});

test("in rollouts, terminated is set exactly on the first step whose resulting state is unhealthy", async () => {
  for (const name of ["Hopper-v2", "Walker2d-v2", "Ant-v2"]) {
    const env = await makeEnv(name);
    const healthy = MUJOCO_TASKS[name].isHealthy!;
    let episodes = 0;
    env.reset({ seed: 11 });
    for (const a of randomActions(600, env.actionSize, 12)) {
      const r = env.step(a);
      const { qpos, qvel } = split(env, env.getState());
      assert.equal(r.terminated, !healthy(Float64Array.from(qpos), Float64Array.from(qvel)), name);
      if (r.terminated || r.truncated) {
        episodes++;
        env.reset();
      }
    }
    assert.ok(episodes >= 2, `${name}: random actions end some episodes (${episodes})`);
    env.dispose();
  }
});

test("an unactuated Hopper falls and terminates; HalfCheetah never terminates and is truncated at 1000", async () => {
  const hopper = await makeEnv("Hopper-v2");
  hopper.reset({ seed: 0 });
  const zero = new Float64Array(3);
  let steps = 0;
  let r: StepResult;
  do {
    r = hopper.step(zero);
    steps++;
  } while (!r.terminated && !r.truncated);
  assert.equal(r.terminated, true);
  assert.equal(r.truncated, false);
  assert.ok(steps < 300, `fell after ${steps} steps`);
  const { qpos } = split(hopper, hopper.getState());
  assert.ok(qpos[1] <= 0.7 || Math.abs(qpos[2]) >= 0.2, "it ended because it fell (low or tilted)");
  hopper.dispose();

  const cheetah = await makeEnv("HalfCheetah-v2");
  cheetah.reset({ seed: 0 });
  const results = rollout(cheetah, randomActions(1001, 6, 4));
  assert.equal(results.length, 1000);
  assert.ok(results.every((x) => !x.terminated));
  assert.equal(results[999].truncated, true);
  assert.ok(results.slice(0, 999).every((x) => !x.truncated));
  cheetah.dispose();
});

test("the same seed gives bit-identical trajectories; another seed does not", async () => {
  for (const name of MUJOCO_ENV_NAMES) {
    const actions = randomActions(60, MUJOCO_SIZES[name].act, 21);
    const run = async (seed: number): Promise<Float64Array[]> => {
      const env = await makeEnv(name);
      const obs = [env.reset({ seed }).observation];
      for (const r of rollout(env, actions)) obs.push(r.observation, Float64Array.of(r.reward));
      env.dispose();
      return obs;
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    assert.equal(a.length, b.length);
    assert.ok(a.every((x, i) => sameBits(x, b[i])), `${name} same seed`);
    assert.ok(!sameBits(a[0], c[0]), `${name} other seed`);
  }
});

test("restoring a saved state (through JSON, into another env) reproduces the continuation bit for bit", async () => {
  for (const name of MUJOCO_ENV_NAMES) {
    const env = await makeEnv(name, { seed: 1 });
    env.reset({ seed: 31 });
    const act = env.actionSize;
    const warmup = rollout(env, randomActions(15, act, 32));
    assert.ok(!warmup[warmup.length - 1].terminated, `${name}: still running after the warm-up`);
    const saved = JSON.parse(JSON.stringify(env.getState())) as EnvState;
    const rest = randomActions(200, act, 33);
    const original = rollout(env, rest);
    // the next reset draws from the env's RNG stream, which the state carries too
    const originalReset = env.reset().observation;

    const [copy] = await makeEnvCopies(name, 1, { seed: 999 });
    copy.setState(saved);
    const replay = rollout(copy, rest);
    assert.equal(replay.length, original.length, name);
    for (let i = 0; i < original.length; i++) {
      assert.ok(sameBits(replay[i].observation, original[i].observation), `${name} step ${i}`);
      assert.equal(replay[i].reward, original[i].reward);
      assert.equal(replay[i].terminated, original[i].terminated);
    }
    assert.ok(sameBits(copy.reset().observation, originalReset), `${name}: reset after restore`);
    copy.dispose();
    env.dispose();
  }
});

test("an env keeps stepping correctly when other envs grow the wasm heap between its steps", async () => {
  const actions = randomActions(40, 6, 41);
  const reference = await makeEnv("HalfCheetah-v2");
  reference.reset({ seed: 4 });
  const expected = rollout(reference, actions).map((r) => r.observation);
  reference.dispose();

  const env = (await makeEnv("HalfCheetah-v2")) as MujocoEnv;
  env.reset({ seed: 4 });
  const heapBefore = env.heapBytes();
  const others: Env[] = [];
  const got: Float64Array[] = [];
  for (const a of actions) {
    others.push(await makeEnv("Walker2d-v2")); // 1 MiB arena each: the heap must grow
    got.push(env.step(a).observation);
  }
  assert.ok(env.heapBytes() > heapBefore, "the heap grew during the rollout");
  assert.ok(got.every((o, i) => sameBits(o, expected[i])));
  for (const o of others) o.dispose();
  env.dispose();
});

test("10,000 resets and 200 create/dispose cycles do not grow the wasm heap", async () => {
  const env = (await makeEnv("Hopper-v2")) as MujocoEnv;
  env.reset({ seed: 0 });
  const heap0 = env.heapBytes();
  for (let i = 0; i < 10000; i++) env.reset();
  assert.equal(env.heapBytes(), heap0);
  for (let i = 0; i < 200; i++) {
    const other = await makeEnv("Ant-v2");
    other.reset();
    other.step(new Float64Array(8));
    other.dispose();
  }
  assert.ok(env.heapBytes() <= heap0 + 4 * 1024 * 1024, `heap ${heap0} -> ${env.heapBytes()}`);
  env.dispose();
  assert.equal(liveModelCount(), 0, "every compiled model was freed with its last env");
});

test("bad input gives clear errors: action length, NaN/inf, order of calls, foreign states", async () => {
  const env = await makeEnv("Hopper-v2");
  assert.throws(() => env.step([0, 0, 0]), EnvPhaseError, "step before reset");
  env.reset({ seed: 0 });
  assert.throws(() => env.step([0, 0]), (e: Error) => e instanceof ActionError && /length 2, expected 3/.test(e.message));
  assert.throws(() => env.step([0, NaN, 0]), (e: Error) => e instanceof NonFiniteError && /action\[1\] is NaN/.test(e.message));
  assert.throws(() => env.step([Infinity, 0, 0]), NonFiniteError);
  assert.throws(() => env.step(undefined as unknown as number[]), ActionError);
  // drive it to termination, then step once more
  let r: StepResult;
  do r = env.step([0, 0, 0]);
  while (!r.terminated);
  assert.throws(() => env.step([0, 0, 0]), (e: Error) => e instanceof EnvPhaseError && /terminated/.test(e.message));

  const walker = await makeEnv("Walker2d-v2");
  assert.throws(() => env.setState(walker.getState()), EnvStateError);
  const s = env.getState();
  assert.throws(() => env.setState({ ...s, physics: s.physics.slice(1) }), EnvStateError);
  walker.dispose();

  const short = await makeEnv("HalfCheetah-v2", { timeLimit: 3 });
  short.reset();
  for (let i = 0; i < 3; i++) r = short.step(new Float64Array(6));
  assert.equal(r.truncated, true);
  assert.throws(() => short.step(new Float64Array(6)), (e: Error) => e instanceof EnvPhaseError && /truncated/.test(e.message));
  short.dispose();

  env.dispose();
  env.dispose(); // twice is fine
  assert.throws(() => env.reset(), (e: Error) => e instanceof EnvPhaseError && /disposed/.test(e.message));
});
