/**
 * Sweeps as a Slurm job array on a real single-node cluster (munged, slurmctld, slurmd from Debian, started by the
 * test in a temporary folder): the array completes; a task requeued mid-run (SIGTERM, as pre-emption) checkpoints,
 * reruns and resumes, logging exactly an uninterrupted run's rows; submitting again adds nothing. Where the daemons
 * cannot start, the test fails saying why, unless IAPO_SKIP_SLURM=1 is set on purpose.
 */
import { test, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadRun, type MetricRow } from "../../lib/runs";
import { train } from "../../lib/train";
import { loadSweepFile, planSweep, runProgress, startLocalSlurm, type LocalSlurm } from "../../lib/sweeps";
import { CLI, killAll, tmp, until, writeSweep } from "./helpers";

after(killAll);

const comparable = (rows: MetricRow[]): MetricRow[] => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("time/"))) as MetricRow);

/** One cluster for every test here, started by the first that needs it; null (the test skipped) only on purpose. */
let shared: Promise<LocalSlurm> | null = null;
after(async () => (await shared?.catch(() => null))?.stop());

/** Arrays of at most this many tasks on the test cluster: the three-run sweep fits in one, four runs take two. */
const MAX_ARRAY_SIZE = 3;

async function cluster(t: TestContext): Promise<LocalSlurm | null> {
  shared ??= startLocalSlurm({ maxArraySize: MAX_ARRAY_SIZE });
  try {
    return await shared;
  } catch (err) {
    const why = `the single-node Slurm cluster could not start: ${(err as Error).message}`;
    if (process.env.IAPO_SKIP_SLURM === "1") {
      t.skip(`${why} (IAPO_SKIP_SLURM=1)`);
      return null;
    }
    throw new Error(`${why}\n(set IAPO_SKIP_SLURM=1 to skip this test on purpose on a machine without Slurm)`);
  }
}

/**
 * Waits until a requeued task runs again: Slurm holds it for the cluster's cred_expire (10 s here), and a task
 * forced to start sooner (StartTime=now) is killed as "non-startable: job credential revoked". On a timeout the
 * error carries what Slurm says of the task and the node.
 */
async function startRequeued(c: LocalSlurm, task: string, started: () => boolean): Promise<void> {
  try {
    await until(`requeued task ${task} to run again`, started, 120_000, 500);
  } catch (err) {
    const ask = (args: string[]): string => {
      try {
        return c.cmd("scontrol", args).trim();
      } catch (e) {
        return `scontrol ${args.join(" ")}: ${(e as Error).message}`;
      }
    };
    throw new Error(`${(err as Error).message}\n${ask(["-o", "show", "job", task])}\n${ask(["-o", "show", "node"])}`);
  }
}

/** `iapo sweep ACTION FILE --executor slurm --runs-dir ROOT` against cluster `c`, to its end. */
function sweepOn(c: LocalSlurm, action: string, file: string, root: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [CLI, "sweep", action, file, "--executor", "slurm", "--runs-dir", root], { encoding: "utf8", env: { ...process.env, ...c.env } });
}

/** Waits until the run in `dir` has a checkpoint at step >= 300 and has logged 100 steps past it; returns its step. */
async function pastCheckpoint(dir: string, below: number): Promise<number> {
  let step = -1;
  await until("a task past its first checkpoint", () => {
    const pointer = path.join(dir, "checkpoints", "latest.json");
    if (!fs.existsSync(pointer)) return false;
    step = JSON.parse(fs.readFileSync(pointer, "utf8")).step as number;
    const rows = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
    return step >= 300 && step < below && JSON.parse(rows[rows.length - 1]).step >= step + 100;
  }, 120_000, 50);
  return step;
}

