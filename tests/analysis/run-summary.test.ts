import { test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../../lib/runs";
import { byConfigFields, describeRuns, finalSummaryByTask, runsLabel } from "../../lib/analysis";

function run(env: string, optimizer: string, seed: number, q: string, finals: [number, number][], commit: string | null, step?: number): Run {
  return {
    dir: `/x/${env}-${optimizer}-${seed}-${q}`,
    id: `${env}_${optimizer}_seed${seed}_q${q}`,
    config: { env, optimizer, seed, scale: "quick", preset: "paper", agent: { qArchitecture: q } },
    provenance: commit === undefined ? [] : [{ gitCommit: commit, packages: {}, node: "", platform: "", cpu: "", cpus: 1, hostname: "", startedAt: "" }],
    backends: [],
    status: step === undefined ? null : { state: "finished", step, updatedAt: "" },
    metrics: finals.map(([s, v]) => ({ step: s, "eval/return_mean": v })),
    truncatedTail: false,
  } as Run;
}

const hash = "27aebae6ebce8cad770627aa9fb524ceb9859410";
const runs = [
  run("Hopper-v2", "direct", 0, "A", [[2000, 10], [6000, 200]], hash, 6000),
  run("Hopper-v2", "direct", 1, "A", [[2000, 20], [6000, 240]], hash, 6000),
  run("Hopper-v2", "iterative", 0, "A", [[2000, 30], [6000, 150]], hash, 6000),
  run("Ant-v2", "direct", 1, "B", [[2000, -5], [4000, 7]], `${hash}-dirty`), // no status: steps from its last row
];

test("describeRuns lists the distinct settings a chart must name, commits shortened, seeds and steps ascending", () => {
  assert.deepEqual(describeRuns(runs), {
    runs: 4, envs: ["Hopper-v2", "Ant-v2"], optimizers: ["direct", "iterative"], seeds: [0, 1], scales: ["quick"], presets: ["paper"],
    steps: [4000, 6000], commits: ["27aebae", "27aebae-dirty"], qArchitectures: ["A", "B"],
  });
  assert.throws(() => describeRuns([]), /no runs to describe/);
});

test("runsLabel names scale, preset, steps, seeds, commit and Q architecture in one line", () => {
  assert.equal(runsLabel(runs.slice(0, 2)), "quick scale, preset paper, 6000 steps, seeds 0,1, commit 27aebae, Q architecture A");
  assert.equal(runsLabel(runs), "quick scale, preset paper, 4000–6000 steps, seeds 0,1, commits 27aebae, 27aebae-dirty, Q architectures A, B");
  // runs from before presets and outside git
  const old = { ...runs[3], config: { env: "Pendulum-v1", optimizer: "direct", seed: 2 }, provenance: [{ ...runs[0].provenance[0], gitCommit: null }] };
  assert.equal(runsLabel([old]), "4000 steps, seed 2, commit no git");
});

test("finalSummaryByTask: mean and population std of each run's last value per task and group, with reference columns", () => {
  const rows = finalSummaryByTask(runs, "eval/return_mean", {
    references: [{ name: "anchor", values: { "Hopper-v2": 2326 } }],
  });
  assert.deepEqual(rows, [
    { env: "Hopper-v2", group: "direct", runs: 2, seeds: "0,1", step: 6000, mean: 220, std: 20, anchor: 2326 },
    { env: "Hopper-v2", group: "iterative", runs: 1, seeds: "0", step: 6000, mean: 150, std: 0, anchor: 2326 },
    { env: "Ant-v2", group: "direct", runs: 1, seeds: "1", step: 4000, mean: 7, std: 0, anchor: null },
  ]);
  // the paper's task order first; a task the runs lack is skipped
  const ordered = finalSummaryByTask(runs, "eval/return_mean", { envs: ["Ant-v2", "Walker2d-v2"] });
  assert.deepEqual(ordered.map((r) => [r.env, r.group]), [["Ant-v2", "direct"], ["Hopper-v2", "direct"], ["Hopper-v2", "iterative"]]);
});

test("byConfigFields groups by several config fields, formatted as asked, and names a missing field", () => {
  const rows = finalSummaryByTask(runs, "eval/return_mean", { group: byConfigFields(["optimizer", "agent.qArchitecture"], ([o, q]) => `${o} / Q ${q}`) });
  assert.deepEqual(rows.map((r) => [r.env, r.group]), [["Hopper-v2", "direct / Q A"], ["Hopper-v2", "iterative / Q A"], ["Ant-v2", "direct / Q B"]]);
  assert.equal(byConfigFields(["optimizer", "agent.qArchitecture"])(runs[0]), "direct, A");
  assert.throws(() => byConfigFields(["agent.beta"])(runs[0]), /Hopper-v2-direct-0-A\/run\.json: config has no field "agent\.beta"/);
});
