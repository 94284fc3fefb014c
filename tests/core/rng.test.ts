import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../lib/core/rng";

test("xoshiro128** output matches the algorithm computed by hand from state [1,2,3,4]", () => {
  const rng = Rng.fromState({ s: [1, 2, 3, 4], spareNormal: null });
  // result = rotl(s1 * 5, 7) * 9 = rotl(10, 7) * 9 = 1280 * 9
  assert.equal(rng.nextUint32(), 11520);
  // state after one step: t = 2<<9 = 1024; s2 ^= s0 -> 2; s3 ^= s1 -> 6; s1 ^= s2 -> 0; s0 ^= s3 -> 7;
  // s2 ^= t -> 1026; s3 = rotl(6, 11) = 12288. Next result = rotl(0 * 5, 7) * 9 = 0.
  assert.deepEqual(rng.getState().s, [7, 0, 1026, 12288]);
  assert.equal(rng.nextUint32(), 0);
});

test("the same seed gives the same stream; different seeds differ", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xs = Array.from({ length: 100 }, () => a.random());
  const ys = Array.from({ length: 100 }, () => b.random());
  const zs = Array.from({ length: 100 }, () => c.random());
  assert.deepEqual(xs, ys);
  assert.notDeepEqual(xs, zs);
});

test("getState/setState resumes the stream exactly, including the cached Box-Muller normal", () => {
  const rng = new Rng(7);
  rng.normal(); // leaves a spare normal cached
  const saved = JSON.parse(JSON.stringify(rng.getState()));
  const expected = [rng.normal(), rng.random(), rng.normal(), rng.int(10)];
  const resumed = Rng.fromState(saved);
  assert.deepEqual([resumed.normal(), resumed.random(), resumed.normal(), resumed.int(10)], expected);
});

test("uniform and normal draws have the right moments", () => {
  const rng = new Rng(1);
  const n = 200_000;
  let su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.random();
    assert.ok(u >= 0 && u < 1);
    su += u; su2 += u * u;
    const z = rng.normal();
    sn += z; sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005, `uniform mean ${su / n}`);
  assert.ok(Math.abs(su2 / n - 1 / 3) < 0.005, `uniform second moment ${su2 / n}`);
  assert.ok(Math.abs(sn / n) < 0.01, `normal mean ${sn / n}`);
  assert.ok(Math.abs(sn2 / n - 1) < 0.02, `normal variance ${sn2 / n}`);
});

test("int(n) is unbiased over its range and rejects bad n", () => {
  const rng = new Rng(3);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `counts ${counts}`);
  assert.throws(() => rng.int(0), /integer in \[1, 2\^32\]/);
  assert.throws(() => rng.int(2.5), /integer/);
});

test("bad seeds and states are refused with a clear error", () => {
  assert.throws(() => new Rng(0.5), /seed must be an integer/);
  assert.throws(() => Rng.fromState({ s: [0, 0, 0, 0], spareNormal: null }), /all-zero/);
  assert.throws(() => Rng.fromState({ s: [1, 2, 3] as unknown as [number, number, number, number], spareNormal: null }), /four unsigned/);
});

test("fillNormal gives exactly the values and end state of normal() called per element, and fillUint32 of nextUint32", () => {
  for (const lengths of [[0, 1, 2, 3], [7, 1, 1, 4096], [5, 0, 6]]) {
    const bulk = new Rng(21);
    const single = new Rng(21);
    for (const n of lengths) {
      const got = bulk.fillNormal(new Float64Array(n));
      const want = Float64Array.from({ length: n }, () => single.normal());
      assert.deepEqual(got, want, `lengths ${lengths.join(",")}: values`);
      assert.deepEqual(bulk.getState(), single.getState(), `lengths ${lengths.join(",")}: state (spare normal included)`);
    }
    assert.deepEqual(Array.from(bulk.fillUint32(new Uint32Array(9))), Array.from({ length: 9 }, () => single.nextUint32()));
  }
  // mean and std apply to the spare too
  const a = new Rng(3);
  const b = new Rng(3);
  a.normal();
  b.normal();
  assert.deepEqual(a.fillNormal(new Float64Array(3), 2, 0.5), Float64Array.from({ length: 3 }, () => b.normal(2, 0.5)));
});

test("a pair whose first uniform is exactly 0: fillNormal draws u again from the next words, as normal() does", () => {
  // state [s0, 0, s0, s3]: s1 = 0 gives output 0, and the next state's s1 = 0 ^ (s2 ^ s0) = 0 gives 0 again,
  // so the first pair's u = unit53(0, 0) = 0
  const at = { s: [7, 0, 7, 9] as [number, number, number, number], spareNormal: null };
  assert.deepEqual(Array.from(Rng.fromState(at).fillUint32(new Uint32Array(2))), [0, 0]);
  for (const n of [1, 2, 5]) {
    const bulk = Rng.fromState(at);
    const single = Rng.fromState(at);
    const got = bulk.fillNormal(new Float64Array(n));
    assert.deepEqual(got, Float64Array.from({ length: n }, () => single.normal()), `${n} draws`);
    assert.deepEqual(bulk.getState(), single.getState());
    assert.ok(got.every(Number.isFinite), "no log(0)");
  }
});

test("fillStandardNormal leaves to normal() whatever its pairs kernel does not write", () => {
  // a kernel that writes nothing (as the native one does before a u = 0 pair): every value comes from normal()
  const none = (): number => 0;
  for (const [seed, spareFirst, n] of [[4, false, 5], [4, true, 6], [9, true, 1], [9, false, 0]] as const) {
    const a = new Rng(seed);
    const b = new Rng(seed);
    if (spareFirst) {
      a.normal();
      b.normal();
    }
    assert.deepEqual(a.fillStandardNormal(new Float32Array(n), none), Float32Array.from(b.fillNormal(new Float64Array(n))));
    assert.deepEqual(a.getState(), b.getState());
  }
  // the kernel gets the pairs after the spare: start 1, floor((6 − 1) / 2) = 2 pairs
  const calls: number[][] = [];
  const r = new Rng(1);
  r.normal();
  r.fillStandardNormal(new Float32Array(6), (_s, _o, start, pairs) => (calls.push([start, pairs]), 0));
  assert.deepEqual(calls, [[1, 2]]);
});
