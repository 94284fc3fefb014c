/**
 * Sweeps: what each executor adds to a run (a 10k-step Pendulum run through the local pool, a BullMQ worker and,
 * where a Slurm cluster answers, an array task, against training it directly), how many jobs per second the queue
 * dispatches, and the kill test's figures (a worker SIGKILLed mid-run: runs completed and lost, steps redone,
 * seconds until another worker resumed the run).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Queue, Worker } from "bullmq";
import { readRunLock } from "../../runs/run-lock";
import { train } from "../../train/train";
import {
  bullmqExecutor, localExecutor, planSweep, runLength, runProgress, slurmExecutor, startLocalRedis, startSweepWorker, validateSweep,
  type Executor, type PlannedRun, type SweepFile,
} from "../../sweeps";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";

const CLI = path.join(__dirname, "..", "main.js");
const tmp = (p: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `iapo-bench-${p}-`));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function untilFinished(root: string, runs: PlannedRun[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!runs.every((r) => runProgress(root, r).state === "finished")) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Seconds from submission until the run is finished in its folder. */
async function timeExecutor(executor: Executor, spec: SweepFile, run: PlannedRun, root = tmp(executor.name)): Promise<number> {
  const t0 = performance.now();
  await executor.submit(spec, [run], root);
  if (!(await untilFinished(root, [run], 30 * 60_000))) throw new Error(`${executor.name}: the run did not finish`);
  return (performance.now() - t0) / 1000;
}

function slurmAnswers(): boolean {
  try {
    return /UP/.test(execFileSync("scontrol", ["ping"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }));
  } catch {
    return false;
  }
}

/** Jobs per second a BullMQ worker takes through an empty processor. */
async function dispatchRate(url: string, jobs: number): Promise<number> {
  const connection = { host: "127.0.0.1", port: Number(new URL(url).port) };
  const queue = new Queue("iapo-bench-dispatch", { connection });
  await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: "noop", data: { i } })));
  let done = 0;
  const t0 = performance.now();
  const worker = new Worker("iapo-bench-dispatch", async () => undefined, { connection: { ...connection, maxRetriesPerRequest: null }, concurrency: 8 });
  worker.on("completed", () => done++);
  while (done < jobs) await sleep(20);
  const rate = jobs / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

/**
 * Three `iapo worker` processes, two runs (so a worker is free to take over); the worker training the first is
 * SIGKILLed once the run has logged past its first checkpoint.
 */
