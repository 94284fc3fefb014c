import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, UnknownNameError } from "../../lib/core/errors";
import { Pendulum, normalizeAngle } from "../../lib/envs/classic/pendulum";
import { PointReach, pointReachOptimalAction } from "../../lib/envs/classic/pointReach";
import { EnvStateError } from "../../lib/envs/errors";
import { ENV_NAMES, makeEnv } from "../../lib/envs/registry";

test("normalizeAngle wraps to [-π, π) like gym's floor modulo", () => {
  assert.equal(normalizeAngle(0), 0);
  assert.ok(Math.abs(normalizeAngle((3 * Math.PI) / 2) - -Math.PI / 2) < 1e-15);
  assert.ok(Math.abs(normalizeAngle(-(3 * Math.PI) / 2) - Math.PI / 2) < 1e-15);
  assert.equal(normalizeAngle(Math.PI), -Math.PI);
  assert.ok(Math.abs(normalizeAngle(7) - (7 - 2 * Math.PI)) < 1e-15);
});

test("one Pendulum step matches gym Pendulum-v1 computed by hand, with torque = 2·action", () => {
  const env = new Pendulum();
  env.reset({ seed: 0 });
  const s = env.getState();
  env.setState({ ...s, physics: [0.5, -0.3] });
  const r = env.step([0.25]); // u = 0.5
  const thdot = -0.3 + (15 * Math.sin(0.5) + 3 * 0.5) * 0.05;
  const th = 0.5 + thdot * 0.05;
  assert.deepEqual(Array.from(r.observation), [Math.cos(th), Math.sin(th), thdot]);
  assert.deepEqual(r.info.rewardTerms, { angle: -0.25, velocity: -0.1 * 0.09, control: -0.001 * 0.25 });
  assert.equal(r.reward, -0.25 + -0.1 * 0.09 + -0.001 * 0.25);
  assert.equal(r.info.torque, 0.5);
});

test("Pendulum clips the action to [-1, 1] and the speed to 8", () => {
  const env = new Pendulum();
  env.reset({ seed: 0 });
  env.setState({ ...env.getState(), physics: [Math.PI / 2, 7.9] });
  const r = env.step([5]);
  assert.equal(r.info.torque, 2);
  assert.equal(r.observation[2], 8);
  assert.ok(Math.abs(Math.atan2(r.observation[1], r.observation[0]) - (Math.PI / 2 + 8 * 0.05)) < 1e-12);
});

test("Pendulum: reset({seed}) repeats, reset() continues the stream; 200 steps then truncated", () => {
  const a = new Pendulum();
  const b = new Pendulum();
  const first = a.reset({ seed: 9 }).observation;
  assert.deepEqual(b.reset({ seed: 9 }).observation, first);
  const second = a.reset().observation;
  assert.notDeepEqual(second, first);
  let truncatedAt = -1;
  for (let t = 1; t <= 200; t++) if (a.step([0]).truncated) truncatedAt = t;
  assert.equal(truncatedAt, 200);
  // θ was drawn from U(-π, π) and θ̇ from U(-1, 1)
  for (let i = 0; i < 200; i++) {
    const o = a.reset().observation;
    assert.ok(Math.abs(o[2]) <= 1);
  }
});

test("PointReach: the greedy clipped action is optimal and reaches the target within 20 steps", () => {
  const env = new PointReach();
  let o = env.reset({ seed: 3 }).observation;
  let optimalReturn = 0;
  let reachedBy = -1;
  for (let t = 1; t <= 50; t++) {
    const r = env.step(pointReachOptimalAction(o));
    o = r.observation;
    optimalReturn += r.reward;
    if (reachedBy < 0 && r.reward === 0) reachedBy = t;
  }
  assert.ok(reachedBy > 0 && reachedBy <= 20, `reached at ${reachedBy}`);
  // any perturbation of the optimal policy does worse from the same start
  const base = env.getState();
  for (const noise of [0.3, -0.3, 0.6]) {
    const e2 = new PointReach();
    o = e2.reset({ seed: 3 }).observation;
    let ret = 0;
    for (let t = 0; t < 50; t++) {
      const a = pointReachOptimalAction(o).map((x, i) => x + (i === 0 ? noise : -noise));
      const r = e2.step(a);
      o = r.observation;
      ret += r.reward;
    }
    assert.ok(ret < optimalReturn, `noise ${noise}: ${ret} < ${optimalReturn}`);
  }
  assert.equal(base.elapsedSteps, 50);
});

test("PointReach: one step computed by hand, position clipped to the square", () => {
  const env = new PointReach();
  env.reset({ seed: 0 });
  env.setState({ ...env.getState(), physics: [0.95, -0.5, 0, 0.5] });
  const r = env.step([1, 0.5]);
  // x: 0.95 + 0.1 → clipped to 1; y: -0.5 + 0.05
  assert.deepEqual(Array.from(r.observation), [1, -0.45, 0 - 1, 0.5 - -0.45]);
  assert.equal(r.reward, -Math.hypot(-1, 0.5 - -0.45));
  assert.throws(() => env.setState({ ...env.getState(), physics: [0, 0, 0] }), EnvStateError);
});

test("makeEnv knows every registered name and refuses unknown names and options", async () => {
  assert.deepEqual([...ENV_NAMES], ["Hopper-v2", "HalfCheetah-v2", "Walker2d-v2", "Ant-v2", "Pendulum-v1", "PointReach-v0"]);
  await assert.rejects(makeEnv("Hopper-v3"), (e: Error) => e instanceof UnknownNameError && /Hopper-v3.*known: Hopper-v2/.test(e.message));
  await assert.rejects(makeEnv("Pendulum-v1", { timeLimit: 0 }), ConfigError);
  await assert.rejects(makeEnv("Pendulum-v1", { seed: 1.5 }), ConfigError);
  await assert.rejects(makeEnv("Hopper-v2", { contactCost: "computed" }), (e: Error) => e instanceof ConfigError && /unknown option "contactCost"/.test(e.message));
  const p = await makeEnv("Pendulum-v1", { timeLimit: 5, seed: 2 });
  assert.equal(p.timeLimit, 5);
  assert.deepEqual(p.reset().observation, new Pendulum({ seed: 2 }).reset().observation, "the seed option seeds the first reset");
});