test("a Slurm array sweep completes, and a requeued task resumes from its checkpoint", { timeout: 5 * 60_000 }, async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const root = tmp("slurm-root");
  const file = writeSweep(tmp("slurm-file"), "array", "name: array\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0, 1, 2]\nsettings: { totalSteps: 1500 }\nslurm: { cpusPerTask: 1, time: \"00:10:00\" }\n");
  const runs = planSweep(loadSweepFile(file));
  const sweep = (action: string): ReturnType<typeof spawnSync> => sweepOn(c, action, file, root);
  const submit = sweep("run");
  assert.equal(submit.status, 0, String(submit.stderr));
  assert.match(String(submit.stderr), /3 submitted/);
  const [submission] = JSON.parse(fs.readFileSync(path.join(root, "array", "slurm", "submissions.json"), "utf8")) as { jobId: string; runIds: string[] }[];
  const script = fs.readFileSync(fs.readdirSync(path.join(root, "array", "slurm")).filter((f) => f.endsWith(".sh")).map((f) => path.join(root, "array", "slurm", f))[0], "utf8");
  assert.match(script, /#SBATCH --array=0-2\n#SBATCH --requeue/);
  assert.match(script, /#SBATCH --time='00:10:00'/);

  // requeue a task once it has checkpointed and logged past the checkpoint
  let requeued: { index: number; checkpoint: number } | null = null;
  await until("a task past its first checkpoint", () => {
    for (const [index, id] of submission.runIds.entries()) {
      const dir = path.join(root, "array", id);
      const pointer = path.join(dir, "checkpoints", "latest.json");
      if (!fs.existsSync(pointer)) continue;
      const step = JSON.parse(fs.readFileSync(pointer, "utf8")).step as number;
      const rows = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
      if (step < 300 || step >= 1200 || JSON.parse(rows[rows.length - 1]).step < step + 100) continue;
      c.cmd("scontrol", ["requeue", `${submission.jobId}_${index}`]);
      requeued = { index, checkpoint: step };
      return true;
    }
    return false;
  }, 120_000, 50);
  const { index, checkpoint } = requeued!;
  const runId = submission.runIds[index];
  await until("the requeued task to stop", () => loadRun(path.join(root, "array", runId)).status?.state === "interrupted", 60_000);
  await startRequeued(c, `${submission.jobId}_${index}`, () => runProgress(root, runs.find((r) => r.id === runId)!).state !== "interrupted");
  await until("every run finished", () => runs.every((r) => runProgress(root, r).state === "finished"), 180_000, 500);

  for (const run of runs) {
    const r = loadRun(path.join(root, run.folder));
    assert.equal(r.provenance.length, run.id === runId ? 2 : 1, `${run.id}: ${r.provenance.length} starts`);
  }
  const run = runs.find((r) => r.id === runId)!;
  const reference = path.join(tmp("slurm-ref"), "run");
  await train(run.config, { runDir: reference });
  assert.deepEqual(comparable(loadRun(path.join(root, run.folder)).metrics), comparable(loadRun(reference).metrics));
  const log = fs.readFileSync(path.join(root, "array", "slurm", `${submission.jobId}_${index}.out`), "utf8");
  assert.match(log, /SIGTERM: checkpointing and stopping/);
  console.log(`slurm: 3/3 tasks finished; task ${index} requeued after its checkpoint at step ${checkpoint} and resumed`);

  const status = sweep("status");
  assert.equal(status.status, 0, String(status.stderr));
  assert.match(String(status.stdout), /100% of steps; 3\/3 finished/);
  assert.match(String(status.stdout), new RegExp(`${submission.jobId}_${index} COMPLETED on \\S+`));
  const again = sweep("run");
  assert.equal(again.status, 0, String(again.stderr));
  assert.match(String(again.stderr), /0 to do/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, "array", "slurm", "submissions.json"), "utf8")).length, 1);
});

