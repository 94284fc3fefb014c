/**
 * How networks start (lib/nn/init.ts): the default fan-in uniform, and "xavier", the authors' code's scheme
 * (Xavier-normal hidden layers with PyTorch's gain, constant biases, Q output layers U(±3e-3)), for the Q
 * architectures A and B (highway gates included); each from the run's Rng.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { initBackend } from "../../lib/backend/select";
import { ConfigError } from "../../lib/core/errors";
import { Rng } from "../../lib/core/rng";
import { Q_ARCHITECTURES } from "../../lib/nn/architectures";
import { hiddenLayerInit, linearInit, xavierGain } from "../../lib/nn/init";
import { Mlp } from "../../lib/nn/mlp";
import type { NamedWeights } from "../../lib/nn/parameters";
import { QNetwork } from "../../lib/nn/q-network";

const [O, A] = [17, 6]; // Walker2d-like sizes

const moments = (v: ArrayLike<number>): { mean: number; std: number } => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(s / v.length) };
};

/**
 * Xavier-normal weights: N(0, gain²·2/(fanIn + fanOut)). The sample std of n normals is within ~1/√(2n) of the
 * true one (relative), the mean within std/√n: 5 of those each way.
 */
function assertXavier(w: { shape: number[]; values: Float32Array }, gain: number, what: string): void {
  const [fanIn, fanOut] = w.shape;
  const want = gain * Math.sqrt(2 / (fanIn + fanOut));
  const n = w.values.length;
  const { mean, std } = moments(w.values);
  assert.ok(Math.abs(std / want - 1) <= 5 / Math.sqrt(2 * n), `${what}: std ${std}, want ${want} (${n} weights)`);
  assert.ok(Math.abs(mean) <= (5 * want) / Math.sqrt(n), `${what}: mean ${mean}`);
}

const constant = (v: Float32Array, c: number, what: string): void => assert.ok(v.every((x) => x === Math.fround(c)), `${what}: every value ${c}`);

test("xavier gains and biases follow the code's layers: ReLU √2 and 0.1, tanh 5/3, ELU / sigmoid / linear 1 and 0", () => {
  assert.equal(xavierGain("relu"), Math.SQRT2);
  assert.equal(xavierGain("tanh"), 5 / 3);
  for (const a of ["elu", "sigmoid", "linear", "leakyrelu"] as const) assert.equal(xavierGain(a), 1, a);
  assert.deepEqual(hiddenLayerInit("xavier", "relu"), { xavierNormal: Math.SQRT2, bias: 0.1 });
  assert.deepEqual(hiddenLayerInit("xavier", "elu"), { xavierNormal: 1, bias: 0 });
  assert.equal(hiddenLayerInit("fan-in-uniform", "relu"), "fan-in-uniform");
});

test("linearInit: Xavier-normal weights with the std gain·sqrt(2/(fanIn + fanOut)), uniform within its bound", async () => {
  await initBackend();
  const rng = new Rng(1);
  const read = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);
  for (const [fanIn, fanOut, gain] of [[256, 256, Math.SQRT2], [23, 256, Math.SQRT2], [512, 512, 1]]) {
    const { w, b } = linearInit(rng, fanIn, fanOut, { xavierNormal: gain, bias: 0.1 });
    assertXavier({ shape: w.shape, values: read(w) }, gain, `${fanIn} x ${fanOut}`);
    constant(read(b), 0.1, "bias");
    tf.dispose([w, b]);
  }
  const { w, b } = linearInit(rng, 256, 1, { uniform: 3e-3 });
  const values = [...read(w), ...read(b)];
  assert.ok(values.every((v) => Math.abs(v) <= 3e-3), "U(±3e-3)");
  assert.ok(moments(values).std > 1e-3, "spread over the interval, not zero");
  tf.dispose([w, b]);
});

