/**
 * Model-based values under presets: every preset is model-free with Tables 7-8's model-based settings, a
 * model-based run is its preset plus declared overrides, and run.json files written before the option existed
 * load as model-free runs of their preset.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../lib/core/errors";
import { PRESET_OPTIONS, presetModelBased, presetSacConfig } from "../../lib/presets";
import { buildTrainConfig, migrateTrainConfig, validateTrainConfig } from "../../lib/train";

test("presets are model-free and carry Tables 7-8's settings, smaller at smoke scale", () => {
  for (const preset of ["paper", "authors-code"] as const) {
    const c = presetSacConfig(preset, "HalfCheetah-v2", "iterative", "paper");
    assert.equal(c.valueEstimate, "model-free");
    assert.deepEqual(c.modelBased, { horizon: 2, retraceLambda: 0.9, pretrainUpdates: 1000, hiddenSizes: [256, 256], valueTargets: true });
  }
  assert.deepEqual(presetModelBased("quick"), presetModelBased("paper"));
  assert.deepEqual(presetModelBased("smoke"), { horizon: 2, retraceLambda: 0.9, pretrainUpdates: 100, hiddenSizes: [64, 64], valueTargets: true });
});

test("--preset P --value model-based is preset P with the value estimate (and a changed horizon) declared as overrides", () => {
  const c = buildTrainConfig({ env: "Hopper-v2", optimizer: "iterative", scale: "quick", preset: "authors-code", agent: { valueEstimate: "model-based" }, modelBased: { horizon: 3 } });
  assert.equal(c.preset, "authors-code");
  assert.deepEqual(c.overrides.slice().sort(), ["agent.modelBased.horizon", "agent.valueEstimate"]);
  assert.deepEqual(c.agent.modelBased, { ...presetModelBased("quick"), horizon: 3 });
  for (const [field, value] of Object.entries(PRESET_OPTIONS["authors-code"])) assert.deepEqual((c.agent as unknown as Record<string, unknown>)[field], value, field);
  const plain = buildTrainConfig({ env: "Hopper-v2", optimizer: "direct", scale: "quick", agent: { valueEstimate: "model-based" } });
  assert.deepEqual(plain.overrides, ["agent.valueEstimate"]);
  // an undeclared switch to model-based values is refused, naming the setting
  assert.throws(
    () => validateTrainConfig({ ...plain, overrides: [] }),
    (e: unknown) => e instanceof ConfigError && /agent\.valueEstimate is "model-based" but preset "paper" sets "model-free"/.test(e.message),
  );
});

test("a run.json of a preset written before model-based values loads as that preset's model-free run", () => {
  for (const scale of ["smoke", "paper"] as const) {
    const today = buildTrainConfig({ env: "Walker2d-v2", optimizer: "iterative", scale });
    const old = structuredClone(today) as unknown as { agent: Record<string, unknown> };
    delete old.agent.valueEstimate;
    delete old.agent.modelBased;
    const migrated = migrateTrainConfig(old);
    assert.deepEqual(migrated, today);
    assert.equal(validateTrainConfig(migrated), migrated);
  }
});
