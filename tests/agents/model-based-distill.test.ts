/**
 * The direct rollout policy of A.5, distilled through KL(π_iterative || π_direct): each step reports the exact
 * Gaussian KL (maths.ts) before it, and the KL falls towards zero as the network learns a state-dependent target.
 * A direct agent's rollout policy is a copy of its policy network.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { createAdam } from "../../lib/backend/adam";
import { Rng } from "../../lib/core/rng";
import { RolloutPolicy } from "../../lib/agents/model-based/rollout-policy";
import { gaussianKl } from "../../lib/agents/model-based/maths";
import { DirectAmortizedOptimizer } from "../../lib/policy/direct";
import { POLICY_NETWORK } from "../../lib/nn/architectures";

const [O, A, B] = [3, 2, 32];

/** A smooth, state-dependent λ like an iterative optimizer's: μ = tanh(Ws), log σ = −1 + 0.3·s_0. */
function target(states: Float32Array): { mean: Float32Array; logStd: Float32Array } {
  const mean = new Float32Array(B * A), logStd = new Float32Array(B * A);
  for (let b = 0; b < B; b++) {
    const s = states.subarray(b * O, (b + 1) * O);
    mean[b * A] = Math.tanh(s[0] - 0.5 * s[1]);
    mean[b * A + 1] = Math.tanh(0.8 * s[2] + 0.3);
    logStd[b * A] = logStd[b * A + 1] = -1 + 0.3 * s[0];
  }
  return { mean, logStd };
}

test("distilling the rollout policy: each step reports KL(π_it || π_dir) and the KL falls", { timeout: 120_000 }, async () => {
  await initBackend();
  const rng = new Rng(11);
  const policy = new RolloutPolicy(O, A, { hiddenSizes: [32, 32], activation: "relu" }, rng.fork());
  const adam = createAdam({ learningRate: 3e-3 });
  const klOf = (statesData: Float32Array): number[] => {
    const t = target(statesData);
    const own = tf.tidy(() => {
      const l = policy.lambda(tf.tensor2d(statesData, [B, O]));
      return { mean: l.mean.dataSync(), logStd: l.logStd.dataSync() };
    });
    const kls: number[] = [];
    for (let i = 0; i < B * A; i++) kls.push(gaussianKl(t.mean[i], t.logStd[i], own.mean[i], own.logStd[i]));
    return kls;
  };
  const step = (): { reported: number; byHand: number } => {
    const statesData = rng.fillNormal(new Float32Array(B * O)) as Float32Array;
    const byHand = klOf(statesData).reduce((a, b) => a + b, 0) / B;
    const t = target(statesData);
    const states = tf.tensor2d(statesData, [B, O]);
    const lambda = { mean: tf.tensor2d(t.mean, [B, A]), logStd: tf.tensor2d(t.logStd, [B, A]) };
    const reported = policy.distillStep(states, lambda, adam);
    // the target is a constant: distillation never changes it
    assert.deepEqual(Array.from(lambda.mean.dataSync()), Array.from(t.mean));
    tf.dispose([states, lambda.mean, lambda.logStd]);
    return { reported, byHand };
  };
  const first = step();
  assert.ok(Math.abs(first.reported - first.byHand) < 1e-4 * (1 + first.byHand), `reported KL ${first.reported}, by hand ${first.byHand}`);
  let recent: number[] = [];
  for (let i = 0; i < 400; i++) {
    recent.push(step().reported);
    if (recent.length > 20) recent = recent.slice(-20);
  }
  const last = recent.reduce((a, b) => a + b, 0) / recent.length;
  assert.ok(last < 0.1 * first.reported && last < 0.1, `KL fell from ${first.reported} to ${last}`);
  policy.dispose();
  adam.dispose();
});

test("a direct agent's rollout policy copies its policy network", async () => {
  await initBackend();
  const rng = new Rng(12);
  const direct = new DirectAmortizedOptimizer({ network: { ...POLICY_NETWORK, hiddenSizes: [8, 8] } }, O, A, rng.fork());
  const rollout = new RolloutPolicy(O, A, { hiddenSizes: [8, 8], activation: "relu" }, rng.fork());
  const states = tf.tensor2d(rng.fillNormal(new Float32Array(B * O)) as Float32Array, [B, O]);
  const means = (): [number[], number[]] => tf.tidy(() => [Array.from(direct.policyParams(states).mean.dataSync()), Array.from(rollout.lambda(states).mean.dataSync())]);
  assert.notDeepEqual(...means());
  rollout.copyFrom(direct);
  assert.deepEqual(...means());
  tf.dispose(states);
  direct.dispose();
  rollout.dispose();
});
