/**
 * Sweeps: what each executor adds to a run (a sweep of runs through the local pool, through a BullMQ worker and,
 * where a Slurm cluster answers, an array task, as a share of a 10k-step Pendulum run), against two ways of
 * training the same run directly: `iapo train` (a fresh process, what a user runs) and train() in this already
 * warm process (no process start at all); how many jobs per second the queue dispatches; and the kill test's figures
 * (a worker SIGKILLed mid-run: runs completed and lost, steps redone, seconds until another worker resumed the run).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Queue, Worker } from "bullmq";
import { canonicalJson } from "../../runs/analysis-log";
import { readRunLock } from "../../runs/run-lock";
import { train } from "../../train/train";
import {
  bullmqExecutor, ChildPool, jobFor, jobIdFor, localExecutor, planSweep, QUEUE_NAME, runJobInChild, runLength, runProgress, slurmExecutor,
  startLocalRedis, startLocalSlurm, startSweepWorker, LOCAL_SLURM_SCHED_INTERVAL_S, validateSweep, type ChildResult, type PlannedRun, type SweepFile,
} from "../../sweeps";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";

const CLI = path.join(__dirname, "..", "main.js");
const tmp = (p: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `iapo-bench-${p}-`));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function untilFinished(root: string, runs: PlannedRun[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!runs.every((r) => runProgress(root, r).state === "finished")) {
    if (Date.now() > deadline) return false;
    await sleep(20); // fine enough that polling adds little to the figures
  }
  return true;
}

function slurmAnswers(): boolean {
  try {
    return /UP/.test(execFileSync("scontrol", ["ping"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }));
  } catch {
    return false;
  }
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc's process start times (asked once, when first needed). */
function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * When process `pid` of this host started, on performance.now()'s clock (10 ms resolution): its start in clock
 * ticks since boot (/proc/PID/stat, field 22) against the time since boot now (/proc/uptime).
 */
function processStartedAt(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const uptime = Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return performance.now() - (uptime - startTicks / clockTicksPerSecond()) * 1000;
}

/**
 * One run as a Slurm array task: seconds from submission until the run is finished in its folder, and how many of
 * them passed before the task's process started (Slurm's part: its scheduler's next pass, slurmd launching the
 * step). The process is found through the run lock it takes, so the cluster's node must be this host.
 */
async function timeSlurmTask(spec: SweepFile, run: PlannedRun): Promise<{ total: number; dispatch: number }> {
  const root = tmp("slurm");
  const dir = path.join(root, run.folder);
  const t0 = performance.now();
  await slurmExecutor().submit(spec, [run], root);
  const deadline = Date.now() + 30 * 60_000;
  let started = NaN;
  while (runProgress(root, run).state !== "finished") {
    if (Date.now() > deadline) throw new Error("slurm: the run did not finish");
    const lock = Number.isNaN(started) && fs.existsSync(dir) ? readRunLock(dir) : null;
    if (lock && lock.host === os.hostname()) {
      try {
        started = processStartedAt(lock.pid);
      } catch {
        // exited between the two reads: the run is finishing, and the next check sees it
      }
    }
    await sleep(20);
  }
  const total = (performance.now() - t0) / 1000;
  if (Number.isNaN(started)) throw new Error("slurm: the task's process was not seen on this host (the bench times a cluster whose node is this machine)");
  return { total, dispatch: (started - t0) / 1000 };
}

/**
 * A cluster to time array tasks on: the one SLURM_CONF points at when it answers, else a single-node one started
 * here (Debian's slurmctld, slurmd and munge, as root); null, saying why, when neither is possible.
 */
async function slurmCluster(): Promise<{ about: string; stop(): void } | null> {
  if (process.env.SLURM_CONF && slurmAnswers()) return { about: `the cluster of SLURM_CONF=${process.env.SLURM_CONF}`, stop: () => undefined };
  try {
    const cluster = await startLocalSlurm();
    const before = process.env.SLURM_CONF;
    process.env.SLURM_CONF = cluster.env.SLURM_CONF; // the executor runs sbatch with this process's environment
    return {
      about: `a single-node cluster started by the bench, sched_interval=${LOCAL_SLURM_SCHED_INTERVAL_S} s`,
      stop: () => {
        cluster.stop();
        if (before === undefined) delete process.env.SLURM_CONF;
        else process.env.SLURM_CONF = before;
      },
    };
  } catch (err) {
    console.error(`bench: sweeps: the slurm executor is not measured: no cluster answers \`scontrol ping\` (SLURM_CONF) and none could be started here: ${(err as Error).message}`);
    return null;
  }
}

