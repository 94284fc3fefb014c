/**
 * The learned model of A.5: its likelihood is the Gaussian's of maths.ts around s + Δs and r̂, it starts as "the
 * state stays, no reward", and maximum likelihood on replay batches fits a known linear system to tolerance,
 * means and noise levels both.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { createAdam } from "../../lib/backend/adam";
import { Rng } from "../../lib/core/rng";
import { LearnedModel } from "../../lib/agents/model-based/model";
import { gaussianNegLogLikelihood } from "../../lib/agents/model-based/maths";
import type { ReplayBatch } from "../../lib/agents/replay-buffer";

const [O, A] = [3, 2];
/** s' = s + 0.1(Ms + Na) + noise 0.05, r = w·s + v·a + noise 0.1. */
const M = [[-0.5, 0.3, 0], [0.2, -0.4, 0.6], [0, 0.5, -0.3]];
const N = [[1, 0], [0, -1], [0.5, 0.5]];
const W = [0.4, -0.2, 0.1];
const V = [-0.3, 0.8];
const STATE_NOISE = 0.05;
const REWARD_NOISE = 0.1;

function linearMeans(s: ArrayLike<number>, a: ArrayLike<number>): { next: number[]; reward: number } {
  const next = M.map((row, i) => s[i] + 0.1 * (row.reduce((t, m, j) => t + m * s[j], 0) + N[i][0] * a[0] + N[i][1] * a[1]));
  return { next, reward: W.reduce((t, w, j) => t + w * s[j], 0) + V[0] * a[0] + V[1] * a[1] };
}

function linearBatch(rng: Rng, size: number): ReplayBatch {
  const observations = rng.fillNormal(new Float32Array(size * O)) as Float32Array;
  const actions = rng.fillUniform(new Float32Array(size * A), -1, 1) as Float32Array;
  const rewards = new Float32Array(size);
  const nextObservations = new Float32Array(size * O);
  for (let b = 0; b < size; b++) {
    const { next, reward } = linearMeans(observations.subarray(b * O, (b + 1) * O), actions.subarray(b * A, (b + 1) * A));
    next.forEach((v, i) => (nextObservations[b * O + i] = v + STATE_NOISE * rng.normal()));
    rewards[b] = reward + REWARD_NOISE * rng.normal();
  }
  return { size, observationSize: O, actionSize: A, observations, actions, rewards, nextObservations, terminated: new Float32Array(size) };
}

test("the model's loss is the Gaussian likelihood around s + Δs and r̂, and it starts at Δs = 0, r̂ = 0", async () => {
  await initBackend();
  const model = new LearnedModel(O, A, [16, 16], new Rng(1));
  const batch = linearBatch(new Rng(2), 5);
  tf.tidy(() => {
    const s = tf.tensor2d(batch.observations, [5, O]);
    const a = tf.tensor2d(batch.actions, [5, A]);
    const pred = model.predict(s, a);
    assert.deepEqual(Array.from(pred.nextState.dataSync()), Array.from(batch.observations), "Δs starts at zero");
    assert.deepEqual(Array.from(pred.reward.dataSync()), [0, 0, 0, 0, 0], "r̂ starts at zero");
    const loss = model.loss(s, a, tf.tensor1d(batch.rewards), tf.tensor2d(batch.nextObservations, [5, O]));
    // log σ = 0 at the start: the likelihood of the residual s' − s under N(0, 1), and of r under N(0, 1)
    let state = 0, reward = 0;
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < O; i++) state += gaussianNegLogLikelihood(batch.nextObservations[b * O + i], batch.observations[b * O + i], 0);
      reward += gaussianNegLogLikelihood(batch.rewards[b], 0, 0);
    }
    assert.ok(Math.abs(loss.state.dataSync()[0] - state / 5) < 1e-4, `state nll ${loss.state.dataSync()[0]} vs ${state / 5}`);
    assert.ok(Math.abs(loss.reward.dataSync()[0] - reward / 5) < 1e-4, `reward nll ${loss.reward.dataSync()[0]} vs ${reward / 5}`);
  });
  model.dispose();
});

test("maximum likelihood on replay batches fits a known linear system to tolerance", { timeout: 120_000 }, async () => {
  await initBackend();
  const rng = new Rng(3);
  const model = new LearnedModel(O, A, [32, 32], rng.fork());
  const adam = createAdam({ learningRate: 1e-2 });
  const first = model.fitStep(linearBatch(rng, 64), adam);
  let last = first;
  for (let i = 0; i < 500; i++) last = model.fitStep(linearBatch(rng, 64), adam);
  assert.ok(last.state < first.state - 2 && last.reward < first.reward - 0.5, `losses fell from ${JSON.stringify(first)} to ${JSON.stringify(last)}`);

  // held-out transitions: predicted means against the system's noiseless means
  const test = linearBatch(new Rng(99), 200);
  const { next, reward, stateStd, rewardStd } = tf.tidy(() => {
    const p = model.predict(tf.tensor2d(test.observations, [200, O]), tf.tensor2d(test.actions, [200, A]));
    const logStd = model.logStds();
    return { next: p.nextState.dataSync(), reward: p.reward.dataSync(), stateStd: Array.from(tf.exp(logStd.state).dataSync()), rewardStd: Math.exp(logStd.reward.dataSync()[0]) };
  });
  let stateSq = 0, rewardSq = 0, moveSq = 0;
  for (let b = 0; b < 200; b++) {
    const want = linearMeans(test.observations.subarray(b * O, (b + 1) * O), test.actions.subarray(b * A, (b + 1) * A));
    for (let i = 0; i < O; i++) {
      stateSq += (next[b * O + i] - want.next[i]) ** 2;
      moveSq += (want.next[i] - test.observations[b * O + i]) ** 2;
    }
    rewardSq += (reward[b] - want.reward) ** 2;
  }
  const stateRmse = Math.sqrt(stateSq / (200 * O));
  const moveRms = Math.sqrt(moveSq / (200 * O));
  const rewardRmse = Math.sqrt(rewardSq / 200);
  assert.ok(stateRmse < 0.2 * moveRms && stateRmse < 0.03, `next-state RMSE ${stateRmse} (the state moves by ${moveRms} RMS)`);
  assert.ok(rewardRmse < 0.1, `reward RMSE ${rewardRmse} (rewards spread 0.67 around their mean, noise 0.1)`);
  // the learned standard deviations find the noise levels
  for (const s of stateStd) assert.ok(s > 0.5 * STATE_NOISE && s < 2 * STATE_NOISE, `state σ ${s} vs noise ${STATE_NOISE}`);
  assert.ok(rewardStd > 0.5 * REWARD_NOISE && rewardStd < 2 * REWARD_NOISE, `reward σ ${rewardStd} vs noise ${REWARD_NOISE}`);
  model.dispose();
  adam.dispose();
});
