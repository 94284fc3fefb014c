import { test } from "node:test";
import assert from "node:assert/strict";
import { mean, meanAndStd, median } from "../../lib/core/stats";

test("mean and population std against hand-computed values", () => {
  assert.equal(mean([1, 2, 3, 6]), 3);
  // deviations -2, -1, 0, 3: squares 4 + 1 + 0 + 9 = 14, /4 = 3.5
  assert.deepEqual(meanAndStd([1, 2, 3, 6]), { mean: 3, std: Math.sqrt(3.5) });
  assert.deepEqual(meanAndStd([5]), { mean: 5, std: 0 });
  assert.ok(Number.isNaN(mean([])));
});

test("median: the middle value, or the mean of the two middle ones; the input keeps its order", () => {
  const values = [9, 1, 5];
  assert.equal(median(values), 5);
  assert.deepEqual(values, [9, 1, 5], "not sorted in place");
  assert.equal(median([4, 1, 3, 10]), 3.5); // sorted 1 3 4 10: (3 + 4) / 2
  assert.equal(median(new Float64Array([2, -7])), -2.5);
  assert.ok(Number.isNaN(median([])));
});