test("Q-networks under xavier: hidden layers Xavier-normal (A: ReLU; B: ELU, highway gates), outputs U(±3e-3), Q small", async () => {
  await initBackend();
  const states = tf.tensor2d(new Rng(2).fillNormal(new Float32Array(64 * O)) as Float32Array, [64, O]);
  const actions = tf.tensor2d(new Rng(3).fillUniform(new Float32Array(64 * A), -1, 1) as Float32Array, [64, A]);
  const maxAbsQ = (q: QNetwork): number => tf.tidy(() => tf.max(tf.abs(q.apply(states, actions))).dataSync()[0]);
  for (const arch of ["A", "B"] as const) {
    const body = Q_ARCHITECTURES[arch];
    const q = QNetwork.create(body, O, A, new Rng(4), "xavier");
    const w: NamedWeights = q.params.toData();
    const gain = arch === "A" ? Math.SQRT2 : 1;
    body.hiddenSizes.forEach((_, i) => {
      assertXavier(w[`hidden${i}/w`], gain, `${arch} hidden${i}`);
      constant(w[`hidden${i}/b`].values, arch === "A" ? 0.1 : 0, `${arch} hidden${i} bias`);
      if (body.layerNorm) {
        constant(w[`hidden${i}/ln_gain`].values, 1, "layer-norm gain");
        constant(w[`hidden${i}/ln_bias`].values, 0, "layer-norm bias");
      }
      if (arch === "B" && i > 0) {
        assertXavier(w[`hidden${i}/gate_w`], 1, `highway gate ${i}`); // a sigmoid layer in the code: gain 1, bias 0
        constant(w[`hidden${i}/gate_b`].values, 0, `highway gate ${i} bias`);
      }
    });
    const out = [...w["output/w"].values, ...w["output/b"].values];
    assert.ok(out.every((v) => Math.abs(v) <= 3e-3), `${arch}: output layer within ±3e-3`);
    // Small outputs at the start: |Q| ≪ 1, where the fan-in uniform output layer gives values of order 1.
    const fanIn = QNetwork.create(body, O, A, new Rng(4));
    assert.ok(maxAbsQ(q) < 0.15, `${arch}: xavier |Q| ${maxAbsQ(q)}`);
    assert.ok(maxAbsQ(fanIn) > 3 * maxAbsQ(q), `${arch}: fan-in uniform |Q| ${maxAbsQ(fanIn)} is larger`);
    // Same seed, same weights; another seed, others.
    const again = QNetwork.create(body, O, A, new Rng(4), "xavier").params;
    const other = QNetwork.create(body, O, A, new Rng(5), "xavier").params;
    for (const [name, t] of Object.entries(w)) assert.deepEqual(again.toData()[name].values, t.values, `${arch} ${name}: same seed`);
    assert.notDeepEqual(other.toData()["hidden0/w"].values, w["hidden0/w"].values, "another seed");
    [q.params, fanIn.params, again, other].forEach((p) => p.dispose());
  }
  tf.dispose([states, actions]);
});

test("fan-in uniform stays the default (weights and biases within ±1/√fanIn); a bad init name fails", async () => {
  await initBackend();
  const q = QNetwork.create(Q_ARCHITECTURES.A, O, A, new Rng(6));
  const w = q.params.toData();
  for (const [layer, fanIn] of [["hidden0", O + A], ["hidden1", 256], ["output", 256]] as const) {
    const values = [...w[`${layer}/w`].values, ...w[`${layer}/b`].values];
    assert.ok(values.every((v) => Math.abs(v) <= 1 / Math.sqrt(fanIn)), `${layer} within ±1/√${fanIn}`);
    assert.ok(moments(values).std > 0.4 / Math.sqrt(fanIn), `${layer} spread over the interval`);
  }
  q.dispose();
  const config = { ...Q_ARCHITECTURES.A, inputSize: 3, outputSize: 1, outputInit: "zeros" as const, init: "kaiming" as never };
  assert.throws(() => Mlp.create(config, new Rng(0)), (e: Error) => e instanceof ConfigError && /init must be one of fan-in-uniform, xavier/.test(e.message));
});