test("an array task told its time limit is near (SIGUSR2) checkpoints, requeues itself and resumes the run", { timeout: 5 * 60_000 }, async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const root = tmp("slurm-limit");
  const file = writeSweep(tmp("slurm-file"), "limit", "name: limit\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0]\nsettings: { totalSteps: 1500 }\nslurm: { cpusPerTask: 1, time: \"00:05:00\", requeueBefore: 120 }\n");
  const [run] = planSweep(loadSweepFile(file));
  const submit = sweepOn(c, "run", file, root);
  assert.equal(submit.status, 0, String(submit.stderr));
  const slurmDir = path.join(root, "limit", "slurm");
  const script = fs.readFileSync(path.join(slurmDir, fs.readdirSync(slurmDir).find((f) => f.endsWith(".sh"))!), "utf8");
  assert.match(script, /#SBATCH --signal=B:USR2@120\n/);
  const [{ jobId }] = JSON.parse(fs.readFileSync(path.join(slurmDir, "submissions.json"), "utf8")) as { jobId: string }[];
  const task = `${jobId}_0`;
  const dir = path.join(root, run.folder);

  // what Slurm does 120 s before the limit: USR2 to the batch step, which is the run's own process
  const checkpoint = await pastCheckpoint(dir, 1200);
  c.cmd("scancel", ["--signal=USR2", "--batch", task]);
  await until("the signalled task to stop", () => loadRun(dir).status?.state === "interrupted", 60_000);
  await startRequeued(c, task, () => runProgress(root, run).state !== "interrupted");
  await until("the run to finish", () => runProgress(root, run).state === "finished", 180_000, 500);

  const log = fs.readFileSync(path.join(slurmDir, `${task}.out`), "utf8");
  assert.match(log, /SIGUSR2 \(time limit near\): checkpointing and stopping/);
  assert.match(log, new RegExp(`requeued ${task}: it resumes from the checkpoint at step \\d+`));
  assert.equal(loadRun(dir).provenance.length, 2, "one start, one resumption");
  assert.equal(JSON.parse(fs.readFileSync(path.join(slurmDir, "submissions.json"), "utf8")).length, 1, "the task requeued itself; nothing was submitted again");
  const reference = path.join(tmp("slurm-ref"), "run");
  await train(run.config, { runDir: reference });
  assert.deepEqual(comparable(loadRun(dir).metrics), comparable(loadRun(reference).metrics));
  console.log(`slurm: task ${task} signalled after its checkpoint at step ${checkpoint}, requeued itself and finished`);
});

test("a sweep larger than the cluster's MaxArraySize is submitted as several arrays, and every run finishes", { timeout: 5 * 60_000 }, async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const root = tmp("slurm-chunks");
  const file = writeSweep(tmp("slurm-file"), "chunks", "name: chunks\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0, 1, 2, 3]\nsettings: { totalSteps: 300 }\nslurm: { cpusPerTask: 1, maxRunning: 2 }\n");
  const runs = planSweep(loadSweepFile(file));
  const sweep = (action: string): ReturnType<typeof spawnSync> => sweepOn(c, action, file, root);
  const submit = sweep("run");
  assert.equal(submit.status, 0, String(submit.stderr));
  assert.match(String(submit.stderr), /4 submitted/);
  const submissions = JSON.parse(fs.readFileSync(path.join(root, "chunks", "slurm", "submissions.json"), "utf8")) as { jobId: string; runIds: string[] }[];
  assert.deepEqual(submissions.map((s) => s.runIds), [runs.slice(0, MAX_ARRAY_SIZE).map((r) => r.id), runs.slice(MAX_ARRAY_SIZE).map((r) => r.id)]);
  const scripts = fs.readdirSync(path.join(root, "chunks", "slurm")).filter((f) => f.endsWith(".sh")).map((f) => fs.readFileSync(path.join(root, "chunks", "slurm", f), "utf8"));
  assert.deepEqual(scripts.map((text) => /#SBATCH --array=(\S+)/.exec(text)![1]).sort(), ["0-0%2", "0-2%2"]);
  await until("every run finished", () => runs.every((r) => runProgress(root, r).state === "finished"), 180_000, 500);
  const status = sweep("status");
  assert.equal(status.status, 0, String(status.stderr));
  assert.match(String(status.stdout), /100% of steps; 4\/4 finished/);
  for (const s of submissions) assert.match(String(status.stdout), new RegExp(`${s.jobId}_0 COMPLETED`));
  assert.match(String(sweep("run").stderr), /0 to do/);
});
