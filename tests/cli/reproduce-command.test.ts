/**
 * `iapo reproduce`: the plan it builds (tasks × optimizers × seeds, the preset and a Q architecture override
 * recorded where it departs from Table 5), the plan and cost it prints before training, a tiny reproduction
 * trained to the end, and a second call that trains nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { loadRun } from "../../lib/runs";
import { loadSweepFile, planSweep, slurmTimeSeconds, type SweepFile } from "../../lib/sweeps";
import { parseReproduceArgs, reproduceSweep } from "../../lib/cli/reproduce";

const cli = path.join(projectRoot(), "dist", "lib", "cli", "main.js");

test("the plan: four tasks × two optimizers × seeds; a Q architecture for every task is recorded where Table 5 differs", () => {
  const quick = planSweep(reproduceSweep(parseReproduceArgs(["--tasks", "all", "--scale", "quick", "--q-architecture", "A"])));
  assert.equal(quick.length, 16, "4 tasks × 2 optimizers × the quick default of 2 seeds");
  assert.match(quick[0].folder, /^reproduce-quick-qA\//);
  const overridden = quick.filter((r) => r.config.overrides.includes("agent.qArchitecture")).map((r) => `${r.config.env} ${r.config.optimizer}`);
  // Table 5's B: HalfCheetah direct, Walker2d iterative, Ant both
  assert.deepEqual([...new Set(overridden)], ["HalfCheetah-v2 direct", "Walker2d-v2 iterative", "Ant-v2 direct", "Ant-v2 iterative"]);
  assert.equal(overridden.length, 8);
  assert.ok(quick.every((r) => r.config.agent.qArchitecture === "A" && r.config.preset === "paper" && r.config.scale === "quick"));

  const code = planSweep(reproduceSweep(parseReproduceArgs(["--tasks", "Ant-v2", "--scale", "paper", "--preset", "authors-code", "--steps", "5000"])));
  assert.equal(code.length, 10, "the paper's 5 seeds");
  assert.match(code[0].folder, /^reproduce-paper-authors-code\//);
  assert.ok(code.every((r) => r.config.preset === "authors-code" && r.config.schedule.totalSteps === 5000 && r.config.overrides.length === 0));
  assert.deepEqual(code.map((r) => r.config.agent.qArchitecture), Array(10).fill("B"), "Table 5 by default");

  assert.throws(() => parseReproduceArgs(["--tasks", "Pendulum-v1"]), /--tasks: "Pendulum-v1" is not one of the paper's tasks/);
  assert.throws(() => parseReproduceArgs(["--q-architecture", "C"]), /--q-architecture must be A or B/);
  assert.throws(() => parseReproduceArgs(["--preset", "code"]), /unknown preset "code"/);
  assert.throws(() => reproduceSweep(parseReproduceArgs(["--analyze", "gapp"])), /reproduce\.analyses\[0\]: unknown estimator "gapp"/);
});

test("the shipped sweep files validate, and each reproduction names exactly the runs `iapo reproduce` trains at its scale", () => {
  const dir = path.join(projectRoot(), "sweeps");
  const files = fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
  assert.ok(files.includes("reproduce-quick.yaml") && files.includes("reproduce-paper.yaml"), files.join(", "));
  for (const f of files) {
    const spec = loadSweepFile(path.join(dir, f));
    const match = /^reproduce-(smoke|quick|paper)\.ya?ml$/.exec(f);
    if (!match) continue;
    const ids = (s: SweepFile): string[] => planSweep(s).map((r) => r.id);
    assert.deepEqual(ids(spec), ids(reproduceSweep(parseReproduceArgs(["--scale", match[1]]))), f);
  }
  const paper = loadSweepFile(path.join(dir, "reproduce-paper.yaml"));
  assert.equal(planSweep(paper).length, 40, "4 tasks × 2 optimizers × 5 seeds");
  assert.ok(paper.slurm.requeueBefore! + 60 < slurmTimeSeconds(paper.slurm.time!), "a 3M-step run goes on past the time limit");
});

test("a dry run prints the plan and its measured cost; a tiny reproduction trains, and a second call adds nothing", { timeout: 10 * 60_000 }, () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-reproduce-"));
  const args = ["reproduce", "--tasks", "Hopper-v2", "--scale", "smoke", "--seeds", "1", "--steps", "200", "--probe-steps", "20", "--runs-dir", runsDir];
  const run = (extra: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(process.execPath, [cli, ...args, ...extra], { encoding: "utf8" });

  const dry = run(["--dry-run"]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /reproduce-smoke: 2 runs \(Hopper-v2 × direct, iterative × seeds 0\) at smoke scale, preset paper, 200 steps each/);
  assert.match(dry.stdout, /Hopper-v2_direct_seed0-[0-9a-f]{10} +missing +200 +[0-9.]+ +\S+/);
  assert.match(dry.stdout, /Hopper-v2_iterative_seed0-[0-9a-f]{10} +missing +200 +[0-9.]+ +\S+/);
  assert.match(dry.stdout, /total: 2 runs to do, \S+ of training \+ at most \S+ of evaluation, one run at a time/);
  assert.equal((dry.stderr.match(/measuring training speed/g) ?? []).length, 2, "one probe per distinct setting");
  assert.deepEqual(fs.readdirSync(runsDir), [".training-speed.json"], "a dry run trains nothing");

  const trained = run([]);
  assert.equal(trained.status, 0, trained.stderr);
  assert.doesNotMatch(trained.stderr, /measuring training speed/, "the speeds come from the cache");
  const dirs = fs.readdirSync(path.join(runsDir, "reproduce-smoke")).map((d) => path.join(runsDir, "reproduce-smoke", d));
  assert.equal(dirs.length, 2);
  const before = dirs.map((d) => fs.readFileSync(path.join(d, "metrics.jsonl"), "utf8"));
  for (const d of dirs) {
    const r = loadRun(d);
    assert.equal(r.status?.state, "finished");
    assert.equal(r.status?.step, 200);
    assert.equal((r.config as { preset: string }).preset, "paper");
  }

  const again = run([]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /nothing to do: every run has finished/);
  assert.match(again.stderr, /2 runs, 0 to do/);
  assert.deepEqual(dirs.map((d) => fs.readFileSync(path.join(d, "metrics.jsonl"), "utf8")), before, "finished runs are never trained again");
});