async function killFigures(url: string, steps: number): Promise<BenchFigure[]> {
  const root = tmp("kill");
  const spec = validateSweep({ name: "kill", scale: "smoke", tasks: ["Pendulum-v1"], optimizers: ["direct"], seeds: [0, 1], settings: { totalSteps: steps } });
  const runs = planSweep(spec);
  const env = { ...process.env, IAPO_RUN_LOCK_STALE_MS: "3000" };
  const workers: ChildProcess[] = [0, 1, 2].map(() => spawn(process.execPath, [CLI, "worker", "--redis", url, "--runs-dir", root, "--lock-duration", "3000"], { detached: true, stdio: "ignore", env }));
  const killGroup = (p: ChildProcess): void => {
    try {
      process.kill(-p.pid!, "SIGKILL");
    } catch {
      // gone
    }
  };
  const executor = await bullmqExecutor(url);
  try {
    await executor.submit(spec, runs, root);
    const dir = path.join(root, runs[0].folder);
    let checkpoint = -1, killedAt = 0, killedPid = 0;
    while (checkpoint < 0) {
      const pointer = path.join(dir, "checkpoints", "latest.json");
      const lock = fs.existsSync(dir) ? readRunLock(dir) : null;
      if (lock && fs.existsSync(pointer)) {
        const step = JSON.parse(fs.readFileSync(pointer, "utf8")).step as number;
        const rows = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
        if (step >= 300 && step < steps - 300 && JSON.parse(rows[rows.length - 1]).step >= step + 100) {
          const parent = Number(fs.readFileSync(`/proc/${lock.pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
          const victim = workers.find((w) => w.pid === parent);
          if (victim) {
            killGroup(victim);
            checkpoint = step;
            killedAt = performance.now();
            killedPid = lock.pid;
          }
        }
      }
      await sleep(50);
    }
    let recovered = NaN;
    while (Number.isNaN(recovered) && performance.now() - killedAt < 120_000) {
      const lock = readRunLock(dir);
      if ((lock && lock.pid !== killedPid) || runProgress(root, runs[0]).state === "finished") recovered = (performance.now() - killedAt) / 1000;
      await sleep(100);
    }
    await untilFinished(root, runs, 10 * 60_000);
    const finished = runs.filter((r) => runProgress(root, r).state === "finished").length;
    const aside = path.join(dir, "metrics.after-checkpoint-1.jsonl");
    const redone = fs.existsSync(aside) ? Math.max(...fs.readFileSync(aside, "utf8").trim().split("\n").map((l) => JSON.parse(l).step as number)) - checkpoint : 0;
    const note = `${runs.length} runs of ${steps} steps, 3 workers, lock 3 s`;
    return [
      { suite: "sweeps", name: "kill test: runs completed", variant: "bullmq", value: finished, unit: "runs", note },
      { suite: "sweeps", name: "kill test: runs lost", variant: "bullmq", value: runs.length - finished, unit: "runs", note: "must be 0" },
      { suite: "sweeps", name: "kill test: steps redone after the kill", variant: "bullmq", value: redone, unit: "steps", note: `bounded by checkpointEvery ${runLength(runs[0].config).checkpointEvery}` },
      { suite: "sweeps", name: "kill test: kill until another worker resumed", variant: "bullmq", value: recovered, unit: "s", note: "queue lock 3 s; the dead trainer's run lock is stale at once on its own host" },
    ];
  } finally {
    workers.forEach(killGroup);
    await executor.close();
  }
}

/** Median of `n` timings. */
async function median(n: number, time: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await time());
  return xs.sort((a, b) => a - b)[Math.floor(n / 2)];
}

/**
 * An executor's cost per run is fixed (a process to start, modules and backend to load, a queue or scheduler
 * round trip), so it is measured on a 50-step run, where it is most of the time, against the same run trained
 * directly; then stated as a share of a 10k-step run trained directly. Timing whole 10k-step runs instead buries
 * it under the machine's noise.
 */
async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const steps = options.quick ? 2_000 : 10_000;
  const repeats = options.quick ? 1 : 3;
  const sweep = (totalSteps: number): SweepFile => validateSweep({ name: "bench", scale: "smoke", tasks: ["Pendulum-v1"], optimizers: ["direct"], seeds: [0], settings: { totalSteps } });
  const [long] = planSweep(sweep(steps));
  const tinySpec = sweep(50);
  const [tiny] = planSweep(tinySpec);
  const direct = async (r: PlannedRun): Promise<number> => {
    const t0 = performance.now();
    await train(r.config, { runDir: path.join(tmp("direct"), r.folder) });
    return (performance.now() - t0) / 1000;
  };
  await direct(tiny); // loads modules and the backend once, as a long-lived process has
  const longSeconds = await direct(long);
  const tinySeconds = await median(repeats, () => direct(tiny));
  const variant = `Pendulum-v1 direct`;
  const figures: BenchFigure[] = [
    { suite: "sweeps", name: `${steps}-step run trained directly (train())`, variant, value: longSeconds, unit: "s" },
    { suite: "sweeps", name: "50-step run trained directly", variant, value: tinySeconds, unit: "s", note: `median of ${repeats}` },
  ];
  const overhead = async (name: string, timeOne: () => Promise<number>): Promise<void> => {
    const seconds = await median(repeats, timeOne);
    figures.push({ suite: "sweeps", name: `${name} executor: cost per run`, variant, value: seconds - tinySeconds, unit: "s", note: `50-step run ${seconds.toFixed(2)} s through it, median of ${repeats}` });
    figures.push({ suite: "sweeps", name: `${name} executor: overhead on a ${steps}-step run`, variant, value: ((seconds - tinySeconds) / longSeconds) * 100, unit: "%", note: "target < 2%" });
  };
  const local = localExecutor({ workers: 1 });
  await overhead("local", () => timeExecutor(local, tinySpec, tiny));

  const redis = await startLocalRedis();
  try {
    const executor = await bullmqExecutor(redis.url);
    try {
      // a worker already waiting on the queue, as in a sweep; each repeat gets a fresh runs root
      await overhead("bullmq", async () => {
        const root = tmp("bullmq");
        const worker = await startSweepWorker({ redis: redis.url, runsRoot: root, concurrency: 1, lockDurationMs: 5000, log: () => undefined });
        try {
          return await timeExecutor(executor, tinySpec, tiny, root);
        } finally {
          await worker.close();
        }
      });
    } finally {
      await executor.close();
    }
    const jobs = options.quick ? 200 : 2000;
    figures.push({ suite: "sweeps", name: "queue dispatch (empty jobs, concurrency 8)", variant: "bullmq on loopback redis", value: await dispatchRate(redis.url, jobs), unit: "jobs/s", note: `${jobs} jobs` });
    figures.push(...(await killFigures(redis.url, options.quick ? 1_500 : 3_000)));
  } finally {
    redis.stop();
  }

  const slurm = slurmExecutor();
  if (slurmAnswers()) await overhead("slurm", () => timeExecutor(slurm, tinySpec, tiny));
  else console.error("bench: sweeps: no Slurm cluster answers `scontrol ping` (set SLURM_CONF): the slurm executor is not measured");
  return figures;
}

export const sweepsSuite: BenchSuite = {
  name: "sweeps",
  description: "per-run overhead of the local, BullMQ and Slurm executors against train(); queue dispatch rate; kill test",
  run,
};
