/**
 * `iapo train` as a user runs it: Ctrl-C checkpoints and exits cleanly (status "interrupted", exit code 130), and
 * `--resume` finishes the run; bad arguments are refused with a clear message; --eval-iterations sets evaluation's
 * iterations alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { loadRun } from "../../lib/runs";
import { parseTrainArgs, trainConfigFromArgs } from "../../lib/cli/train";

const cli = path.join(projectRoot(), "dist", "lib", "cli", "main.js");
const args = (runsDir: string): string[] => ["train", "--env", "Pendulum-v1", "--optimizer", "direct", "--steps", "4000", "--scale", "smoke", "--runs-dir", runsDir];

test("Ctrl-C checkpoints and exits with 130; --resume finishes the run", { timeout: 10 * 60_000 }, async () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cli-"));
  const runDir = path.join(runsDir, "cli", "Pendulum-v1_direct_seed0");
  const child = spawn(process.execPath, [cli, ...args(runsDir)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // interrupt once the run has logged its first rows
  const metrics = path.join(runDir, "metrics.jsonl");
  for (let i = 0; i < 600 && !(fs.existsSync(metrics) && fs.statSync(metrics).size > 0); i++) await new Promise((r) => setTimeout(r, 100));
  child.kill("SIGINT");
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /interrupt: checkpointing at the next step/);
  const stopped = loadRun(runDir);
  assert.equal(stopped.status?.state, "interrupted");
  assert.ok(stopped.status!.step < 4000, `stopped at ${stopped.status!.step}`);
  assert.ok(fs.existsSync(path.join(runDir, "checkpoints", "latest.json")));

  const again = spawnSync(process.execPath, [cli, ...args(runsDir)], { encoding: "utf8" });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /a run already exists in .*; resume it \(--resume\)/);

  const resumed = spawnSync(process.execPath, [cli, ...args(runsDir), "--resume"], { encoding: "utf8" });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /finished at step 4000/);
  const done = loadRun(runDir);
  assert.equal(done.status?.state, "finished");
  assert.equal(done.provenance.length, 2);
});

test("bad train arguments are refused with a clear message", () => {
  const run = (a: string[]): string => spawnSync(process.execPath, [cli, "train", ...a], { encoding: "utf8" }).stderr;
  assert.match(run([]), /--env is required/);
  assert.match(run(["--env", "Pendulum-v1", "--optimizer", "newton"]), /optimizer must be one of direct, iterative/);
  assert.match(run(["--env", "Pendulum-v1", "--seed", "-3"]), /--seed must be an integer >= 0/);
  assert.match(run(["--env", "Pendulum-v1", "--set", "gamma"]), /--set expects field=value/);
  assert.match(run(["--env", "Pendulum-v1", "--set", "betta=2", "--scale", "smoke"]), /unknown agent setting "betta"/);
  assert.match(run(["--env", "Nope-v0", "--scale", "smoke", "--runs-dir", fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cli-"))]), /unknown environment "Nope-v0"/);
  assert.match(run(["--env", "Pendulum-v1", "--frobnicate"]), /unknown option --frobnicate/);
  assert.match(run(["--env", "Pendulum-v1", "--scale", "smoke", "--analyze", "policy-change,gapp"]), /unknown estimator "gapp"; known: .*policy-change/);
  assert.match(run(["--env", "Pendulum-v1", "--analyze-every", "100"]), /--analyze-every needs --analyze NAME/);
  assert.match(run(["--env", "Pendulum-v1", "--scale", "smoke", "--set", "snapshotEvery=-5"]), /schedule\.snapshotEvery must be an integer >= 0, got -5/);
  assert.match(run(["--env", "Pendulum-v1", "--horizon", "3"]), /--horizon and --retrace-lambda set the model-based estimate: add --value model-based/);
  assert.match(run(["--env", "Pendulum-v1", "--value", "model-based", "--retrace-lambda", "1.5"]), /--retrace-lambda must be a number in \[0, 1\], got "1\.5"/);
  assert.match(run(["--env", "Pendulum-v1", "--scale", "smoke", "--value", "model-based", "--horizon", "60"]), /SacConfig\.modelBased\.horizon must be an integer in \[0, 50\]/);
  assert.match(run(["--env", "Pendulum-v1", "--scale", "smoke", "--value", "modelbased"]), /SacConfig\.valueEstimate must be "model-free" or "model-based", got "modelbased"/);
});

test("--eval-iterations sets the evaluation iterations alone, after --iterations", () => {
  const config = (...extra: string[]) => trainConfigFromArgs(parseTrainArgs(["--env", "Pendulum-v1", "--scale", "smoke", ...extra])).agent.iterations;
  assert.deepEqual(config(), { train: 5, act: 5, eval: 5 });
  assert.deepEqual(config("--eval-iterations", "10"), { train: 5, act: 5, eval: 10 });
  assert.deepEqual(config("--eval-iterations", "10", "--iterations", "3"), { train: 3, act: 3, eval: 10 });
  assert.throws(() => parseTrainArgs(["--env", "Pendulum-v1", "--eval-iterations", "0"]), /--eval-iterations must be an integer >= 1/);
});

test("--preset names the settings a run starts from; run.json records it and every setting changed from it", () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-cli-"));
  const r = spawnSync(process.execPath, [cli, "train", "--env", "Pendulum-v1", "--scale", "smoke", "--steps", "60", "--preset", "authors-code", "--set", "betaCollect=2", "--runs-dir", runsDir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const config = loadRun(path.join(runsDir, "cli", "Pendulum-v1_iterative_seed0")).config as { preset: string; overrides: string[]; agent: { pessimismStd: string } };
  assert.equal(config.preset, "authors-code");
  assert.deepEqual(config.overrides, ["agent.betaCollect"]);
  assert.equal(config.agent.pessimismStd, "unbiased");
  const help = spawnSync(process.execPath, [cli, "train", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--preset paper\|authors-code/);
  assert.match(help.stdout, /authors-code +what the authors' code ran/);
  assert.match(spawnSync(process.execPath, [cli, "train", "--env", "Pendulum-v1", "--preset", "papr"], { encoding: "utf8" }).stderr, /unknown preset "papr"; known: paper, authors-code/);
});
