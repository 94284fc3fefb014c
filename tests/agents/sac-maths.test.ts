/**
 * The SAC maths' one home (lib/agents/sac/maths.ts): the soft Q target, the TD loss and the temperature loss
 * against hand-computed values, their gradients against finite differences, and the tf forms the tfjs path
 * differentiates (the TD loss in agent.ts, temperatureLoss) against them on random inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";
import {
  alphaTemperatureLossGrad, alphaTemperatureLossValue, softQTarget, tdLoss, temperatureLossAndGrad, temperatureLossGrad, temperatureLossValue,
} from "../../lib/agents/sac/maths";
import { temperatureLoss } from "../../lib/agents/sac/temperature";

test("soft Q target y = r + γ(1 − d)V(s'), by hand: bootstrapped where the episode goes on, r alone where it ended", () => {
  assert.equal(softQTarget(1.5, 0.5, 0, 3), 3, "1.5 + 0.5·3");
  assert.equal(softQTarget(1.5, 0.5, 1, 3), 1.5, "done: no bootstrap");
  assert.equal(softQTarget(-2, 0.99, 0, 0), -2);
  assert.equal(softQTarget(0.25, 0.75, 0, -4), 0.25 - 3);
  // float32 throughout, as tf: γ = 0.99 is rounded before the product
  assert.equal(softQTarget(0.1, 0.99, 0, 10), Math.fround(Math.fround(0.1) + Math.fround(Math.fround(0.99) * 10)));
});

test("TD loss: mean squared error by hand, its gradient 2(Q − y)/B by hand and by finite differences", () => {
  const dq = new Float32Array(3);
  // Q − y = (1, −2, 0.5): L = (1 + 4 + 0.25)/3, ∂L/∂Q = 2(Q − y)/3
  const loss = tdLoss([2, 0, 1], [1, 2, 0.5], dq);
  assert.ok(Math.abs(loss - 5.25 / 3) < 1e-7, `loss ${loss}`);
  [2 / 3, -4 / 3, 1 / 3].forEach((v, i) => assert.ok(Math.abs(dq[i] - v) < 1e-6, `dq[${i}] = ${dq[i]}`));
  const rng = new Rng(1);
  const q = Array.from({ length: 6 }, () => rng.normal());
  const y = Array.from({ length: 6 }, () => rng.normal());
  const grad = new Float32Array(6);
  tdLoss(q, y, grad);
  const h = 1e-3; // float32 differences inside: a step well above their rounding
  q.forEach((v, i) => {
    const at = (x: number): number => tdLoss(q.map((w, j) => (j === i ? x : w)), y, new Float32Array(6));
    const want = (at(v + h) - at(v - h)) / (2 * h);
    assert.ok(Math.abs(grad[i] - want) < 1e-3, `∂L/∂Q[${i}]: ${grad[i]} vs ${want}`);
  });
});

test("temperature loss −log α·(E log π + H) and its gradient, by hand and by finite differences", () => {
  // E log π = −1, H = −3: L = −log α·(−4) = 4 log α, ∂L/∂log α = 4 > 0: the entropy 1 is above its target −3,
  // so a descent step lowers α
  assert.equal(temperatureLossValue(0.5, -1, -3), 2);
  assert.equal(temperatureLossGrad(-1, -3), 4);
  // entropy 1 below a target of 2: ∂L/∂log α = −(−1 + 2) < 0, a descent step raises α
  assert.equal(temperatureLossGrad(-1, 2), -1);
  const h = 1e-3;
  for (const [logAlpha, m, target] of [[0.3, -1.7, -6], [-2, 4.2, -1]]) {
    const want = (temperatureLossValue(logAlpha + h, m, target) - temperatureLossValue(logAlpha - h, m, target)) / (2 * h);
    assert.ok(Math.abs(temperatureLossGrad(m, target) - want) < 1e-3, `${temperatureLossGrad(m, target)} vs ${want}`);
  }
});

test("the tfjs path's TD and temperature losses (tf ops, autodiff) equal the one home on random inputs", async () => {
  await initBackend();
  const rng = new Rng(2);
  const B = 37;
  const q = rng.fillNormal(new Float32Array(B), 0, 3) as Float32Array;
  const y = rng.fillNormal(new Float32Array(B), 0, 3) as Float32Array;
  // agent.ts: tf.mean(tf.squaredDifference(q, y)), differentiated by tfjs
  const [loss, grad] = tf.tidy(() => {
    const yt = tf.tensor1d(y);
    const f = (x: tf.Tensor): tf.Scalar => tf.mean(tf.squaredDifference(x, yt));
    const { value, grad: g } = tf.valueAndGrad(f)(tf.tensor1d(q));
    return [value.dataSync()[0], Float32Array.from(g.dataSync())];
  }) as unknown as [number, Float32Array];
  const dq = new Float32Array(B);
  const want = tdLoss(q, y, dq);
  assert.ok(Math.abs(loss - want) <= 1e-6 * want, `TD loss ${loss} vs ${want}`);
  assert.deepEqual(Array.from(grad), Array.from(dq), "∂L/∂Q: the same float32 operations, the same bits");

  for (let i = 0; i < 10; i++) {
    const [logAlpha, meanLogProb, target] = [Math.fround(rng.normal()), Math.fround(rng.normal() * 3), -1 - rng.int(6)];
    const [value, g] = tf.tidy(() => {
      const m = tf.scalar(meanLogProb);
      const { value: v, grad: d } = tf.valueAndGrad((la: tf.Tensor) => temperatureLoss(la as tf.Scalar, m, target))(tf.scalar(logAlpha));
      return [v.dataSync()[0], d.dataSync()[0]];
    }) as unknown as [number, number];
    assert.equal(value, temperatureLossValue(logAlpha, meanLogProb, target), "temperature loss");
    assert.equal(g, Math.fround(temperatureLossGrad(meanLogProb, target)), "∂L/∂log α");
  }
});

test("temperature loss in α, −α·(E log π + H) (Haarnoja et al. 2018c, the authors' code): values and gradient by hand and by finite differences", () => {
  // log α = ln 2 (α = 2), E log π = −1, H = −3: L = −2·(−4) = 8; ∂L/∂log α = −α(E log π + H) = 8, the log-α form's 4 times α
  assert.equal(alphaTemperatureLossValue(Math.LN2, -1, -3), 8);
  assert.equal(alphaTemperatureLossGrad(Math.LN2, -1, -3), 8);
  assert.equal(temperatureLossGrad(-1, -3) * 2, alphaTemperatureLossGrad(Math.LN2, -1, -3), "α times the log-α form's gradient");
  // entropy 1 below a target of 2: L = −α·1 < 0 and a negative gradient, so a descent step raises α as in the log-α form
  assert.equal(alphaTemperatureLossValue(0, -1, 2), -1);
  assert.equal(alphaTemperatureLossGrad(0, -1, 2), -1);
  // the authors' form: −α·(KL − |A|(1 + ln 2)) with KL = E log π + |A| ln 2, H = −|A|
  const [logAlpha, meanLogProb, actions] = [-0.4, 1.3, 6];
  const kl = meanLogProb + actions * Math.LN2;
  const code = -Math.exp(logAlpha) * (kl - actions * (1 + Math.LN2));
  assert.ok(Math.abs(alphaTemperatureLossValue(logAlpha, meanLogProb, -actions) - code) < 1e-5, `${alphaTemperatureLossValue(logAlpha, meanLogProb, -actions)} vs the code's ${code}`);
  const h = 1e-3;
  for (const [la, m, target] of [[0.3, -1.7, -6], [-2, 4.2, -1], [1.1, 0.5, -3]]) {
    const want = (alphaTemperatureLossValue(la + h, m, target) - alphaTemperatureLossValue(la - h, m, target)) / (2 * h);
    const got = alphaTemperatureLossGrad(la, m, target);
    assert.ok(Math.abs(got - want) < 1e-3 * Math.max(1, Math.abs(want)), `${got} vs ${want}`);
  }
  // the selector gives each form's pair
  assert.deepEqual(temperatureLossAndGrad("log-alpha", 0.5, -1, -3), { loss: 2, grad: 4 });
  assert.deepEqual(temperatureLossAndGrad("alpha", Math.LN2, -1, -3), { loss: 8, grad: 8 });
});

test("the tfjs path's temperature loss in α (tf ops, autodiff) equals the one home on random inputs", async () => {
  await initBackend();
  const rng = new Rng(3);
  for (let i = 0; i < 10; i++) {
    const [logAlpha, meanLogProb, target] = [Math.fround(rng.normal()), Math.fround(rng.normal() * 3), -1 - rng.int(6)];
    const [value, g] = tf.tidy(() => {
      const m = tf.scalar(meanLogProb);
      const { value: v, grad: d } = tf.valueAndGrad((la: tf.Tensor) => temperatureLoss(la as tf.Scalar, m, target, "alpha"))(tf.scalar(logAlpha));
      return [v.dataSync()[0], d.dataSync()[0]];
    }) as unknown as [number, number];
    // tf's float32 exp may round α one unit in the last place away from Math.exp's
    const ulps = (a: number, b: number): number => Math.abs(a - b) / (Math.abs(b) * 2 ** -23);
    assert.ok(ulps(value, alphaTemperatureLossValue(logAlpha, meanLogProb, target)) <= 1, `loss ${value} vs ${alphaTemperatureLossValue(logAlpha, meanLogProb, target)}`);
    assert.ok(ulps(g, alphaTemperatureLossGrad(logAlpha, meanLogProb, target)) <= 1, `∂L/∂log α ${g} vs ${alphaTemperatureLossGrad(logAlpha, meanLogProb, target)}`);
  }
});
