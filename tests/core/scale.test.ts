import { test } from "node:test";
import assert from "node:assert/strict";
import { activeScale, byScale, parseScale } from "../../lib/core/scale";
import { ConfigError } from "../../lib/core/errors";

test("activeScale reads IAPO_SCALE and falls back to the default", () => {
  assert.equal(activeScale({ IAPO_SCALE: "smoke" }), "smoke");
  assert.equal(activeScale({ IAPO_SCALE: " Paper " }), "paper");
  assert.equal(activeScale({}), "quick");
  assert.equal(activeScale({ IAPO_SCALE: "" }, "smoke"), "smoke");
});

test("an unknown scale is an error that names the variable and the valid values", () => {
  assert.throws(() => activeScale({ IAPO_SCALE: "huge" }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /IAPO_SCALE: unknown scale "huge"; expected one of smoke, quick, paper/);
    return true;
  });
  assert.throws(() => parseScale("fast", "--scale"), /--scale: unknown scale "fast"/);
});

test("byScale picks the entry for the scale", () => {
  const table = { smoke: 1, quick: 2, paper: 3 };
  assert.equal(byScale(table, "smoke"), 1);
  assert.equal(byScale(table, "paper"), 3);
});
