import { test } from "node:test";
import assert from "node:assert/strict";
import { ReplayBuffer } from "../../lib/agents";
import { Rng } from "../../lib/core/rng";
import { ConfigError } from "../../lib/core/errors";

test("replay buffer keeps the newest transitions, samples them whole, and restores exactly", () => {
  const buffer = new ReplayBuffer(3, 2, 1);
  for (let i = 0; i < 5; i++) buffer.add([i, 10 * i], [i / 10], i, [i + 1, 10 * i + 10], i === 4);
  assert.equal(buffer.size, 3);
  const batch = buffer.sample(50, new Rng(1));
  const seen = new Set<number>();
  for (let b = 0; b < 50; b++) {
    const i = batch.observations[2 * b];
    seen.add(i);
    assert.equal(batch.observations[2 * b + 1], 10 * i);
    assert.ok(Math.abs(batch.actions[b] - i / 10) < 1e-6);
    assert.equal(batch.rewards[b], i);
    assert.equal(batch.nextObservations[2 * b], i + 1);
    assert.equal(batch.terminated[b], i === 4 ? 1 : 0);
  }
  assert.deepEqual([...seen].sort(), [2, 3, 4], "only the 3 newest remain after wrap-around");
  const copy = ReplayBuffer.restore(buffer.snapshot());
  assert.deepEqual(copy.sample(20, new Rng(9)), buffer.sample(20, new Rng(9)));
  copy.add([7, 7], [0], 0, [7, 7], false);
  buffer.add([7, 7], [0], 0, [7, 7], false);
  assert.deepEqual(copy.snapshot(), buffer.snapshot());
});

test("replay buffer rejects bad sizes and transitions with a clear message", () => {
  assert.throws(() => new ReplayBuffer(0, 2, 1), (e: Error) => e instanceof ConfigError && /capacity/.test(e.message));
  const buffer = new ReplayBuffer(4, 2, 1);
  assert.throws(() => buffer.sample(1, new Rng(0)), /empty/);
  assert.throws(() => buffer.add([1], [0], 0, [1, 2], false), /observations must have 2/);
  assert.throws(() => buffer.add([1, 2], [0, 1], 0, [1, 2], false), /action must have 1/);
  assert.throws(() => buffer.add([1, 2], [0], NaN, [1, 2], false), /reward must be finite/);
});
