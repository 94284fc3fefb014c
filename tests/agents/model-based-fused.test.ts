/**
 * The hand-written model-based learning steps on the wasm heap (lib/agents/model-based/fused/) against the tfjs
 * steps they replace: the model's maximum-likelihood step (with log σ outside its bounds on some dimensions) and
 * the rollout policy's distillation step (hard clip and soft clamp of log σ), from the same weights on the same
 * data, compared by loss, by gradients (against tfjs autodiff) and by weights after each of a few steps. Skipped where the addon is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { createAdam } from "../../lib/backend/adam";
import { Rng } from "../../lib/core/rng";
import type { ParameterSet } from "../../lib/nn/parameters";
import { ReplayBuffer } from "../../lib/agents/replay-buffer";
import { LearnedModel } from "../../lib/agents/model-based/model";
import { RolloutPolicy } from "../../lib/agents/model-based/rollout-policy";
import { FusedContext } from "../../lib/agents/sac/fused/context";
import { FusedModelFit } from "../../lib/agents/model-based/fused/model-fit";
import { FusedDistillation } from "../../lib/agents/model-based/fused/distill";
import { gaussianKlPerState } from "../../lib/agents/model-based/rollout-policy";
import type { GradientBuffers } from "../../lib/agents/sac/fused/gradients";
import { FusedModelBasedObjective } from "../../lib/agents/model-based/fused/objective";
import { ModelBasedObjective } from "../../lib/agents/model-based/objective";
import type { HeapMlp } from "../../lib/backend/heap-mlp";
import { nativeForTests } from "../backend/native-available";
import { relativeError } from "../backend/compare";
import { smallModelBasedNets } from "./model-based-networks";

const { skip } = nativeForTests();
const [O, A, B, STEPS] = [5, 3, 32, 4];

/** How many weights of `a` differ from `b`'s by more than 1e-5 (Adam's first step may move a ~0 gradient's by ±lr). */
function farWeights(a: ParameterSet, b: ParameterSet): { far: number; count: number } {
  const [x, y] = [a.toData(), b.toData()];
  let far = 0;
  let count = 0;
  for (const [name, want] of Object.entries(y)) {
    want.values.forEach((v, i) => {
      count++;
      if (Math.abs(x[name].values[i] - v) > 1e-5) far++;
    });
  }
  return { far, count };
}

/**
 * The fused step's gradients against tfjs autodiff of `loss` over `params`' variables (a twin with the same weights
 * before the step; both sets list their variables in the same order).
 */
function assertGradients(grads: GradientBuffers, params: ParameterSet, loss: () => tf.Scalar, what: string): void {
  const want = tf.tidy(() => {
    const g = tf.variableGrads(loss, params.variables()).grads;
    return params.variables().map((v) => Float32Array.from(g[v.name].dataSync() as Float32Array));
  });
  const got = grads.values();
  assert.equal(grads.variables.length, want.length);
  grads.variables.forEach((v, i) => {
    const err = relativeError(got[v.name], want[i]);
    assert.ok(err <= 1e-4, `${what}: d ${params.variables()[i].name} (relative error ${err})`);
  });
}

