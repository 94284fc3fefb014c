/**
 * Sweep files, run ids, run folders and run locks, and the local executor end to end: bad sweep files fail naming
 * the field, ids are stable, folders cannot leave the runs root, a locked run folder is refused (by `train` and by
 * sweeps) while a stale lock is taken over, and `iapo sweep run` trains only what is unfinished.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadRun, readAnalysisRows } from "../../lib/runs";
import { acquireRunLock, readRunLock, RunLockedError, RUN_LOCK_FILE } from "../../lib/runs/run-lock";
import { sweepDir, train } from "../../lib/train";
import { arrayScript, jobFor, loadSweepFile, parseMaxArraySize, parseSacctTasks, parseScontrolTasks, planSweep, resolveRunFolder, runProgress, shellQuote, slurmTimeSeconds, validateJob, validateSweep } from "../../lib/sweeps";
import { CLI, listFiles, runCli, tmp, writeSweep } from "./helpers";

const BASE = { name: "s", scale: "smoke", tasks: ["Pendulum-v1"], optimizers: ["direct"], seeds: [0] };

test("a bad sweep file fails naming the field", () => {
  const bad: [unknown, RegExp][] = [
    [{ ...BASE, taks: ["Hopper-v2"] }, /f\.taks: unknown field; known: name, scale, tasks/],
    [{ ...BASE, tasks: [] }, /f\.tasks: is empty: the grid would have no runs/],
    [{ ...BASE, seeds: [-1] }, /f\.seeds\[0\]: must be an integer in \[0, 2147483647\]/],
    [{ ...BASE, scale: "huge" }, /f\.scale: must be one of smoke, quick, paper/],
    [{ ...BASE, name: "../x" }, /f\.name: must be 1-64 letters/],
    [{ ...BASE, settings: { totalSteps: 0 } }, /f\.settings\.totalSteps: must be an integer in \[1, 100000000\]/],
    [{ ...BASE, grid: { agent: { betaTrain: [] } } }, /f\.grid\.agent\.betaTrain: is empty/],
    [{ ...BASE, grid: { iterations: [2] }, settings: { iterations: 3 } }, /f\.grid\.iterations: is also fixed in settings\.iterations/],
    [{ ...BASE, settings: { agent: { qArchitecture: "$(reboot)" } } }, /f\.settings\.agent\.qArchitecture: must be a short word/],
    [{ ...BASE, slurm: { time: "1h; rm -rf /" } }, /f\.slurm\.time: must look like/],
    [{ ...BASE, slurm: { requeueBefore: 120 } }, /f\.slurm\.requeueBefore: needs a time limit \(time\) to count back from/],
    [{ ...BASE, slurm: { time: "03:00", requeueBefore: 120 } }, /f\.slurm\.requeueBefore: 120 s before a time limit of 03:00 leaves under a minute to train/],
    [{ ...BASE, slurm: { time: "1-00", requeueBefore: 5 } }, /f\.slurm\.requeueBefore: must be an integer in \[10, 86400\]/],
    [{ ...BASE, analyses: ["curves"] }, /f\.analyses\[0\]: unknown estimator "curves"; known: amortization-gap/],
    [{ name: "s" }, /f\.scale: is required/],
  ];
  for (const [doc, message] of bad) assert.throws(() => validateSweep(doc, "f"), message, JSON.stringify(doc));
  // agent settings are checked against the agent's own config when the grid is expanded
  assert.throws(() => planSweep(validateSweep({ ...BASE, grid: { agent: { betta: [1, 2] } } }, "f")), /s: run Pendulum-v1 direct seed 0 \{"agent.betta":1\}: unknown agent setting "betta"/);
  assert.throws(() => planSweep(validateSweep({ ...BASE, optimizers: ["newton"] }, "f")), /optimizer must be one of direct, iterative/);
  const dir = tmp("sweep-files");
  assert.throws(() => loadSweepFile(writeSweep(dir, "broken", "name: [unclosed\n")), /sweep file .*broken\.yaml is not valid YAML/);
  assert.throws(() => loadSweepFile(path.join(dir, "absent.yaml")), /cannot read sweep file/);
});

test("a job carries its sweep's analyses, and a job naming an unknown estimator is refused", () => {
  const spec = validateSweep({ ...BASE, analyses: ["gap", "policy-change"] }, "f");
  const [run] = planSweep(spec);
  const job = jobFor(spec, run);
  assert.deepEqual(validateJob(job).analyses, ["gap", "policy-change"]);
  assert.throws(() => validateJob({ ...job, analyses: ["rm -rf"] }), /job\.analyses\[0\]: must be 1-64 letters/);
  assert.throws(() => validateJob({ ...job, analyses: ["curves"] }), /job\.analyses\[0\]: unknown estimator "curves"/);
  assert.throws(() => validateJob({ ...job, analyses: "gap" }), /job\.analyses: must be a list/);
});

test("runs: every combination in a fixed order, ids stable and set by the resolved config", () => {
  const dir = tmp("sweep-ids");
  const doc = { ...BASE, seeds: [0, 1], grid: { iterations: [1, 2], agent: { betaTrain: [0.5, 1] } } };
  fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(doc));
  const fromJson = planSweep(loadSweepFile(path.join(dir, "a.json")));
  const fromYaml = planSweep(loadSweepFile(writeSweep(dir, "a", `name: s\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0, 1]\ngrid:\n  iterations: [1, 2]\n  agent: { betaTrain: [0.5, 1] }\n`)));
  assert.equal(fromJson.length, 8);
  assert.deepEqual(fromJson.map((r) => r.id), fromYaml.map((r) => r.id));
  assert.equal(new Set(fromJson.map((r) => r.id)).size, 8);
  assert.deepEqual(fromJson.map((r) => [r.config.seed, r.config.agent.iterations.train, r.config.agent.betaTrain]), [
    [0, 1, 0.5], [0, 1, 1], [0, 2, 0.5], [0, 2, 1], [1, 1, 0.5], [1, 1, 1], [1, 2, 0.5], [1, 2, 1],
  ]);
  assert.match(fromJson[0].id, /^Pendulum-v1_direct_seed0-[0-9a-f]{10}$/);
  assert.equal(fromJson[0].folder, `s/${fromJson[0].id}`);
  // a setting equal to the default resolves to the same config, hence the same run
  const [plain] = planSweep(validateSweep(BASE));
  const [explicit] = planSweep(validateSweep({ ...BASE, settings: { agent: { gamma: 0.99 } } }));
  const [changed] = planSweep(validateSweep({ ...BASE, settings: { agent: { gamma: 0.98 } } }));
  assert.equal(plain.id, explicit.id);
  assert.notEqual(plain.id, changed.id);
});

test("run folders resolve only inside the runs root", () => {
  const base = tmp("sweep-folders");
  const root = path.join(base, "root");
  fs.mkdirSync(root);
  fs.mkdirSync(path.join(base, "outside"));
  fs.symlinkSync(path.join(base, "outside"), path.join(root, "out"));
  fs.mkdirSync(path.join(root, "inner"));
  fs.symlinkSync(path.join(root, "inner"), path.join(root, "in"));
  assert.equal(resolveRunFolder(root, "s/run-1"), path.join(fs.realpathSync(root), "s", "run-1"));
  assert.equal(resolveRunFolder(root, "in/run-1"), path.join(fs.realpathSync(root), "in", "run-1"));
  assert.throws(() => resolveRunFolder(root, "/etc/x"), /is absolute/);
  assert.throws(() => resolveRunFolder(root, "s/../../x"), /"\.\." is not a plain name/);
  assert.throws(() => resolveRunFolder(root, "s//x"), /"" is not a plain name/);
  assert.throws(() => resolveRunFolder(root, "out/run-1"), /is a link out of the runs root/);
});

test("Slurm scripts quote every value they interpolate", () => {
  const nasty = `/tmp/it's $(touch pwned) "x"`;
  assert.equal(execFileSync("bash", ["-c", `printf %s ${shellQuote(nasty)}`], { encoding: "utf8" }), nasty);
  const script = arrayScript(validateSweep({ ...BASE, slurm: { mem: "2G", partition: "cpu" } }), 4, { time: "01:00:00" }, nasty, `${nasty}/jobs.json`);
  assert.match(script, /#SBATCH --array=0-3\n#SBATCH --requeue/);
  assert.match(script, /#SBATCH --mem='2G'/);
  assert.match(script, /#SBATCH --partition='cpu'/);
  assert.match(script, /#SBATCH --time='01:00:00'/);
  assert.ok(script.includes(`'--runs-root' ${shellQuote(nasty)}`));
  execFileSync("bash", ["-n"], { input: script });
});

test("Slurm time limits are read in every form sbatch takes, and requeueBefore asks Slurm for the signal", () => {
  const cases: [string, number][] = [["90", 5400], ["90:30", 5430], ["04:00:00", 14400], ["2-00", 172800], ["1-02:03", 93780], ["1-02:03:04", 93784]];
  for (const [time, seconds] of cases) assert.equal(slurmTimeSeconds(time), seconds, time);
  const spec = validateSweep({ ...BASE, slurm: { time: "04:00:00", requeueBefore: 600 } });
  assert.match(arrayScript(spec, 2, {}, "/runs", "/runs/jobs.json"), /#SBATCH --time='04:00:00'\n#SBATCH --signal=B:USR2@600\n/);
  assert.doesNotMatch(arrayScript(validateSweep(BASE), 2, {}, "/runs", "/runs/jobs.json"), /--signal/);
  // at most N tasks at once; flags override the file
  assert.match(arrayScript(validateSweep({ ...BASE, slurm: { maxRunning: 4 } }), 10, {}, "/r", "/r/j.json"), /#SBATCH --array=0-9%4\n/);
  assert.match(arrayScript(validateSweep({ ...BASE, slurm: { maxRunning: 4 } }), 10, { maxRunning: 2 }, "/r", "/r/j.json"), /#SBATCH --array=0-9%2\n/);
  assert.throws(() => validateSweep({ ...BASE, slurm: { maxRunning: 0 } }, "f"), /f\.slurm\.maxRunning: must be an integer in \[1, 10000\]/);
});

test("a sweep larger than the cluster's MaxArraySize goes as several arrays; a cluster without arrays is a clear error", () => {
  assert.equal(parseMaxArraySize("AuthType                = auth/munge\nMaxArraySize            = 1001\nMaxJobCount = 10000\n"), 1001);
  assert.equal(parseMaxArraySize("MaxArraySize = 40"), 40);
  assert.equal(parseMaxArraySize(""), 1001, "Slurm's default where the config cannot be read");
  assert.throws(() => parseMaxArraySize("MaxArraySize = 0"), /takes no job arrays \(MaxArraySize = 0\)/);
});

test("Slurm task states are read from scontrol's one-line records and from sacct's", () => {
  const scontrol = [
    "JobId=813 ArrayJobId=812 ArrayTaskId=0 JobState=COMPLETED Reason=None NodeList=node1 BatchHost=node1",
    "JobId=812 ArrayJobId=812 ArrayTaskId=2-4,7%2 JobState=PENDING Reason=JobArrayTaskLimit NodeList=(null)",
    "JobId=814 ArrayJobId=812 ArrayTaskId=1 JobState=RUNNING Reason=None NodeList= BatchHost=node2",
  ].join("\n");
  assert.deepEqual(parseScontrolTasks(scontrol), [
    { index: 0, state: "COMPLETED", node: "node1" },
    { index: 2, state: "PENDING", node: "" }, { index: 3, state: "PENDING", node: "" }, { index: 4, state: "PENDING", node: "" }, { index: 7, state: "PENDING", node: "" },
    { index: 1, state: "RUNNING", node: "node2" },
  ]);
  const sacct = "812_0|COMPLETED|node1\n812_1|CANCELLED by 0|node2\n812_[4-5%2]|PENDING|None assigned\n8120_3|RUNNING|node9\n";
  assert.deepEqual(parseSacctTasks(sacct, "812"), [
    { index: 0, state: "COMPLETED", node: "node1" },
    { index: 1, state: "CANCELLED", node: "node2" },
    { index: 4, state: "PENDING", node: "" }, { index: 5, state: "PENDING", node: "" },
  ]);
});

test("a locked run folder is refused by train and by sweeps; a stale lock is taken over", { timeout: 3 * 60_000 }, async () => {
  process.env.IAPO_RUN_LOCK_STALE_MS = "1000";
  try {
    const root = tmp("sweep-lock");
    const file = writeSweep(root, "locked", "name: locked\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0]\nsettings: { totalSteps: 200 }\n");
    const [run] = planSweep(loadSweepFile(file));
    const dir = path.join(root, run.folder);
    const lock = acquireRunLock(dir);
    try {
      assert.throws(() => acquireRunLock(dir), RunLockedError);
      await assert.rejects(train(run.config, { runDir: dir }), new RegExp(`run folder ${dir} is being trained by \\S+ pid ${process.pid}`));
      assert.deepEqual(fs.readdirSync(dir), [RUN_LOCK_FILE]);
      await new Promise((r) => setTimeout(r, 1500)); // heartbeats keep it fresh past the stale time
      assert.equal(readRunLock(dir)?.stale, false);
      // run asynchronously: our heartbeat must keep beating meanwhile
      const r = await runCli(["sweep", "run", file, "--runs-dir", root]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`skipped ${run.id}: being trained by \\S+ pid ${process.pid}`));
      assert.deepEqual(fs.readdirSync(dir), [RUN_LOCK_FILE]);
    } finally {
      lock.release();
    }
    assert.equal(fs.existsSync(dir), false, "the folder made only for the lock is removed with it");
    // a lock left by a killed trainer: no heartbeat, so it goes stale and is taken over
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, RUN_LOCK_FILE), JSON.stringify({ token: "dead", host: "gone", pid: 1, owner: "gone pid 1", startedAt: "" }));
    const old = new Date(Date.now() - 5000);
    fs.utimesSync(path.join(dir, RUN_LOCK_FILE), old, old);
    const result = await train(run.config, { runDir: dir });
    assert.equal(result.outcome, "finished");
    assert.equal(fs.existsSync(path.join(dir, RUN_LOCK_FILE)), false);
  } finally {
    delete process.env.IAPO_RUN_LOCK_STALE_MS;
  }
});

test("iapo sweep run (local pool) trains what is missing, resumes what was interrupted, leaves finished runs alone", { timeout: 4 * 60_000 }, async () => {
  const root = tmp("sweep-local");
  const file = writeSweep(tmp("sweep-local-file"), "local", "name: local\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0, 1, 2]\nsettings: { totalSteps: 300 }\nanalyses: [policy-change]\n");
  const runs = planSweep(loadSweepFile(file));
  await train(runs[0].config, { runDir: path.join(root, runs[0].folder) });
  await train(runs[1].config, { runDir: path.join(root, runs[1].folder), stopAt: 100 });
  const cli = (...a: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, "sweep", ...a], { encoding: "utf8" });
  const plan = cli("plan", file, "--runs-dir", root);
  assert.equal(plan.status, 0, String(plan.stderr));
  assert.match(String(plan.stdout), /3 runs at smoke scale .*; analyses: policy-change/);
  assert.match(String(plan.stdout), new RegExp(`${runs[0].id}\\s+finished\\s+300/300`));
  assert.match(String(plan.stdout), new RegExp(`${runs[1].id}\\s+interrupted\\s+100/300`));
  assert.match(String(plan.stdout), new RegExp(`${runs[2].id}\\s+missing\\s+0/300`));
  const before = listFiles(path.join(root, runs[0].folder)).map((f) => [f, fs.statSync(path.join(root, runs[0].folder, f)).mtimeMs]);

  const r = cli("run", file, "--runs-dir", root, "--workers", "2");
  assert.equal(r.status, 0, String(r.stderr));
  assert.match(String(r.stderr), /3 runs, 2 to do, executor local/);
  assert.match(String(r.stderr), new RegExp(`skipped ${runs[0].id}: finished`));
  assert.match(String(r.stdout), /100% of steps; 3\/3 finished/);
  assert.deepEqual(runs.map((x) => runProgress(root, x).state), ["finished", "finished", "finished"]);
  assert.deepEqual(runs.map((x) => loadRun(path.join(root, x.folder)).provenance.length), [1, 2, 1]);
  assert.deepEqual(listFiles(path.join(root, runs[0].folder)).map((f) => [f, fs.statSync(path.join(root, runs[0].folder, f)).mtimeMs]), before);
  // the sweep's analyses ran on the run it trained from the start, at each kept snapshot
  assert.deepEqual([...new Set(readAnalysisRows(path.join(root, runs[2].folder)).map((row) => `${row.estimator}@${row.step}`))], ["policy-change@300"]);

  const status = cli("status", file, "--runs-dir", root);
  assert.match(String(status.stdout), /100% of steps; 3\/3 finished/);
  const unknown = cli("run", file, "--executor", "dask");
  assert.match(String(unknown.stderr), /unknown executor "dask"; known: local, bullmq, slurm/);
  const empty = cli("plan", writeSweep(root, "empty", "name: e\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: []\nseeds: [0]\n"));
  assert.equal(empty.status, 2);
  assert.match(String(empty.stderr), /empty\.yaml\.optimizers: is empty/);
});

test("a sweep names its preset in settings or as an axis of the grid; an unknown one fails naming the field", () => {
  const [plain] = planSweep(validateSweep(BASE));
  const [paper] = planSweep(validateSweep({ ...BASE, settings: { preset: "paper" } }));
  assert.equal(plain.id, paper.id, "paper is the default preset");
  assert.equal(plain.config.preset, "paper");
  const both = planSweep(validateSweep({ ...BASE, grid: { preset: ["paper", "authors-code"] } }));
  assert.deepEqual(both.map((r) => r.config.preset), ["paper", "authors-code"]);
  assert.equal(both[1].config.agent.pessimismStd, "unbiased");
  assert.notEqual(both[0].id, both[1].id);
  assert.deepEqual(validateJob(jobFor(validateSweep({ ...BASE, grid: { preset: ["authors-code"] } }), both[1])).config, both[1].config);
  assert.throws(() => validateSweep({ ...BASE, settings: { preset: "code" } }, "f"), /f\.settings\.preset: unknown preset "code"; known: paper, authors-code/);
  assert.throws(() => validateSweep({ ...BASE, grid: { preset: ["paper", 3] } }, "f"), /f\.grid\.preset\[1\]: unknown preset 3/);
  assert.throws(() => validateSweep({ ...BASE, grid: { preset: ["paper"] }, settings: { preset: "paper" } }, "f"), /f\.grid\.preset: is also fixed in settings\.preset/);
  const job = jobFor(validateSweep(BASE), plain);
  assert.throws(() => validateJob({ ...job, request: { ...job.request, preset: "x" } }), /job\.request\.preset: unknown preset "x"/);
});

test("trainSweep keeps a preset other than the default in its own folder", () => {
  const spec = { experiment: "e", envs: ["Pendulum-v1"], optimizers: ["direct"], seeds: [0], scale: "smoke" as const, runsDir: "/r" };
  assert.equal(sweepDir(spec), "/r/e-smoke");
  assert.equal(sweepDir({ ...spec, preset: "paper" }), "/r/e-smoke");
  assert.equal(sweepDir({ ...spec, preset: "authors-code" }), "/r/e-smoke-authors-code");
  assert.throws(() => sweepDir({ ...spec, preset: "x" }), /unknown preset "x"/);
});
