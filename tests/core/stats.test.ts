import { test } from "node:test";
import assert from "node:assert/strict";
import { mean, meanAndStd } from "../../lib/core/stats";

test("mean and population std against hand-computed values", () => {
  assert.equal(mean([1, 2, 3, 6]), 3);
  // deviations -2, -1, 0, 3: squares 4 + 1 + 0 + 9 = 14, /4 = 3.5
  assert.deepEqual(meanAndStd([1, 2, 3, 6]), { mean: 3, std: Math.sqrt(3.5) });
  assert.deepEqual(meanAndStd([5]), { mean: 5, std: 0 });
  assert.ok(Number.isNaN(mean([])));
});