const close = (got: number, want: number, what: string): void => assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${what}: fused ${got}, tfjs ${want}`);

test("the fused model fit gives the tfjs step's losses, gradients and weights", { skip }, async () => {
  await useBackend("wasm-native");
  const data = new Rng(0);
  const buffer = new ReplayBuffer(200, O, A);
  for (let i = 0; i < 200; i++) buffer.add(data.fillNormal(new Float32Array(O)), data.fillUniform(new Float32Array(A), -1, 1), data.normal(), data.fillNormal(new Float32Array(O)), false);
  const models = [new LearnedModel(O, A, [16, 16], new Rng(3)), new LearnedModel(O, A, [16, 16], new Rng(3))];
  // non-zero output layers, and log σ of the state outside its bounds on two dimensions (no gradient passes there)
  const start = models[0].params.toData();
  for (const [name, d] of Object.entries(start)) if (name.includes("output/w")) d.values = data.fillNormal(new Float32Array(d.values.length), 0, 0.3) as Float32Array;
  start["transition/log_std"].values = Float32Array.from([0.3, 2.5, -0.2, -11, 0.1]);
  models.forEach((m) => m.params.setData(start));
  const adams = [createAdam({ learningRate: 3e-3 }), createAdam({ learningRate: 3e-3 })];
  const ctx = new FusedContext();
  const fit = new FusedModelFit(ctx, models[1]);
  const rng = new Rng(9);
  for (let step = 0; step < STEPS; step++) {
    const batch = buffer.sample(B, rng);
    const got = fit.step(batch, adams[1]);
    const tensors = () => [tf.tensor2d(batch.observations, [B, O]), tf.tensor2d(batch.actions, [B, A]), tf.tensor1d(batch.rewards), tf.tensor2d(batch.nextObservations, [B, O])] as const;
    assertGradients(fit.grads, models[0].params, () => {
      const l = models[0].loss(...tensors());
      return tf.add(l.state, l.reward) as tf.Scalar;
    }, `step ${step + 1}`);
    const want = models[0].fitStep(batch, adams[0]);
    close(got.state, want.state, `step ${step + 1}: state NLL`);
    close(got.reward, want.reward, `step ${step + 1}: reward NLL`);
    const { far, count } = farWeights(models[1].params, models[0].params);
    assert.ok(far <= Math.max(2, count * 1e-3), `step ${step + 1}: ${far} of ${count} weights differ by more than 1e-5`);
  }
  const logStd = models[1].params.toData()["transition/log_std"].values;
  assert.equal(logStd[1], 2.5, "a log σ above its bound is not moved");
  assert.equal(logStd[3], -11, "nor one below");
  assert.notEqual(logStd[0], 0.3, "one inside is");
  fit.dispose();
  [...models, ...adams].forEach((m) => m.dispose());
});

for (const bounds of ["hard-clip", "soft-clamp"] as const) {
  test(`the fused distillation step (${bounds} log σ) gives the tfjs step's KL, gradients and weights`, { skip }, async () => {
    await useBackend("wasm-native");
    const data = new Rng(1);
    const policies = [0, 1].map(() => new RolloutPolicy(O, A, { hiddenSizes: [16, 16], activation: "relu" }, new Rng(4), { logStdBounds: bounds }));
    const adams = [createAdam({ learningRate: 3e-3 }), createAdam({ learningRate: 3e-3 })];
    const ctx = new FusedContext();
    const distill = new FusedDistillation(ctx, policies[1]);
    let first = NaN;
    let last = NaN;
    for (let step = 0; step < STEPS; step++) {
      const states = data.fillNormal(new Float32Array(B * O)) as Float32Array;
      const target = { mean: data.fillNormal(new Float32Array(B * A), 0, 0.5) as Float32Array, logStd: data.fillUniform(new Float32Array(B * A), -2, 0) as Float32Array };
      const got = distill.step(states, B, target, adams[1]);
      assertGradients(distill.grads, policies[0].network.params, () => {
        const t = { mean: tf.tensor2d(target.mean, [B, A]), logStd: tf.tensor2d(target.logStd, [B, A]) };
        return tf.mean(gaussianKlPerState(t, policies[0].lambda(tf.tensor2d(states, [B, O])))) as tf.Scalar;
      }, `step ${step + 1}`);
      const want = tf.tidy(() => policies[0].distillStep(tf.tensor2d(states, [B, O]), { mean: tf.tensor2d(target.mean, [B, A]), logStd: tf.tensor2d(target.logStd, [B, A]) }, adams[0]));
      close(got, want, `step ${step + 1}: KL`);
      const { far, count } = farWeights(policies[1].network.params, policies[0].network.params);
      assert.ok(far <= Math.max(2, count * 1e-3), `step ${step + 1}: ${far} of ${count} weights differ by more than 1e-5`);
      first = Number.isNaN(first) ? got : first;
      last = got;
    }
    assert.ok(first > 0.05 && last !== first, `a real KL that the steps change (${first} → ${last})`);
    distill.dispose();
    [...policies, ...adams].forEach((m) => m.dispose());
  });
}

