/**
 * The native Box-Muller kernel (normalPairs) behind Rng.fillStandardNormal: the same float32 normals and end state
 * as the JavaScript fillNormal on one thread and two, the rare u = 0 pair left to JavaScript, and bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, type NormalPairsKernel } from "../../lib/core/rng";
import { nativeForTests } from "./native-available";

const { native, skip } = nativeForTests();

function kernel(): NormalPairsKernel {
  if (!native.ok) throw new Error(native.why);
  const addon = native.addon;
  return (state, out, start, pairs) => addon.normalPairs(state, out, start, pairs);
}

test("normalPairs: fillStandardNormal gives fillNormal's float32 values and end state, on one thread and two", { skip }, () => {
  if (!native.ok) return;
  const pairs = kernel();
  const threads = native.addon.blasInfo().threads;
  try {
    for (const t of [1, 2]) {
      native.addon.setThreads(t);
      const a = new Rng(31);
      const b = new Rng(31);
      // odd and even lengths, a spare carried between calls, and 15360 (J's draw at N = 10: 7680 pairs, on two threads)
      for (const n of [0, 1, 2, 3, 8, 4095, 4097, 15360, 1, 30001]) {
        const got = a.fillStandardNormal(new Float32Array(n), pairs);
        const want = Float32Array.from(b.fillNormal(new Float64Array(n)));
        assert.deepEqual(got, want, `${t} thread(s), ${n} draws`);
        assert.deepEqual(a.getState(), b.getState(), `${t} thread(s), state after ${n} draws`);
      }
    }
  } finally {
    native.addon.setThreads(threads);
  }
});

test("normalPairs: stops before a pair whose u is 0 without consuming it; fillStandardNormal then matches fillNormal", { skip }, () => {
  const pairs = kernel();
  const at = { s: [7, 0, 7, 9] as [number, number, number, number], spareNormal: null }; // first pair: u = 0 (tests/core/rng.test.ts)
  const state = new Uint32Array(at.s);
  const out = new Float32Array(4).fill(5);
  assert.equal(pairs(state, out, 0, 2), 0);
  assert.deepEqual(Array.from(state), at.s, "state untouched");
  assert.deepEqual(Array.from(out), [5, 5, 5, 5], "nothing written");
  const a = Rng.fromState(at);
  const b = Rng.fromState(at);
  assert.deepEqual(a.fillStandardNormal(new Float32Array(9), pairs), Float32Array.from(b.fillNormal(new Float64Array(9))));
  assert.deepEqual(a.getState(), b.getState());
});

test("normalPairs: bad input is a clear error", { skip }, () => {
  const pairs = kernel();
  const state = new Uint32Array([1, 2, 3, 4]);
  assert.throws(() => pairs(new Uint32Array(3), new Float32Array(4), 0, 2), /normalPairs's state must be a typed array/);
  assert.throws(() => pairs(new Float64Array(4) as unknown as Uint32Array, new Float32Array(4), 0, 2), /normalPairs's state/);
  assert.throws(() => pairs(state, new Float32Array(4), 1, 2), /normalPairs's out \(start \+ 2·pairs\) must be a typed array .* at least 5 elements/);
  assert.throws(() => pairs(state, new Float64Array(4) as unknown as Float32Array, 0, 2), /normalPairs's out/);
  assert.throws(() => pairs(state, new Float32Array(4), -1, 1), /whole start >= 0 and pairs >= 0/);
  assert.throws(() => pairs(state, new Float32Array(4), 0, 1.5), /whole start >= 0 and pairs >= 0/);
  assert.deepEqual(Array.from(state), [1, 2, 3, 4], "a refused call draws nothing");
});
