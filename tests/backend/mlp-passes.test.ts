/**
 * mlpPasses's tables written by field name, at the positions the addon's passLayout gives (native/pass_layout.h
 * is the one definition): a hand-computed forward and backward pass of one ReLU layer, and tables that do not
 * describe a network inside the heap refused with a clear error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../lib/backend/tf";
import { useBackend } from "../../lib/backend/select";
import { HeapBlock } from "../../lib/backend/heap-mlp";
import { ACTIVATION_CODES, type LayerField, type NativeAddon, type PassField } from "../../lib/backend/native";
import { asWasmBackend, heapOf } from "../../lib/backend/wasm-heap";
import { nativeForTests } from "./native-available";

const { native, skip } = nativeForTests();

/** A table of passes, each a head and its layers given by field name; fields not named are -1 (none). */
function table(addon: NativeAddon, passes: Array<{ head: Partial<Record<PassField, number>>; layers: Array<Partial<Record<LayerField, number>>> }>): Float64Array {
  const { pass: P, layer: L, widths } = addon.passLayout;
  const t = new Float64Array(passes.reduce((n, p) => n + widths.pass + widths.layer * p.layers.length, 0)).fill(-1);
  let at = 0;
  for (const p of passes) {
    for (const [name, v] of Object.entries(p.head)) t[at + P[name as PassField]] = v;
    at += widths.pass;
    for (const layer of p.layers) {
      for (const [name, v] of Object.entries(layer)) t[at + L[name as LayerField]] = v;
      at += widths.layer;
    }
  }
  return t;
}

const plainHead = { baseRows: 0, split: 0, accumulate: 0 };

test("a ReLU layer's forward and backward from a table written by field name: hand-computed values", { skip }, async () => {
  if (!native.ok) return;
  await useBackend("wasm-native");
  const backend = asWasmBackend(tf.backend());
  const block = new HeapBlock(backend, 256);
  const values: number[][] = [];
  const put = (v: number[]): number => (values.push(v), block.take(v.length));
  // x [2, 2], w [2, 3], b [3]; y = relu(x·w + b)
  const x = put([1, 2, 3, -1]);
  const w = put([1, 0, -1, 2, 1, 0]);
  const b = put([0.5, -1, 0]);
  const [y, dy, dx, dw, db] = [6, 6, 4, 6, 3].map((n) => put(new Array<number>(n).fill(0)));
  values[4].fill(1); // dy = 1 everywhere
  const offsets = [x, w, b, y, dy, dx, dw, db];
  values.forEach((v, i) => new Float32Array(heapOf(backend), offsets[i], v.length).set(v));
  const layer = { w, b, k: 2, n: 3, act: ACTIVATION_CODES.relu, out: y, epsilon: 0 };
  const read = (off: number, n: number): number[] => Array.from(new Float32Array(heapOf(backend), off, n));
  native.addon.mlpPasses(heapOf(backend), false, table(native.addon, [{ head: { ...plainHead, rows: 2, depth: 1, input: x }, layers: [layer] }]), 1, 0);
  // row 0: [1 + 4 + 0.5, 2 − 1, −1] → [5.5, 1, 0]; row 1: [3 − 2 + 0.5, −1 − 1, −3] → [1.5, 0, 0]
  assert.deepEqual(read(y, 6), [5.5, 1, 0, 1.5, 0, 0]);
  const backward = { head: { ...plainHead, rows: 2, depth: 1, input: x, dOut: dy, dInput: dx }, layers: [{ ...layer, dw, db }] };
  native.addon.mlpPasses(heapOf(backend), true, table(native.addon, [backward]), 1, 0);
  // dz = dy ⊙ relu′ = [[1, 1, 0], [1, 0, 0]]; db = Σ rows dz; dw = xᵀ·dz; dx = dz·wᵀ
  assert.deepEqual(read(db, 3), [2, 1, 0]);
  assert.deepEqual(read(dw, 6), [4, 1, 0, 1, 2, 0]);
  assert.deepEqual(read(dx, 4), [1, 3, 1, 2]);
  // accumulate: the weight gradients add to what they hold
  native.addon.mlpPasses(heapOf(backend), true, table(native.addon, [{ ...backward, head: { ...backward.head, accumulate: 1 } }]), 1, 0);
  assert.deepEqual(read(db, 3), [4, 2, 0]);
  assert.deepEqual(read(dw, 6), [8, 2, 0, 2, 4, 0]);
  block.dispose();
});

test("mlpPasses refuses tables that do not describe a network inside the heap", { skip }, async () => {
  if (!native.ok) return;
  await useBackend("wasm-native");
  const addon = native.addon;
  const heap = heapOf(asWasmBackend(tf.backend()));
  const { widths, maxDepth } = addon.passLayout;
  const plain = (k: number, n: number, out: number): Partial<Record<LayerField, number>> => ({ w: 0, k, n, act: ACTIVATION_CODES.relu, out, epsilon: 0 });
  const pass = (rows: number, depth: number, ...layers: Array<Partial<Record<LayerField, number>>>): Float64Array =>
    table(addon, [{ head: { ...plainHead, rows, depth, input: 0 }, layers }]);
  const run = (t: Float64Array, count = 1): void => addon.mlpPasses(heap, false, t, count, 0);
  assert.throws(() => run(pass(4, 1, plain(3, 2, heap.byteLength))), /outside the heap/);
  assert.throws(() => run(pass(4, maxDepth + 1, plain(3, 2, 64))), /1\.\.8 layers|too short/);
  assert.throws(() => run(pass(4, 1, plain(3, 0, 64))), /empty side/);
  assert.throws(() => run(pass(4, 1, plain(3, 2, 64)), 2), /shorter than its count/);
  assert.throws(() => run(pass(4, 2, plain(3, 2, 64), plain(3, 2, 128))), /do not chain/);
  const gated = (k: number, n: number): Partial<Record<LayerField, number>> => ({ ...plain(k, n, 64), gateW: 256, gateB: 256, f: 256, g: 256 });
  assert.throws(() => run(pass(4, 1, gated(2, 2))), /highway gate needs a later layer/);
  assert.throws(() => run(pass(4, 2, plain(3, 2, 64), gated(2, 3))), /do not chain|highway gate/);
  assert.throws(() => run(pass(4, 1, plain(3, 2, 64)).subarray(0, widths.pass + widths.layer - 1)), /too short/);
  assert.throws(() => addon.mlpPasses(heap, false, new Float32Array(4) as unknown as Float64Array, 0, 0), /Float64Array/);
});
