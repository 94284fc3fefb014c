/**
 * Sweeps on a real redis-server (loopback, free port) with real `iapo worker` processes: a worker SIGKILLed mid-run
 * loses nothing — another worker resumes its run from the last checkpoint and the run logs exactly the rows of an
 * uninterrupted run; no run is trained twice; submitting again adds nothing. Workers refuse jobs that do not
 * validate or point outside the runs root, touching no file.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Queue } from "bullmq";
import { loadRun, type MetricRow } from "../../lib/runs";
import { readRunLock } from "../../lib/runs/run-lock";
import { train } from "../../lib/train";
import { jobIdFor, loadSweepFile, planSweep, QUEUE_NAME, runLength, runProgress } from "../../lib/sweeps";
import { CLI, freePort, killAll, killGroup, listFiles, start, startRedis, tmp, until, writeSweep, type Started } from "./helpers";

after(killAll);

const FAST = { IAPO_RUN_LOCK_STALE_MS: "3000" };
const comparable = (rows: MetricRow[]): MetricRow[] => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))) as MetricRow);

function startWorker(url: string, root: string): Started {
  return start(process.execPath, [CLI, "worker", "--redis", url, "--runs-dir", root, "--concurrency", "1", "--lock-duration", "3000"], FAST);
}

function ppid(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
}

test("a SIGKILLed worker's run resumes on another worker from its checkpoint; nothing lost, nothing trained twice", { timeout: 5 * 60_000 }, async () => {
  const redis = await startRedis();
  const root = tmp("bullmq-root");
  const file = writeSweep(tmp("bullmq-file"), "kill", "name: kill\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0, 1, 2, 3]\nsettings: { totalSteps: 1500 }\n");
  const runs = planSweep(loadSweepFile(file));
  const workers = [0, 1, 2].map(() => startWorker(redis.url, root));
  const submit = spawnSync(process.execPath, [CLI, "sweep", "run", file, "--executor", "bullmq", "--redis", redis.url, "--runs-dir", root], { encoding: "utf8" });
  assert.equal(submit.status, 0, submit.stderr);
  assert.match(submit.stderr, /4 submitted/);

  // kill the worker (and its training child) of a run that has checkpointed but not finished
  let victim: { runId: string; checkpoint: number; worker: Started } | null = null;
  await until("a run past its first checkpoint", () => {
    for (const run of runs) {
      const dir = path.join(root, run.folder);
      const pointer = path.join(dir, "checkpoints", "latest.json");
      const lock = fs.existsSync(dir) ? readRunLock(dir) : null;
      if (!lock || !fs.existsSync(pointer)) continue;
      const step = JSON.parse(fs.readFileSync(pointer, "utf8")).step as number;
      if (step < 300 || step >= 1200) continue;
      // wait for rows past the checkpoint, so the kill loses some that the resumed run must redo
      const rows = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
      if (JSON.parse(rows[rows.length - 1]).step < step + 100) continue;
      const worker = workers.find((w) => w.proc.pid === ppid(lock.pid));
      if (!worker) continue;
      killGroup(worker);
      victim = { runId: run.id, checkpoint: step, worker };
      return true;
    }
    return false;
  }, 120_000, 50);
  const killed = victim!;
  await killed.worker.exited;

  await until("every run finished", () => runs.every((r) => runProgress(root, r).state === "finished"), 180_000, 500);

  const queue = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
  try {
    const counts = await queue.getJobCounts("completed", "failed", "active", "waiting", "delayed", "paused");
    assert.deepEqual(counts, { completed: 4, failed: 0, active: 0, waiting: 0, delayed: 0, paused: 0 });
    const job = await queue.getJob(jobIdFor("kill", killed.runId));
    assert.notEqual((job!.progress as { worker: string }).worker, undefined);

    for (const run of runs) {
      const r = loadRun(path.join(root, run.folder));
      assert.equal(r.status?.state, "finished", run.id);
      // one start per run, plus one resume for the killed run: none trained twice
      assert.equal(r.provenance.length, run.id === killed.runId ? 2 : 1, `${run.id}: ${r.provenance.length} starts`);
      assert.equal(fs.existsSync(path.join(root, run.folder, "run.lock")), false, `${run.id} still locked`);
    }
    // the killed run's rows equal an uninterrupted run's
    const run = runs.find((r) => r.id === killed.runId)!;
    const reference = path.join(tmp("bullmq-ref"), "run");
    await train(run.config, { runDir: reference });
    const resumed = loadRun(path.join(root, run.folder));
    assert.deepEqual(comparable(resumed.metrics), comparable(loadRun(reference).metrics));
    // steps redone after the kill are bounded by the checkpoint interval
    const aside = path.join(root, run.folder, "metrics.after-checkpoint-1.jsonl");
    const redone = fs.existsSync(aside) ? Math.max(...fs.readFileSync(aside, "utf8").trim().split("\n").map((l) => JSON.parse(l).step as number)) - killed.checkpoint : 0;
    assert.ok(redone <= runLength(run.config).checkpointEvery, `redone ${redone} steps`);
    console.log(`kill test: 4/4 runs finished, 0 lost; killed run resumed from step ${killed.checkpoint}, ${redone} steps redone`);

    // submitting again adds nothing
    const again = spawnSync(process.execPath, [CLI, "sweep", "run", file, "--executor", "bullmq", "--redis", redis.url, "--runs-dir", root], { encoding: "utf8" });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /0 to do/);
    assert.equal((await queue.getJobCounts("completed")).completed, 4);
    const status = spawnSync(process.execPath, [CLI, "sweep", "status", file, "--executor", "bullmq", "--redis", redis.url, "--runs-dir", root], { encoding: "utf8" });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /100% of steps; 4\/4 finished/);
    assert.equal((status.stdout.match(/completed on \S+ pid \d+/g) ?? []).length, 4, status.stdout);
  } finally {
    await queue.close();
    for (const w of workers) killGroup(w);
  }
});

test("workers refuse jobs that do not validate or lead outside the runs root, and touch no file", { timeout: 3 * 60_000 }, async () => {
  const redis = await startRedis();
  const base = tmp("bullmq-bad");
  const root = path.join(base, "root");
  const outside = path.join(base, "outside");
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.symlinkSync(outside, path.join(root, "evil"));
  const file = writeSweep(base, "ok", "name: ok\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0]\nsettings: { totalSteps: 100 }\n");
  const [run] = planSweep(loadSweepFile(file));
  const good = { sweep: "ok", runId: run.id, request: run.request };
  const bad: [string, unknown, RegExp][] = [
    ["parent folder", { ...good, sweep: ".." }, /job.sweep: must be 1-64 letters/],
    ["absolute folder", { ...good, sweep: "/tmp" }, /job.sweep: must be 1-64 letters/],
    ["id not matching the config", { ...good, runId: "../../escape" }, /job.runId: "..\/..\/escape" does not match its config/],
    ["unknown field", { ...good, request: { ...good.request, command: "touch /tmp/pwned" } }, /job.request.command: unknown field/],
    ["config that does not validate", { ...good, request: { ...good.request, agent: { betta: 2 } } }, /unknown agent setting "betta"/],
    ["link out of the root", { ...good, sweep: "evil" }, /is a link out of the runs root/],
    ["job id not matching its run", good, /job id "bad-6" does not match its run/],
    ["out-of-range value", { ...good, request: { ...good.request, totalSteps: 1e12 } }, /job.request.totalSteps: must be an integer in \[1, 100000000\]/],
  ];
  const queue = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
  const worker = startWorker(redis.url, root);
  try {
    for (let i = 0; i < bad.length; i++) await queue.add("train", bad[i][1], { jobId: `bad-${i}` });
    const deadline = Date.now() + 60_000;
    while ((await queue.getJobCounts("failed")).failed < bad.length) {
      assert.ok(Date.now() < deadline, `bad jobs not all refused in time: ${worker.output()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    for (let i = 0; i < bad.length; i++) {
      const job = await queue.getJob(`bad-${i}`);
      assert.match(job!.failedReason, /^refused: /, bad[i][0]);
      assert.match(job!.failedReason, bad[i][2], bad[i][0]);
      assert.equal(job!.attemptsMade, 1, `${bad[i][0]}: retried`);
    }
    assert.equal((worker.output().match(/refused job "bad-\d"/g) ?? []).length, bad.length, worker.output());
    assert.deepEqual(listFiles(outside), []);
    assert.deepEqual(fs.readdirSync(root), ["evil"]);
  } finally {
    await queue.close();
    killGroup(worker);
  }
});

test("an unreachable Redis is a clear error and writes nothing", { timeout: 60_000 }, async () => {
  const port = await freePort();
  const base = tmp("bullmq-down");
  const root = path.join(base, "root");
  const file = writeSweep(base, "down", "name: down\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0]\n");
  const r = spawnSync(process.execPath, [CLI, "sweep", "run", file, "--executor", "bullmq", "--redis", `redis://:secret@127.0.0.1:${port}`, "--runs-dir", root], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127.0.0.1:${port}/0: ECONNREFUSED`));
  assert.doesNotMatch(r.stderr, /secret/);
  assert.equal(fs.existsSync(root), false);
  const w = spawnSync(process.execPath, [CLI, "worker", "--redis", `redis://127.0.0.1:${port}`, "--runs-dir", base], { encoding: "utf8" });
  assert.equal(w.status, 2);
  assert.match(w.stderr, /cannot reach Redis at redis:\/\/127.0.0.1:\d+\/0: ECONNREFUSED/);
  const u = spawnSync(process.execPath, [CLI, "sweep", "run", file, "--executor", "ray", "--runs-dir", root], { encoding: "utf8" });
  assert.match(u.stderr, /unknown executor "ray"; known: local, bullmq, slurm/);
});

test("a worker stopped with SIGTERM checkpoints its run and hands it back to the queue; the next worker resumes it", { timeout: 3 * 60_000 }, async () => {
  const redis = await startRedis();
  const root = tmp("bullmq-term");
  const file = writeSweep(tmp("bullmq-term-file"), "term", "name: term\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0]\nsettings: { totalSteps: 1500 }\n");
  const [run] = planSweep(loadSweepFile(file));
  const first = startWorker(redis.url, root);
  const queue = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
  try {
    const submit = spawnSync(process.execPath, [CLI, "sweep", "run", file, "--executor", "bullmq", "--redis", redis.url, "--runs-dir", root], { encoding: "utf8" });
    assert.equal(submit.status, 0, submit.stderr);
    await until("the first checkpoint", () => fs.existsSync(path.join(root, run.folder, "checkpoints", "latest.json")), 120_000, 50);
    first.proc.kill("SIGTERM");
    assert.equal(await first.exited, 0, first.output());
    assert.match(first.output(), /SIGTERM: checkpointing runs in progress and returning them to the queue/);
    const stopped = runProgress(root, run);
    assert.equal(stopped.state, "interrupted");
    assert.ok(stopped.step < 1500, `stopped at ${stopped.step}`);
    assert.equal(await (await queue.getJob(jobIdFor("term", run.id)))!.getState(), "waiting");
    const second = startWorker(redis.url, root);
    await until("the run finished", () => runProgress(root, run).state === "finished", 120_000, 300);
    assert.equal(loadRun(path.join(root, run.folder)).provenance.length, 2);
    killGroup(second);
  } finally {
    await queue.close();
  }
});
