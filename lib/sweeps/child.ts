/**
 * Runs each job in its own process (exec-child.js), so a crash, a NaN or a leak ends only that run, without making
 * the run wait for that process to start: a pool keeps warm children, forked ahead of time, each of which has
 * loaded the library, started the backend and loaded its tasks' engine, and then waits for exactly one job over IPC. While a run trains, the
 * child for the next run warms beside it. Used by the local pool and by queue workers alike. Aborting a run's
 * `signal` sends SIGTERM: the child checkpoints and exits.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { EXIT, type ChildDone, type ChildJob, type ChildProgress, type ChildReady, type ChildTaken } from "./exec-child";
import type { SweepJob } from "./plan";

export type ChildOutcome = "finished" | "interrupted" | "refused" | "failed";

export interface ChildResult {
  outcome: ChildOutcome;
  code: number | null;
  /** The child's last lines of stderr: its error, if any. */
  message: string;
  /** The process the run trained in. */
  pid: number | undefined;
  /** Seconds the job waited for its child to finish warming (0 when one was ready). */
  waitedSeconds: number;
  /** CPU seconds the child spent starting (loading, backend), before or while the job waited; NaN if unknown. */
  startCpuSeconds: number;
  /** CPU seconds the child spent on the run itself, after start-up (all its threads); NaN if unknown. */
  runCpuSeconds: number;
}

export interface ChildOptions {
  signal?: AbortSignal;
  onProgress?: (p: ChildProgress) => void;
  /** Called once the job is handed to its child (warm): the moment to warm the child for the next run. */
  onStart?: () => void;
}

export interface PoolOptions {
  /** Extra environment for the children. */
  env?: NodeJS.ProcessEnv;
  /** Tasks whose engine (MuJoCo) children load while warming: those of the runs to come, where known. */
  warmEnvs?: readonly string[];
}

export const EXEC_CHILD = path.join(__dirname, "exec-child.js");

const OUTCOMES = new Map<number, ChildOutcome>([[EXIT.finished, "finished"], [EXIT.interrupted, "interrupted"], [EXIT.refused, "refused"]]);

/** Every child still running, so an exiting parent can stop them (children outlive a parent otherwise). */
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGTERM");
});

type Said = ChildReady | ChildTaken | ChildDone;

