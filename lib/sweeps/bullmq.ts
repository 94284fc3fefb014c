/**
 * The BullMQ executor: one job per run on a Redis queue; `iapo worker` processes on any machine that sees the
 * runs root pull them. BullMQ's lock keeps a job on one worker and hands a dead worker's job to another once the
 * lock expires; the run folder's own lock (lib/runs/run-lock.ts) keeps any second trainer out as well. Job ids
 * are `<sweep>__<run id>`, so submitting a sweep twice adds nothing.
 *
 * Workers trust nothing in a job: it must validate against the sweep schema, its id must match its config, and
 * its folder must resolve inside the runs root; anything else is logged and failed without retry.
 */
import * as os from "node:os";
import { Queue, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { IapoError } from "../core/errors";
import { jobFor, validateJob, type PlannedRun, type SweepJob } from "./plan";
import { ChildPool } from "./child";
import type { Executor, SubmitReport } from "./executor";
import { resolveRunFolder } from "./folders";
import { connectionOptions, parseRedisUrl, probeRedis, type RedisTarget } from "./redis-url";
import type { SweepFile } from "./spec";

export const QUEUE_NAME = "iapo-sweeps";
const ACTIVE_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children"];

export const jobIdFor = (sweep: string, runId: string): string => `${sweep}__${runId}`;

/** A queue on a reachable server; a clear error when it cannot be reached or refuses us (password). */
async function openQueue(target: RedisTarget): Promise<Queue> {
  await probeRedis(target);
  const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(target) as ConnectionOptions });
  let lastError = "";
  queue.on("error", (err) => (lastError = err.message));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IapoError(`Redis at ${target.display} did not accept the connection: ${lastError || "no answer"} (password, TLS?)`)), 10_000);
  });
  try {
    await Promise.race([queue.waitUntilReady(), timeout]);
  } catch (err) {
    await queue.close().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return queue;
}

export async function bullmqExecutor(redisUrl: string): Promise<Executor> {
  const target = parseRedisUrl(redisUrl);
  const queue = await openQueue(target);
  return {
    name: "bullmq",
    async submit(spec: SweepFile, runs: PlannedRun[]): Promise<SubmitReport> {
      const report: SubmitReport = { submitted: [], skipped: [] };
      for (const run of runs) {
        const jobId = jobIdFor(spec.name, run.id);
        const existing = await queue.getJob(jobId);
        if (existing) {
          const state = await existing.getState();
          if (ACTIVE_STATES.includes(state)) {
            report.skipped.push({ id: run.id, note: `already queued (${state})` });
            continue;
          }
          await existing.remove(); // completed or failed, yet the run is unfinished: queue it again
        }
        await queue.add("train", jobFor(spec, run), { jobId, removeOnComplete: { age: 30 * 86400 }, removeOnFail: { age: 30 * 86400 } });
        report.submitted.push({ id: run.id, note: `queued on ${target.display}` });
      }
      return report;
    },
    async engineStatus(spec: SweepFile, runs: PlannedRun[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const run of runs) {
        const job = await queue.getJob(jobIdFor(spec.name, run.id));
        if (!job) continue;
        const state = await job.getState();
        const worker = (job.progress as { worker?: string } | undefined)?.worker;
        out.set(run.id, `${state}${worker ? ` on ${worker}` : ""}${state === "failed" && job.failedReason ? `: ${job.failedReason.slice(0, 80)}` : ""}`);
      }
      return out;
    },
    close: () => queue.close(),
  };
}

export interface WorkerOptions {
  redis: string;
  runsRoot: string;
  /** Runs trained at once by this worker, each in its own process. */
  concurrency: number;
  /** BullMQ job lock; a dead worker's run moves to another worker this long after its last renewal. */
  lockDurationMs: number;
  log: (line: string) => void;
}

export interface SweepWorker {
  /** Resolves once the children waiting for this worker's next jobs are warm. */
  warmed(): Promise<void>;
  /** Checkpoints the runs in progress, hands them back to the queue, and disconnects. */
  close(): Promise<void>;
}

export async function startSweepWorker(o: WorkerOptions): Promise<SweepWorker> {
  const target = parseRedisUrl(o.redis);
  await probeRedis(target);
  const name = `${os.hostname()} pid ${process.pid}`;
  const shutdown = new AbortController();
  // each job trains in a child of its own, warmed before the job comes (while the slot's previous run trains)
  const pool = new ChildPool();
  pool.keepWarm(o.concurrency);
  const processor = async (job: Job, token?: string): Promise<{ step: number; worker: string }> => {
    let checked: SweepJob;
    try {
      const run = validateJob(job.data);
      resolveRunFolder(o.runsRoot, run.folder);
      if (job.id !== jobIdFor(run.sweep, run.id)) throw new IapoError(`job id "${job.id}" does not match its run (expected "${jobIdFor(run.sweep, run.id)}")`);
      checked = { sweep: run.sweep, runId: run.id, request: run.request };
    } catch (err) {
      o.log(`refused job ${JSON.stringify(job.id)}: ${(err as Error).message}`);
      throw new UnrecoverableError(`refused: ${(err as Error).message}`);
    }
    o.log(`training ${checked.sweep}/${checked.runId}`);
    let step = 0;
    const result = await pool.run(checked, o.runsRoot, {
      signal: shutdown.signal,
      // the next job is most likely of the same sweep: its child loads this task's engine while warming
      onStart: () => pool.keepWarm(o.concurrency, [checked.request.env]),
      onProgress: (p) => {
        step = p.step;
        job.updateProgress({ ...p, worker: name }).catch(() => undefined);
      },
    });
    o.log(`${checked.sweep}/${checked.runId}: ${result.outcome}${result.outcome === "finished" ? "" : `: ${result.message}`}`);
    if (result.outcome === "finished") return { step: Math.max(step, 0), worker: name };
    if (result.outcome === "refused") throw new UnrecoverableError(result.message);
    if (result.outcome === "interrupted" && shutdown.signal.aborted && token) {
      await job.moveToWait(token); // checkpointed: another worker resumes it
      throw new WaitingError();
    }
    throw new Error(result.message);
  };
  let worker: Worker;
  try {
    worker = new Worker(QUEUE_NAME, processor, {
      connection: connectionOptions(target) as ConnectionOptions,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: Math.max(500, Math.floor(o.lockDurationMs / 2)),
      // a stall is a worker lost mid-run: the run resumes elsewhere, however often that happens
      maxStalledCount: 1000,
      name,
    });
    worker.on("error", (err) => o.log(`queue error: ${err.message}`));
    await worker.waitUntilReady();
  } catch (err) {
    await pool.close();
    throw err;
  }
  o.log(`worker ${name} on ${target.display}, queue ${QUEUE_NAME}, runs root ${o.runsRoot}, ${o.concurrency} at once`);
  return {
    warmed: () => pool.warmed(),
    async close(): Promise<void> {
      shutdown.abort();
      await worker.close();
      await pool.close();
    },
  };
}
