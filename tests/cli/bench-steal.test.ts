/** The bench's hypervisor-steal figure (lib/cli/bench/steal.ts): /proc/stat parsed and differenced by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCpuTimes, stealPercent } from "../../lib/cli/bench/steal";

const stat = (user: number, idle: number, steal: number, guest = 0): string =>
  [`cpu  ${user} 0 50 ${idle} 10 0 5 ${steal} ${guest} 0`, `cpu0 ${user} 0 50 ${idle} 10 0 5 ${steal} ${guest} 0`, "intr 12345", ""].join("\n");

test("parseCpuTimes adds up the aggregate line's eight states (guest time is inside user) and reads steal", () => {
  assert.deepEqual(parseCpuTimes(stat(1000, 3000, 400, 77)), { total: 1000 + 50 + 3000 + 10 + 5 + 400, steal: 400 });
});

test("stealPercent is the steal ticks' share of all ticks between two readings", () => {
  const before = parseCpuTimes(stat(1000, 3000, 400));
  const after = parseCpuTimes(stat(1600, 3100, 700)); // +600 user, +100 idle, +300 steal: 300 of 1000
  assert.equal(stealPercent(before, after), 30);
});

test("without a steal column, a reading, or elapsed ticks there is no figure", () => {
  assert.equal(parseCpuTimes("cpu  1 2 3 4 5 6 7\nintr 1"), null); // before Linux 2.6.11: seven columns
  assert.equal(parseCpuTimes("intr 1\n"), null);
  assert.equal(parseCpuTimes("cpu  1 2 x 4 5 6 7 8"), null);
  const r = parseCpuTimes(stat(1, 1, 1));
  assert.equal(stealPercent(null, r), null);
  assert.equal(stealPercent(r, r), null);
});