for (const [horizon, bounds] of [[2, "hard-clip"], [3, "soft-clamp"], [0, "hard-clip"]] as const) {
  test(`the fused model-based J (h = ${horizon}, ${bounds} rollout log σ) gives the tfjs objective's J and ∇λ J on the same noise`, { skip }, async () => {
    await useBackend("wasm-native");
    const [N, Bs, ALPHA, BETA, GAMMA, LAMBDA] = [2, 8, 0.2, 1.5, 0.9, 0.9];
    const rng = new Rng(21);
    const nets = smallModelBasedNets(O, A, rng, bounds);
    const { qs, model, policy } = nets;
    const tfObjective = new ModelBasedObjective({
      q: (s, a) => [qs[0].apply(s, a), qs[1].apply(s, a)], alpha: ALPHA, beta: BETA, samples: N, actionSize: A, rng: new Rng(3), pessimismStd: "unbiased",
      model, rolloutPolicy: (s) => policy.lambda(s), horizon, gamma: GAMMA, retraceLambda: LAMBDA,
    });
    const ctx = new FusedContext();
    const q: [HeapMlp, HeapMlp] = [ctx.heapMlp(qs[0].heapLayers()), ctx.heapMlp(qs[1].heapLayers())];
    const form = model.heapForm();
    const policyForm = policy.network.fusedForm();
    const heapNets = { q, reward: ctx.heapMlp(form.reward), transition: ctx.heapMlp(form.transition), policy: ctx.heapMlp(policyForm.layers), bounds };
    const fusedRng = new Rng(3);
    const fused = new FusedModelBasedObjective(ctx, heapNets, fusedRng, { observationSize: O, actionSize: A, samples: N, horizon, gamma: GAMMA, retraceLambda: LAMBDA, pessimismStd: "unbiased" });
    for (let round = 0; round < 2; round++) {
      const states = rng.fillNormal(new Float32Array(Bs * O)) as Float32Array;
      const lambda = { mean: rng.fillNormal(new Float32Array(Bs * A), 0, 0.5) as Float32Array, logStd: rng.fillUniform(new Float32Array(Bs * A), -1.5, 0) as Float32Array };
      const want = tf.tidy(() => {
        let terms: number[][] = [];
        const g = tf.grads((m: tf.Tensor, l: tf.Tensor) => {
          const t = tfObjective.evaluate(tf.tensor2d(states, [Bs, O]), { mean: m as tf.Tensor2D, logStd: l as tf.Tensor2D });
          terms = [t.j, t.q as tf.Tensor, t.logProb as tf.Tensor].map((x) => Array.from(x.dataSync()));
          return tf.sum(t.j);
        })([tf.tensor2d(lambda.mean, [Bs, A]), tf.tensor2d(lambda.logStd, [Bs, A])]);
        return { terms, mean: Array.from(g[0].dataSync()), logStd: Array.from(g[1].dataSync()) };
      });
      const got = fused.evaluate(Bs, lambda, q, BETA, ALPHA, true, fused.statePart(states, Bs));
      const what = `round ${round + 1}`;
      for (const [i, name] of ["j", "q", "log π"].entries()) {
        const g = [got.j, got.q, got.logProb][i];
        assert.ok(relativeError(g, want.terms[i]) <= 1e-4, `${what}: ${name} (relative error ${relativeError(g, want.terms[i])})`);
      }
      const grad = got.grad as { mean: Float32Array; logStd: Float32Array };
      assert.ok(relativeError(grad.mean, want.mean) <= 1e-4, `${what}: ∇μ J (relative error ${relativeError(grad.mean, want.mean)})`);
      assert.ok(relativeError(grad.logStd, want.logStd) <= 1e-4, `${what}: ∇log σ J (relative error ${relativeError(grad.logStd, want.logStd)})`);
      assert.ok(want.mean.some((v) => Math.abs(v) > 1e-2), "the gradient is not trivially zero");
    }
    assert.equal(fusedRng.nextUint32(), (tfObjective.options.rng as Rng).nextUint32(), "both drew the same amount of noise");
    fused.dispose();
    nets.dispose();
  });
}
