/**
 * Sweeps as a Slurm job array on a real single-node cluster (munged, slurmctld, slurmd from Debian, started by the
 * test in a temporary folder): the array completes; a task requeued mid-run (SIGTERM, as pre-emption) checkpoints,
 * reruns and resumes, logging exactly an uninterrupted run's rows; submitting again adds nothing. Where the daemons
 * cannot start, the test fails saying why, unless IAPO_SKIP_SLURM=1 is set on purpose.
 */
import { test, after } from "node:test";
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

test("a Slurm array sweep completes, and a requeued task resumes from its checkpoint", { timeout: 5 * 60_000 }, async (t) => {
  let cluster: LocalSlurm;
  try {
    cluster = await startLocalSlurm();
  } catch (err) {
    const why = `the single-node Slurm cluster could not start: ${(err as Error).message}`;
    if (process.env.IAPO_SKIP_SLURM === "1") {
      t.skip(`${why} (IAPO_SKIP_SLURM=1)`);
      return;
    }
    throw new Error(`${why}\n(set IAPO_SKIP_SLURM=1 to skip this test on purpose on a machine without Slurm)`);
  }
  try {
    const root = tmp("slurm-root");
    const file = writeSweep(tmp("slurm-file"), "array", "name: array\nscale: smoke\ntasks: [Pendulum-v1]\noptimizers: [direct]\nseeds: [0, 1, 2]\nsettings: { totalSteps: 1500 }\nslurm: { cpusPerTask: 1, time: \"00:10:00\" }\n");
    const runs = planSweep(loadSweepFile(file));
    const env = { ...process.env, ...cluster.env };
    const sweep = (...a: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, "sweep", ...a, file, "--executor", "slurm", "--runs-dir", root], { encoding: "utf8", env });
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
        cluster.cmd("scontrol", ["requeue", `${submission.jobId}_${index}`]);
        requeued = { index, checkpoint: step };
        return true;
      }
      return false;
    }, 120_000, 50);
    const { index, checkpoint } = requeued!;
    const runId = submission.runIds[index];
    await until("the requeued task to stop", () => loadRun(path.join(root, "array", runId)).status?.state === "interrupted", 60_000);
    // a requeued job waits cred_expire before it may start; start it as soon as Slurm lets us
    await until("the requeued task to run again", () => {
      try {
        cluster.cmd("scontrol", ["update", `JobId=${submission.jobId}_${index}`, "StartTime=now"]);
      } catch {
        // not pending yet
      }
      return runProgress(root, runs.find((r) => r.id === runId)!).state !== "interrupted";
    }, 60_000, 1000);
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
  } finally {
    cluster.stop();
  }
});