/**
 * What a Slurm array task adds to a run, each task paired with the same run trained by `iapo train` just before it.
 * Two parts: the wait until Slurm starts the task's process, which the cluster sets (it starts queued work only in
 * its scheduler's passes: a second apart on the test cluster, seconds on a default one, and behind other users'
 * jobs on a busy one), and the rest, from the process's start until the run is finished, which is the executor's.
 */
async function slurmFigures(run: PlannedRun, spec: SweepFile, longSeconds: number, inProcess: Baseline, steps: number, tasks: number): Promise<BenchFigure[]> {
  const cluster = await slurmCluster();
  if (!cluster) return [];
  const pairs: Array<{ cli: number; total: number; dispatch: number }> = [];
  try {
    for (let i = 0; i < tasks; i++) {
      const cli = await viaCli(run);
      pairs.push({ cli, ...(await timeSlurmTask(spec, run)) });
    }
  } finally {
    cluster.stop();
  }
  const cli: Baseline = { label: CLI_TRAIN, short: median(pairs.map((p) => p.cli)), long: longSeconds };
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(", ");
  const dispatch = pairs.map((p) => p.dispatch);
  const on = `on ${cluster.about}`;
  return [
    { suite: "sweeps", name: "slurm: sbatch until the array task's process starts", variant: "Pendulum-v1 direct", value: median(dispatch), unit: "s", note: `the cluster's scheduling, not the executor's; ${on}; median of ${pairs.length}: ${list(dispatch)} s` },
    ...costFigures("slurm array task, from its process start,", pairs.map((p) => p.total - p.dispatch - p.cli), cli, steps, `the executor's part; ${on}; ${JUST_BEFORE}`),
    ...costFigures("slurm array task, from sbatch,", pairs.map((p) => p.total - p.cli), cli, steps, `Slurm's scheduling included; ${on}; ${JUST_BEFORE}`),
    ...costFigures("slurm array task, from its process start,", pairs.map((p) => p.total - p.dispatch - inProcess.short), inProcess, steps, `the executor's part and a process start; ${on}; against the median 300-step run`),
    ...costFigures("slurm array task, from sbatch,", pairs.map((p) => p.total - inProcess.short), inProcess, steps, `Slurm's scheduling and a process start; ${on}; against the median 300-step run`),
  ];
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds of one direct train() of `run` in this process, and the CPU seconds it took (all its threads). */
async function direct(run: PlannedRun): Promise<{ seconds: number; cpuSeconds: number }> {
  const t0 = performance.now(), c0 = process.cpuUsage();
  await train(run.config, { runDir: path.join(tmp("direct"), run.folder) });
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** The `iapo train` command line of `run`: its request, flag by flag. */
function trainArgs(run: PlannedRun, runsDir: string): string[] {
  const { env, optimizer, seed, scale, preset, totalSteps, iterations, evalEvery, evalEpisodes, agent } = run.request;
  const flags: [string, unknown][] = [
    ["--env", env], ["--optimizer", optimizer], ["--seed", seed], ["--scale", scale], ["--preset", preset], ["--steps", totalSteps],
    ["--iterations", iterations], ["--eval-every", evalEvery], ["--eval-episodes", evalEpisodes],
  ];
  return [
    "train", ...flags.filter(([, v]) => v !== undefined).flatMap(([flag, v]) => [flag, String(v)]),
    ...Object.entries(agent ?? {}).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]),
    "--runs-dir", runsDir, "--experiment", "bench", "--run", run.id,
  ];
}

/**
 * Seconds from starting `iapo train` for `run` (a fresh node process, as a user trains one run) until it exits.
 * Fails unless the run it logged has exactly the planned config, so both sides train the same run.
 */
