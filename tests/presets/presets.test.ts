/**
 * Every preset value against the source it cites: the paper's Appendix A.4 (Tables 2, 5, 6 and the β text) and,
 * for the `authors-code` preset and where the text is silent, the authors' code (github.com/joelouismarino/
 * variational_rl, file named beside each value). The expected values are typed here from those sources, not
 * read from the presets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../../lib/core/errors";
import { projectRoot } from "../../lib/core/paths";
import { SCALES } from "../../lib/core/scale";
import { ENV_NAMES, MUJOCO_ENV_NAMES } from "../../lib/envs/registry";
import { validateSacConfig } from "../../lib/agents/sac/config";
import { validateSchedule } from "../../lib/train/schedule";
import {
  PAPER_TASKS, PRESET_NAMES, PRESET_OPTIONS, checkPresetName, defaultSacConfig, presetSacConfig, presetSchedule, resolvePreset, type PresetName,
} from "../../lib/presets";

const OPTIMIZERS = ["direct", "iterative"] as const;

test("Table 6 and Table 2 at paper scale, in both presets", () => {
  for (const preset of PRESET_NAMES) for (const env of PAPER_TASKS) for (const optimizer of OPTIMIZERS) {
    const { agent, schedule } = resolvePreset({ preset, env, optimizer, scale: "paper" });
    const where = `${preset} ${env} ${optimizer}`;
    assert.equal(agent.gamma, 0.99, where);
    assert.equal(agent.tau, 5e-3, where);
    assert.equal(agent.learningRate, 3e-4, where);
    assert.equal(agent.batchSize, 256, where);
    assert.equal(schedule.initialRandomSteps, 5000, where);
    assert.equal(schedule.bufferSize, 1e6, where);
    assert.equal(schedule.updatesPerStep, 1, where);
    // Figure 5's x axis and the code's main.py (--n_total_steps 3e6)
    assert.equal(schedule.totalSteps, 3e6, where);
    assert.deepEqual(agent.policyHiddenSizes, [256, 256], where);
    assert.equal(agent.policyActivation, "relu", where);
    // Sec. 4: "we use 5 iterations per time step"; A.3's extra iterations are the test-time analysis, not a preset
    assert.deepEqual(agent.iterations, { train: 5, act: 5, eval: 5 }, where);
    // the code's config/mujoco_config.py: n_action_samples 10, for every optimizer
    assert.equal(agent.samples, 10, where);
    assert.equal(agent.targetEntropy, null, `${where}: A.4, target entropy −|A|`);
  }
});

test("Table 5's Q architectures and A.4's β per task and optimizer, in both presets", () => {
  const table5: Record<string, [string, string]> = {
    "Hopper-v2": ["A", "A"], "HalfCheetah-v2": ["B", "A"], "Walker2d-v2": ["A", "B"], "Ant-v2": ["B", "B"],
  };
  const betaIterative: Record<string, number> = { "Hopper-v2": 1.5, "HalfCheetah-v2": 2.5, "Walker2d-v2": 2.5, "Ant-v2": 2.5 };
  for (const preset of PRESET_NAMES) for (const scale of SCALES) for (const env of PAPER_TASKS) {
    const direct = presetSacConfig(preset, env, "direct", scale);
    const iterative = presetSacConfig(preset, env, "iterative", scale);
    assert.deepEqual([direct.qArchitecture, iterative.qArchitecture], table5[env], `${preset} ${env} ${scale}`);
    assert.equal(direct.betaTrain, 1, `${preset} ${env}: "direct amortization use the default β = 1"`);
    assert.equal(iterative.betaTrain, betaIterative[env], `${preset} ${env}: iterative β`);
    for (const c of [direct, iterative]) {
      assert.equal(c.betaCollect, 1, `${preset} ${env}: "while collecting data ... we use β = 1"`);
      assert.equal(c.inputNormalization, "layer", `${preset} ${env}: layer normalization of each input`);
    }
  }
});

test("the points where the text and the code differ, per preset", () => {
  const expected: Record<PresetName, Record<string, unknown>> = {
    paper: {
      pessimismStd: "population", // Eq. 12 with β = 1 is min(Q1, Q2) (Sec. 3.2.2, Fujimoto et al.)
      networkInit: "xavier", // text silent: lib/layers/layer.py
      logStdBounds: "soft-clamp", // text silent: the code's learnable soft clamp
      temperatureLoss: "alpha", // A.4 follows Haarnoja et al. 2018c: J(α) = E[−α log π − α H̄]
      useTargetQForPolicy: false, // SAC (Haarnoja et al. 2018b)
      useTargetQForActing: false,
      normalizeStateInput: true, // A.4: layer normalization "individually to each of the inputs"
      initialStd: 1, // A.4: "we initialize iterative amortization with μ = 0 and σ = 1"
      targetUpdate: "polyak", // Table 6: τ = 5e-3
    },
    "authors-code": {
      pessimismStd: "unbiased", // lib/value_estimators/direct_q.py: q_values.var(dim=1), torch's unbiased default
      networkInit: "xavier", // lib/layers/layer.py: nn.init.xavier_normal_
      logStdBounds: "soft-clamp",
      temperatureLoss: "alpha", // misc/collector.py: −(log_alpha.exp() · (kl − target_kl).detach())
      useTargetQForPolicy: true, // config/mujoco_config.py: optimize_targets = True
      useTargetQForActing: true, // lib/agent.py: estimate_objective passes target=self.optimize_targets in every mode
      normalizeStateInput: false, // lib/distributions/distribution.py: only params and grads are standardised
      initialStd: 0.5,
      targetUpdate: "polyak+hard", // main.py: --value_update hard; misc/optimizer.py: a copy every int(1/τ) updates, Polyak in between
    },
  };
  for (const preset of PRESET_NAMES) for (const env of ENV_NAMES) for (const optimizer of OPTIMIZERS) for (const scale of SCALES) {
    const agent = presetSacConfig(preset, env, optimizer, scale) as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(expected[preset])) assert.equal(agent[field], value, `${preset} ${env} ${optimizer} ${scale}: ${field}`);
  }
});

test("evaluation: the code's main.py evaluates one episode every 1000 steps; the paper preset keeps 5 every 10k", () => {
  assert.deepEqual(pick(presetSchedule("authors-code", "paper")), { evalEvery: 1000, evalEpisodes: 1 });
  assert.deepEqual(pick(presetSchedule("paper", "paper")), { evalEvery: 10_000, evalEpisodes: 5 });
  // the smaller scales are this project's, the same in both presets
  for (const scale of ["smoke", "quick"] as const) assert.deepEqual(presetSchedule("authors-code", scale), presetSchedule("paper", scale));
});

function pick(s: { evalEvery: number; evalEpisodes: number }): { evalEvery: number; evalEpisodes: number } {
  return { evalEvery: s.evalEvery, evalEpisodes: s.evalEpisodes };
}

test("smoke and quick scale estimate J with one sample, cheaper than the paper's 10", () => {
  for (const preset of PRESET_NAMES) for (const optimizer of OPTIMIZERS) {
    assert.equal(presetSacConfig(preset, "Hopper-v2", optimizer, "quick").samples, 1);
    assert.equal(presetSacConfig(preset, "Hopper-v2", optimizer, "smoke").samples, 1);
  }
  assert.deepEqual(presetSacConfig("paper", "Hopper-v2", "direct", "smoke").policyHiddenSizes, [64, 64]);
  assert.equal(presetSacConfig("paper", "Hopper-v2", "direct", "smoke").batchSize, 64);
});

test("the small tasks keep their own settings: β = 1, layer+scale inputs, architecture A", () => {
  for (const preset of PRESET_NAMES) for (const env of ["Pendulum-v1", "PointReach-v0", "Bandit"]) {
    const c = presetSacConfig(preset, env, "iterative", "paper");
    assert.equal(c.betaTrain, 1, env);
    assert.equal(c.inputNormalization, "layer+scale", env);
    assert.equal(c.qArchitecture, "A", env);
  }
});

test("the paper's tasks are the registered MuJoCo tasks; every preset resolves to a valid config everywhere", () => {
  assert.deepEqual([...PAPER_TASKS], [...MUJOCO_ENV_NAMES]);
  for (const preset of PRESET_NAMES) for (const env of ENV_NAMES) for (const optimizer of OPTIMIZERS) for (const scale of SCALES) {
    for (const totalSteps of [undefined, 1000]) {
      const { agent, schedule } = resolvePreset({ preset, env, optimizer, scale, totalSteps });
      validateSacConfig(agent);
      validateSchedule(schedule);
    }
  }
  assert.deepEqual(defaultSacConfig("Ant-v2", "iterative", "quick"), presetSacConfig("paper", "Ant-v2", "iterative", "quick"));
  // a shorter run keeps a fifth of it for random steps and no period longer than itself
  const short = presetSchedule("authors-code", "paper", 2000);
  assert.deepEqual({ ...short }, { ...presetSchedule("authors-code", "paper"), totalSteps: 2000, initialRandomSteps: 400, evalEvery: 1000, logEvery: 1000, checkpointEvery: 2000, snapshotEvery: 2000 });
});

test("an unknown preset name fails naming the known ones", () => {
  assert.throws(() => checkPresetName("paper-ish"), (e: unknown) => e instanceof ConfigError && /unknown preset "paper-ish"; known: paper, authors-code/.test(e.message));
  assert.throws(() => presetSacConfig("x" as never, "Hopper-v2", "direct", "paper"), /unknown preset "x"/);
  assert.throws(() => presetSchedule("x" as never, "paper"), /unknown preset "x"/);
});

test("docs/algorithms.md's presets table names every field where the presets differ, and every fidelity option", () => {
  const doc = fs.readFileSync(path.join(projectRoot(), "docs", "algorithms.md"), "utf8");
  const start = doc.indexOf("## Paper vs the authors' code: presets");
  assert.ok(start >= 0, "the section exists");
  const section = doc.slice(start, doc.indexOf("\n## ", start + 1));
  const paper = presetSacConfig("paper", "Hopper-v2", "iterative", "paper") as unknown as Record<string, unknown>;
  const code = presetSacConfig("authors-code", "Hopper-v2", "iterative", "paper") as unknown as Record<string, unknown>;
  const differing = Object.keys(paper).filter((k) => JSON.stringify(paper[k]) !== JSON.stringify(code[k]));
  assert.ok(differing.length >= 6, differing.join(", "));
  for (const field of [...differing, ...Object.keys(PRESET_OPTIONS.paper), "samples", "iterations.eval"]) {
    assert.ok(section.includes(`\`${field}`), `the table names ${field}`);
  }
});
