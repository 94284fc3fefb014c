import { test } from "node:test";
import assert from "node:assert/strict";
import { ThreadTuner, autoThreadTuner } from "../../lib/backend/thread-tuner";
import type { NativeLoad } from "../../lib/backend/native";
import { ConfigError } from "../../lib/core/errors";

/** A fake addon and clock: an update takes `ms[threads]` of fake time under the current thread count. */
function host(ms: { 1: number; 2: number }) {
  const calls: number[] = [];
  let clock = 0;
  const addon = { threads: 0, setThreads: (n: number) => { addon.threads = n; calls.push(n); } };
  const update = () => {
    clock += ms[addon.threads as 1 | 2];
    return addon.threads;
  };
  return { addon, calls, ms, update, now: () => clock };
}

const options = { minInterval: 10, maxInterval: 40, quietInterval: 80, probeLength: 3, window: 4, margin: 0.9 };

test("thread tuner: two threads well ahead of one are probed only every quiet interval; slowed, at the interval", () => {
  const h = host({ 1: 13, 2: 7.5 });
  const tuner = new ThreadTuner(h.addon, 2, options, h.now);
  assert.equal(h.addon.threads, 2, "sets its initial count");
  const ran: number[] = [];
  const oneThread = () => ran.map((t, i) => (t === 1 ? i : -1)).filter((i) => i >= 0);
  for (let i = 0; i < 200; i++) ran.push(tuner.time(h.update));
  // the first probe (1 untimed + 3 timed updates on one thread) after 10 updates; then 7.5 ms is well below
  // 0.9 x 13 ms and the next probes wait for the quiet interval, 80 updates
  assert.deepEqual(oneThread(), [10, 11, 12, 13, 94, 95, 96, 97, 178, 179, 180, 181]);
  assert.deepEqual(tuner.stats(), { threads: 2, probes: 3, switches: 0 });
  // two threads slow to 12.5 ms, within the margin of one thread's 13: probes every 40 updates (the interval, doubled
  // twice from 10), none wins
  h.ms[2] = 12.5;
  ran.length = 0;
  for (let i = 0; i < 100; i++) ran.push(tuner.time(h.update));
  const probes = oneThread().filter((_, k) => k % 4 === 0);
  assert.ok(probes.length === 2 && probes[1] - probes[0] === 44, `probes began at ${probes}`);
  assert.equal(tuner.stats().switches, 0);
  h.ms[2] = 20; // and further: the next probe moves to one thread
  for (let i = 0; i < 48; i++) tuner.time(h.update);
  assert.deepEqual(tuner.stats().threads, 1);
});

test("thread tuner: moves to one thread when two are slower, and back when the host frees the second core", () => {
  const h = host({ 1: 13, 2: 20 });
  const tuner = new ThreadTuner(h.addon, 2, options, h.now);
  for (let i = 0; i < 14; i++) tuner.time(h.update);
  assert.equal(tuner.threads, 1, "the first probe (updates 10-13) found one thread faster");
  assert.deepEqual(tuner.stats(), { threads: 1, probes: 1, switches: 1 });
  for (let i = 0; i < 100; i++) tuner.time(h.update);
  assert.equal(tuner.stats().switches, 1, "later probes of two threads lose");
  h.ms[2] = 7.5; // the steal ends
  for (let i = 0; i < 44; i++) tuner.time(h.update);
  assert.equal(tuner.threads, 2, "back within one longest interval plus a probe");
  assert.equal(tuner.stats().switches, 2);
});

test("thread tuner: ignores a probe's first update and needs the margin to switch", () => {
  // one thread 5% faster: inside the 10% margin, so two threads stay; a slow first probe update is not timed
  const h = host({ 1: 9.5, 2: 10 });
  const tuner = new ThreadTuner(h.addon, 2, options, h.now);
  for (let i = 0; i < 100; i++) tuner.time(h.update);
  assert.equal(tuner.stats().switches, 0);
  assert.ok(tuner.stats().probes >= 3, "two threads within the margin of one: probed at the interval");
  const g = host({ 1: 13, 2: 7.5 });
  const t2 = new ThreadTuner(g.addon, 2, { ...options, maxInterval: 10 }, g.now);
  for (let i = 0; i < 10; i++) t2.time(g.update);
  assert.equal(g.addon.threads, 1, "probing");
  t2.record(1000); // the untimed first probe update: a huge time changes nothing
  t2.record(5);
  t2.record(5);
  t2.record(5);
  assert.equal(t2.threads, 1, "three 5 ms one-thread updates beat 7.5 ms: switched");
  assert.equal(g.addon.threads, 1);
});

test("thread tuner: finish() restores its initial count; bad options and counts are rejected", () => {
  const h = host({ 1: 13, 2: 20 });
  const tuner = new ThreadTuner(h.addon, 2, options, h.now);
  for (let i = 0; i < 20; i++) tuner.time(h.update);
  assert.equal(h.addon.threads, 1);
  tuner.finish();
  assert.equal(h.addon.threads, 2);
  assert.throws(() => new ThreadTuner(h.addon, 2, { probeLength: 0 }), (e: Error) => e instanceof ConfigError && /probeLength must be a whole number >= 1, got 0/.test(e.message));
  assert.throws(() => new ThreadTuner(h.addon, 2, { minInterval: 64, maxInterval: 8 }), /maxInterval must be a whole number >= 64/);
  assert.throws(() => new ThreadTuner(h.addon, 2, { maxInterval: 512, quietInterval: 100 }), /quietInterval must be a whole number >= 512, got 100/);
  assert.throws(() => new ThreadTuner(h.addon, 2, { margin: 1.5 }), /margin must be in \(0, 1\], got 1.5/);
  assert.throws(() => new ThreadTuner(h.addon, 3 as 2), /threads must be 1 or 2, got 3/);
});

test("autoThreadTuner: only where the addon loaded and two threads came from the core count", () => {
  const fake = host({ 1: 1, 2: 1 }).addon;
  const load = (threads: number, threadsSource: "cores" | "IAPO_THREADS"): NativeLoad =>
    ({ ok: true, addon: fake, path: "x", coreName: "Haswell", blas: { coreType: "Haswell", coreTypeSource: "from cpu flags", threads, threadsSource } }) as unknown as NativeLoad;
  assert.ok(autoThreadTuner(load(2, "cores")) instanceof ThreadTuner);
  assert.equal(autoThreadTuner(load(2, "IAPO_THREADS")), null, "IAPO_THREADS fixes the count");
  assert.equal(autoThreadTuner(load(1, "cores")), null, "one core");
  assert.equal(autoThreadTuner({ ok: false, why: "disabled" }), null, "no addon");
});