async function viaCli(run: PlannedRun): Promise<number> {
  const runsDir = tmp("cli");
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...trainArgs(run, runsDir)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`iapo train exited with ${code}: ${stderr}`);
  const logged = JSON.parse(fs.readFileSync(path.join(runsDir, "bench", run.id, "run.json"), "utf8")).config as unknown;
  if (canonicalJson(logged) !== canonicalJson(run.config)) throw new Error(`iapo train ${trainArgs(run, runsDir).join(" ")} trained another config than the planned run`);
  return seconds;
}

/** The two ways of training a run directly that executors are compared with. */
interface Baseline {
  /** How the figures name it. */
  label: string;
  /** Median seconds of a short run trained this way. */
  short: number;
  /** Seconds of the long run trained this way: what the overhead is a share of. */
  long: number;
}

/**
 * What an executor adds to each run of a sweep: `stamps` are the moments the sweep was submitted and each of its
 * runs (trained one after another) ended, so run i took stamps[i] - stamps[i-1] through the executor, against
 * the baseline's time for the same run trained directly. The first run and the rest are told apart: the rest is the
 * steady state of a sweep, where each run's process warmed while the previous run trained.
 */
function overheadFigures(executor: string, stamps: number[], base: Baseline, steps: number, firstNote: string): BenchFigure[] {
  const costs = stamps.slice(1).map((t, i) => (t - stamps[i]) / 1000 - base.short);
  const steady = median(costs.slice(1));
  const variant = "Pendulum-v1 direct";
  const spread = `runs 2-${costs.length}: ${costs.slice(1).map((c) => c.toFixed(2)).join(", ")} s`;
  const vs = `${executor} executor vs ${base.label}`;
  return [
    { suite: "sweeps", name: `${vs}: cost per run in a sweep`, variant, value: steady, unit: "s", note: `median; ${spread}` },
    { suite: "sweeps", name: `${vs}: overhead on a ${steps}-step run`, variant, value: (steady / base.long) * 100, unit: "%", note: "target < 2%" },
    { suite: "sweeps", name: `${vs}: cost of a sweep's first run`, variant, value: costs[0], unit: "s", note: firstNote },
  ];
}

/** A cost per run against `base`, and as a share of its long run. */
function costFigures(what: string, costs: number[], base: Baseline, steps: number, note: string): BenchFigure[] {
  const variant = "Pendulum-v1 direct";
  const cost = median(costs);
  return [
    { suite: "sweeps", name: `${what} vs ${base.label}: cost per run`, variant, value: cost, unit: "s", note: `${note}; median of ${costs.length}: ${costs.map((c) => c.toFixed(2)).join(", ")} s` },
    { suite: "sweeps", name: `${what} vs ${base.label}: overhead on a ${steps}-step run`, variant, value: (cost / base.long) * 100, unit: "%", note: "target < 2%" },
  ];
}

const IN_PROCESS = "train() in this process";
const CLI_TRAIN = "`iapo train`";
const JUST_BEFORE = "each against the same run trained directly just before it";

/**
 * An executor's cost per run is fixed (a process, a queue or scheduler round trip), so it is measured on short runs
 * against the same runs trained directly, then stated as a share of a 10k-step run trained the same direct way;
 * timing whole 10k-step runs instead buries it under the machine's noise. Two direct ways: `iapo train` (a fresh
 * process, what a user runs to train one run) and train() in this process (warmed, so no process start at all).
 * First what a run waits for: a run handed to a child forked for it (cold) and to a child warmed before the run was
 * due, each paired with direct runs timed just before it (the load of a shared machine drifts). Then whole sweeps
 * through the local pool and a BullMQ worker, where the next run's child warms beside the run: with no free core it
 * competes for CPU. The short runs (300 steps) outlast a child's warm-up, as every real run does. The local pool's
 * runs are also compared in CPU time, which other processes' load disturbs less than wall time.
 */