/** A forked child and what it has said so far. */
interface Warm {
  child: ChildProcess;
  /** Resolves with its start-up CPU seconds once ready, or null if it exited first. */
  ready: Promise<number | null>;
  /** Resolves true once it has its job, false if it exited before. */
  taken: Promise<boolean>;
  /** Resolves with the CPU seconds it used in all, said as it exits; null if it did not say. */
  done: Promise<number | null>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** While a child waits for a job it must not keep this process alive; once it trains one, it must. */
function hold(child: ChildProcess, on: boolean): void {
  const handles = [child, child.channel, child.stderr] as ({ ref(): void; unref(): void } | null | undefined)[];
  for (const h of handles) if (on) h?.ref();
  else h?.unref();
}

function forkWarm(options: PoolOptions): Warm {
  const args = options.warmEnvs?.length ? ["--warm-envs", [...new Set(options.warmEnvs)].join(",")] : [];
  const child = fork(EXEC_CHILD, args, { stdio: ["ignore", "inherit", "pipe", "ipc"], env: { ...process.env, ...options.env } });
  live.add(child);
  hold(child, false);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // "close", not "exit": by then every message the child sent has been delivered
    child.on("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  /** What the child said of `type` (`value` of it), or `otherwise` if it exited without saying it. */
  const said = <T>(type: Said["type"], value: (m: Said) => T, otherwise: T): Promise<T> =>
    new Promise((resolve) => {
      child.on("message", (m: Said) => {
        if (m && m.type === type) resolve(value(m));
      });
      void exited.then(() => resolve(otherwise));
    });
  const cpu = (m: Said): number => ("cpuSeconds" in m ? m.cpuSeconds : NaN);
  child.on("error", () => undefined); // a failed fork or a send to a dead child shows as its exit
  return { child, ready: said("ready", cpu, null), taken: said("taken", () => true, false), done: said("done", cpu, null), exited, stderr: () => stderr };
}

const lastLines = (warm: Warm): string => warm.stderr().trim().split("\n").slice(-3).join("\n");

/**
 * Hands `job` to a warm child and follows it to its exit. Null when the child died before it took the job (killed
 * from outside while it waited) and `lastTry` is false: the run has not started, so another child may take it.
 */
async function runIn(warm: Warm, job: SweepJob, runsRoot: string, options: ChildOptions, since: number, lastTry: boolean): Promise<ChildResult | null> {
  const { child } = warm;
  const startCpuSeconds = await warm.ready;
  const waitedSeconds = (performance.now() - since) / 1000;
  const result = (outcome: ChildOutcome, code: number | null, message: string, totalCpu: number | null = null): ChildResult => ({
    outcome, code, message, pid: child.pid, waitedSeconds, startCpuSeconds: startCpuSeconds ?? NaN, runCpuSeconds: (totalCpu ?? NaN) - (startCpuSeconds ?? NaN),
  });
  const lost = async (): Promise<ChildResult | null> => {
    if (!lastTry) return null;
    const { code, signal } = await warm.exited;
    return result("failed", code, `the run's process exited before it took the run (${signal ? `killed by ${signal}` : `exit code ${code}`}): ${lastLines(warm)}`);
  };
  if (startCpuSeconds === null) return lost();
  if (options.signal?.aborted) {
    child.kill("SIGTERM");
    return result("interrupted", null, "stopped before it started");
  }
  const onMessage = (m: ChildProgress): void => {
    if (m && m.type === "progress") options.onProgress?.(m);
  };
  const onAbort = (): void => {
    child.kill("SIGTERM");
  };
  child.on("message", onMessage);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    child.send({ type: "job", job, runsRoot } satisfies ChildJob);
    if (!(await warm.taken)) return await lost();
    options.onStart?.();
    const { code, signal } = await warm.exited;
    const outcome = code === null ? "failed" : OUTCOMES.get(code) ?? "failed";
    return result(outcome, code, lastLines(warm) || (signal ? `killed by ${signal}` : `exit code ${code}`), await warm.done);
  } finally {
    child.off("message", onMessage);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Warm children for the runs to come. `keepWarm(n)` keeps n children warming or waiting; `run` hands a job to the
 * oldest (forking one at once if there is none: that run pays the start-up), and each child trains one run only.
 */
export class ChildPool {
  private spares: Warm[] = [];
  private closed = false;

  constructor(private readonly options: PoolOptions = {}) {}

  /**
   * Keeps `n` children warm for the runs to come: forks the missing ones (loading `warmEnvs`' engine, default the
   * pool's), stops any beyond n.
   */
  keepWarm(n: number, warmEnvs = this.options.warmEnvs): void {
    if (this.closed) return;
    while (this.spares.length < n) this.spares.push(forkWarm({ ...this.options, warmEnvs }));
    for (const extra of this.spares.splice(n)) extra.child.kill("SIGTERM");
  }

  /** Resolves once every child kept warm is ready (or gone); waiting for them keeps this process alive. */
  async warmed(): Promise<void> {
    const waiting = [...this.spares];
    waiting.forEach((s) => hold(s.child, true));
    try {
      await Promise.all(waiting.map((s) => s.ready));
    } finally {
      waiting.filter((s) => this.spares.includes(s)).forEach((s) => hold(s.child, false));
    }
  }

  /** Trains `job` in a child of its own: a warm one if there is one (taken at once, before this returns). */
  run(job: SweepJob, runsRoot: string, options: ChildOptions = {}): Promise<ChildResult> {
    const since = performance.now();
    const first = this.spares.shift() ?? forkWarm(this.options);
    hold(first.child, true);
    return (async () => {
      // a child killed from outside while it waited has not started the run: one fresh child gets another try
      const r = await runIn(first, job, runsRoot, options, since, false);
      if (r !== null) return r;
      const fresh = forkWarm(this.options);
      hold(fresh.child, true);
      return (await runIn(fresh, job, runsRoot, options, since, true))!;
    })();
  }

  /** Stops the children that have no job; running ones stop through their runs' signals. */
  async close(): Promise<void> {
    this.closed = true;
    const spares = this.spares.splice(0);
    for (const s of spares) {
      hold(s.child, true);
      s.child.kill("SIGTERM");
    }
    await Promise.all(spares.map((s) => s.exited));
  }
}

/** Trains one job in a child started for it (start-up included): for a single run outside any pool. */
export function runJobInChild(job: SweepJob, runsRoot: string, options: ChildOptions & PoolOptions = {}): Promise<ChildResult> {
  return new ChildPool(options).run(job, runsRoot, options);
}
