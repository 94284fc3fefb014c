/**
 * The warm child pool that local pools and queue workers train runs in: a run trained in a warm child logs exactly
 * what train() in this process logs; every run gets a process of its own, so a NaN fails only that run and the
 * next run in the same pool trains; a stop checkpoints the run, which resumes; a spare killed while it waits is
 * replaced; and children waiting for a job neither outlive the pool nor keep their parent alive.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { loadRun, type MetricRow } from "../../lib/runs";
import { train } from "../../lib/train";
import { ChildPool, jobFor, planSweep, runProgress, validateSweep } from "../../lib/sweeps";
import { killAll, runChildren, tmp } from "./helpers";

after(killAll);

const comparable = (rows: MetricRow[]): MetricRow[] => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))) as MetricRow);

const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));

test("a run trained in a warm child logs exactly the rows of train() of the same config", { timeout: 3 * 60_000 }, async () => {
  const spec = validateSweep({ name: "warm", scale: "smoke", tasks: ["Pendulum-v1"], optimizers: ["iterative"], seeds: [3], settings: { totalSteps: 300 } });
  const [run] = planSweep(spec);
  const root = tmp("warm-same");
  const pool = new ChildPool({ warmEnvs: spec.tasks });
  try {
    pool.keepWarm(1);
    await pool.warmed();
    const result = await pool.run(jobFor(spec, run), root);
    assert.equal(result.outcome, "finished", result.message);
    assert.equal(result.waitedSeconds < 1, true, `the child was warm, yet the job waited ${result.waitedSeconds} s`);
    assert.ok(result.startCpuSeconds > 0, `start-up CPU ${result.startCpuSeconds}`);
    assert.notEqual(result.pid, process.pid);
  } finally {
    await pool.close();
  }
  const reference = path.join(tmp("warm-ref"), "run");
  await train(run.config, { runDir: reference });
  const rows = comparable(loadRun(path.join(root, run.folder)).metrics);
  assert.equal(rows[rows.length - 1].step, 300);
  assert.deepEqual(rows, comparable(loadRun(reference).metrics));
});

test("each run in its own process: a NaN fails that run only, a stop checkpoints, a killed spare is replaced", { timeout: 4 * 60_000 }, async () => {
  const spec = validateSweep({ name: "own", scale: "smoke", tasks: ["Pendulum-v1"], optimizers: ["direct"], seeds: [0, 1], settings: { totalSteps: 1500 } });
  const [run, other] = planSweep(spec);
  // α = e^100 overflows float32: the first update's Q loss is infinite
  const nanSpec = validateSweep({ ...spec, seeds: [0], settings: { totalSteps: 400, agent: { initialLogAlpha: 100 } } });
  const [nanRun] = planSweep(nanSpec);
  const root = tmp("warm-own");
  const pool = new ChildPool({ warmEnvs: spec.tasks });
  const next = { onStart: () => pool.keepWarm(1) };
  try {
    pool.keepWarm(1);
    await pool.warmed();
    const [spare] = runChildren(process.pid);
    assert.ok(spare !== undefined, "a warm child waits");
    process.kill(spare, "SIGKILL");

    const nan = await pool.run(jobFor(nanSpec, nanRun), root, next);
    assert.equal(nan.outcome, "failed");
    assert.match(nan.message, /Q loss is Infinity/);
    assert.notEqual(nan.pid, spare, "the killed spare was replaced");
    const failed = loadRun(path.join(root, nanRun.folder));
    assert.equal(failed.status?.state, "failed");
    assert.match(failed.status?.error ?? "", /Q loss is Infinity/);

    // a job stopped before its child takes it leaves no trace
    const early = await pool.run(jobFor(spec, other), root, { ...next, signal: AbortSignal.abort() });
    assert.equal(early.outcome, "interrupted");
    assert.equal(fs.existsSync(path.join(root, other.folder)), false);

    // stopped mid-run: it checkpoints, and a later child resumes it
    const stop = new AbortController();
    const stopped = await pool.run(jobFor(spec, run), root, { ...next, signal: stop.signal, onProgress: (p) => p.step > 0 && stop.abort() });
    assert.equal(stopped.outcome, "interrupted", stopped.message);
    assert.match(stopped.message, /SIGTERM: checkpointing and stopping/);
    assert.equal(runProgress(root, run).state, "interrupted");
    const resumed = await pool.run(jobFor(spec, run), root, next);
    assert.equal(resumed.outcome, "finished", resumed.message);
    assert.equal(loadRun(path.join(root, run.folder)).provenance.length, 2);
    assert.equal(new Set([nan.pid, stopped.pid, resumed.pid, process.pid]).size, 4, "every run had a process of its own");
    assert.equal(runChildren(process.pid).length, 1, "one child warms for the next run");
  } finally {
    await pool.close();
  }
  assert.deepEqual(runChildren(process.pid), [], "closing the pool ends the children waiting for a job");
});

test("children waiting for a job do not keep their parent alive, and go when it exits", { timeout: 2 * 60_000 }, () => {
  const dist = (...p: string[]): string => JSON.stringify(path.join(projectRoot(), "dist", ...p));
  const script = `const { ChildPool } = require(${dist("lib", "sweeps", "child.js")});
const { runChildren } = require(${dist("tests", "sweeps", "helpers.js")});
const pool = new ChildPool();
pool.keepWarm(2);
pool.warmed().then(() => console.log(runChildren(process.pid).join(" ")));`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const pids = r.stdout.trim().split(/\s+/).map(Number);
  assert.equal(pids.length, 2, r.stdout);
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) spawnSync("sleep", ["0.2"]);
  assert.deepEqual(pids.filter(alive), [], "the warm children ended with their parent");
});