async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const steps = options.quick ? 2_000 : 10_000;
  const count = options.quick ? 4 : 6;
  const sweep = (name: string, totalSteps: number, seeds: number[]): SweepFile =>
    validateSweep({ name, scale: "smoke", tasks: ["Pendulum-v1"], optimizers: ["direct"], seeds, settings: { totalSteps } });
  const [long] = planSweep(sweep("bench", steps, [0]));
  const shortSpec = sweep("bench", 300, Array.from({ length: count }, (_, i) => i));
  const shorts = planSweep(shortSpec);
  const loads = [os.loadavg()[0]];
  await direct(planSweep(sweep("bench", 50, [0]))[0]); // loads modules and the backend once, as a long-lived process has
  const longRun = await direct(long);
  const longCli = await viaCli(long);
  // shares are of the faster of the two long runs: the same run either way, and load only ever adds time
  const longSeconds = Math.min(longRun.seconds, longCli);
  const directShorts: { seconds: number; cpuSeconds: number }[] = [];
  const cliShorts: number[] = [];
  const timeDirectShorts = async (): Promise<void> => {
    for (const r of shorts) {
      directShorts.push(await direct(r));
      cliShorts.push(await viaCli(r));
    }
  };
  const figures: BenchFigure[] = [];
  const variant = "Pendulum-v1 direct";

  // what the run waits for: a child started for it, or one warmed before it was due (a free core to warm it on)
  const pool = new ChildPool({ warmEnvs: shortSpec.tasks });
  const paired = { cold: { inProcess: [] as number[], cli: [] as number[] }, warm: { inProcess: [] as number[], cli: [] as number[] } };
  try {
    for (const r of shorts) {
      const base = await direct(r);
      directShorts.push(base);
      const job = jobFor(shortSpec, r);
      for (const kind of ["cold", "warm"] as const) {
        const cli = await viaCli(r);
        cliShorts.push(cli);
        if (kind === "warm") {
          pool.keepWarm(1);
          await pool.warmed();
        }
        const t0 = performance.now();
        await (kind === "cold" ? runJobInChild(job, tmp("cold")) : pool.run(job, tmp("warm")));
        const seconds = (performance.now() - t0) / 1000;
        paired[kind].inProcess.push(seconds - base.seconds);
        paired[kind].cli.push(seconds - cli);
      }
    }
  } finally {
    await pool.close();
  }

  // local: one sweep through one slot; its first run's child starts when the sweep does
  const stamps = [performance.now()];
  const children: ChildResult[] = [];
  const local = localExecutor({ workers: 1, onDone: (_id, _outcome, _message, r) => (stamps.push(performance.now()), children.push(r)) });
  const localRoot = tmp("local");
  await local.submit(shortSpec, shorts, localRoot);
  if (!shorts.every((r) => runProgress(localRoot, r).state === "finished")) throw new Error("local: a run did not finish");
  const localStamps = stamps;

  // bullmq: a worker already waiting on the queue with its child warm, as in a sweep
  const redis = await startLocalRedis();
  try {
    const root = tmp("bullmq");
    const worker = await startSweepWorker({ redis: redis.url, runsRoot: root, concurrency: 1, lockDurationMs: 5000, log: () => undefined });
    const executor = await bullmqExecutor(redis.url);
    const queue = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port } });
    let bullmqStamps: number[];
    try {
      await worker.warmed();
      const submitted = Date.now();
      await executor.submit(shortSpec, shorts, root);
      const deadline = Date.now() + 30 * 60_000;
      while ((await queue.getJobCounts("completed")).completed < shorts.length) {
        if (Date.now() > deadline) throw new Error("bullmq: a run did not finish");
        await sleep(100);
      }
      const ends: number[] = [];
      for (const r of shorts) ends.push((await queue.getJob(jobIdFor(shortSpec.name, r.id)))!.finishedOn!);
      bullmqStamps = [submitted, ...ends.sort((a, b) => a - b)];
    } finally {
      await queue.close();
      await executor.close();
      await worker.close();
    }
    await timeDirectShorts();
    loads.push(os.loadavg()[0]);

    const shortSeconds = directShorts.map((d) => d.seconds);
    const inProcess: Baseline = { label: IN_PROCESS, short: median(shortSeconds), long: longSeconds };
    const viaTrain: Baseline = { label: CLI_TRAIN, short: median(cliShorts), long: longSeconds };
    const noise = ((Math.max(...shortSeconds) - Math.min(...shortSeconds)) / 2 / longSeconds) * 100;
    const cliNoise = ((Math.max(...cliShorts) - Math.min(...cliShorts)) / 2 / longSeconds) * 100;
    const directCpu = median(directShorts.map((d) => d.cpuSeconds));
    const runCpu = median(children.map((c) => c.runCpuSeconds));
    const startCpu = median(children.map((c) => c.startCpuSeconds));
    const list = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(", ");
    figures.push(
      { suite: "sweeps", name: `${steps}-step run trained by ${CLI_TRAIN}`, variant, value: longCli, unit: "s", note: "a fresh node process, start to exit; the faster of these two long runs is what the % figures are shares of" },
      { suite: "sweeps", name: `${steps}-step run trained by ${IN_PROCESS}`, variant, value: longRun.seconds, unit: "s", note: `${longRun.cpuSeconds.toFixed(1)} CPU s; modules and backend already loaded` },
      { suite: "sweeps", name: `300-step run trained by ${CLI_TRAIN}`, variant, value: viaTrain.short, unit: "s", note: `median of ${cliShorts.length}, around and between the executors' runs: ${list(cliShorts)} s` },
      { suite: "sweeps", name: `300-step run trained by ${IN_PROCESS}`, variant, value: inProcess.short, unit: "s", note: `median of ${shortSeconds.length}, before and after the sweeps: ${list(shortSeconds)} s` },
      { suite: "sweeps", name: `timing noise: half the spread of 300-step runs by ${CLI_TRAIN}, on a ${steps}-step run`, variant, value: cliNoise, unit: "%", note: `load average ${loads.map((l) => l.toFixed(1)).join(" then ")}, ${os.cpus().length} cores` },
      { suite: "sweeps", name: `timing noise: half the spread of 300-step runs by ${IN_PROCESS}, on a ${steps}-step run`, variant, value: noise, unit: "%" },
      ...costFigures("run in a warm child", paired.warm.cli, viaTrain, steps, `its process started before the run was due; ${JUST_BEFORE}`),
      ...costFigures("run in a cold child", paired.cold.cli, viaTrain, steps, `a process started for the run; ${JUST_BEFORE}`),
      ...overheadFigures("local", localStamps, viaTrain, steps, "its child starts with the sweep (once per slot and sweep)"),
      ...overheadFigures("bullmq", bullmqStamps, viaTrain, steps, "submitted to an idle worker whose child is warm"),
      ...costFigures("run in a warm child", paired.warm.inProcess, inProcess, steps, `its process started before the run was due; ${JUST_BEFORE}`),
      ...costFigures("run in a cold child", paired.cold.inProcess, inProcess, steps, `a process started for the run; ${JUST_BEFORE}`),
      ...overheadFigures("local", localStamps, inProcess, steps, "its child starts with the sweep (once per slot and sweep)"),
      ...overheadFigures("bullmq", bullmqStamps, inProcess, steps, "submitted to an idle worker whose child is warm"),
      { suite: "sweeps", name: "local executor: CPU per run in its child beyond train()'s in this process", variant, value: runCpu - directCpu, unit: "CPU s", note: `${(((runCpu - directCpu) / longRun.cpuSeconds) * 100).toFixed(1)}% of the ${steps}-step run's CPU; a fresh process compiles and optimises the code train() runs` },
      { suite: "sweeps", name: "a run's process start-up, in CPU time", variant: "local and bullmq", value: startCpu, unit: "CPU s", note: `${((startCpu / longRun.cpuSeconds) * 100).toFixed(1)}% of the ${steps}-step run's CPU; off the run's path, but it takes a core while it warms` },
    );
    const jobs = options.quick ? 200 : 2000;
    figures.push({ suite: "sweeps", name: "queue dispatch (empty jobs, concurrency 8)", variant: "bullmq on loopback redis", value: await dispatchRate(redis.url, jobs), unit: "jobs/s", note: `${jobs} jobs` });
    figures.push(...(await killFigures(redis.url, options.quick ? 1_500 : 3_000)));
  } finally {
    redis.stop();
  }

  // an array task is a new process on its node, started by slurmd when Slurm schedules the task: nothing to warm
  const inProcess: Baseline = { label: IN_PROCESS, short: median(directShorts.map((d) => d.seconds)), long: longSeconds };
  figures.push(...(await slurmFigures(shorts[0], sweep("bench", 300, [0]), longSeconds, inProcess, steps, options.quick ? 1 : 5)));
  return figures;
}

export const sweepsSuite: BenchSuite = {
  name: "sweeps",
  description: "per-run overhead of the local, BullMQ and Slurm executors against `iapo train` and against train() in-process; queue dispatch rate; kill test",
  run,
};
