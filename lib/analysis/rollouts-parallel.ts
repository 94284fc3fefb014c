/**
 * Value-bias rollouts across cores: the groups of pairs are split into contiguous shares, this process runs the
 * first and child processes (rollouts-worker.ts, each with its own tfjs backend and MuJoCo, kept for later
 * evaluations) run the others.
 * Every rollout's stream is seeded from its pair and rollout index and every group's from its number, so the
 * results are the same for any number of processes. Child processes rather than worker threads: the native
 * backend and MuJoCo's wasm module are per process, and a child that fails cannot take this one down.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { backendInfo, type BackendName } from "../backend/select";
import { activeAddon } from "../backend/wasm-kernels";
import { ConfigError, IapoError } from "../core/errors";
import { runShare, type PairReturns, type RolloutShare, type ShareTiming } from "./rollouts-share";

/** The compiled child entry, next to this file. */
export const WORKER_SCRIPT = path.join(__dirname, "rollouts-worker.js");

/** What a child is sent: a share, and the backend to run it on (null: the automatic choice). */
export interface WorkerRequest {
  share: RolloutShare;
  backend: BackendName | null;
}

/** What a child sends back. */
export type WorkerReply = { ok: true; results: PairReturns[]; timing: ShareTiming } | { ok: false; error: string };

/** Splits `items` into `parts` contiguous runs of near-equal length (the first ones one longer). */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (let p = 0; p < parts; p++) {
    const size = Math.floor(items.length / parts) + (p < items.length % parts ? 1 : 0);
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

/**
 * Children kept between evaluations (value bias runs every N training steps): start-up (node, tfjs, MuJoCo) and
 * V8's warm-up are paid once. An idle child holds no reference on this process, so it never keeps it alive,
 * and it exits when this process does (its IPC channel closes).
 */
const idleWorkers: ChildProcess[] = [];
const allWorkers = new Set<ChildProcess>();

function forget(child: ChildProcess): void {
  allWorkers.delete(child);
  const i = idleWorkers.indexOf(child);
  if (i >= 0) idleWorkers.splice(i, 1);
}

/** Whether a child's handle and channel keep this process alive (only while it works for us). */
function hold(child: ChildProcess, on: boolean): void {
  const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
  if (on) {
    child.ref();
    channel?.ref?.();
  } else {
    child.unref();
    channel?.unref?.();
  }
}

function takeWorker(): ChildProcess {
  const idle = idleWorkers.pop();
  if (idle) return idle;
  // stdout (tfjs's banner) is dropped: replies come over IPC; stderr is shown
  const child = fork(WORKER_SCRIPT, [], { serialization: "advanced", stdio: ["ignore", "ignore", "inherit", "ipc"], env: { ...process.env, IAPO_THREADS: "1" } });
  allWorkers.add(child);
  child.on("exit", () => forget(child));
  child.on("error", () => forget(child));
  return child;
}

/** Children started and not stopped (idle or working). */
export function rolloutWorkerCount(): number {
  return allWorkers.size;
}

/** Stops every kept child (tests, or to free their memory); later evaluations start new ones. */
export function stopRolloutWorkers(): void {
  for (const child of [...allWorkers]) {
    forget(child);
    child.kill();
  }
}

/**
 * Runs a share in a child process (a kept one when idle). `sent` settles once the request has left this process:
 * a large snapshot is written out over several event-loop turns, which this process's own share would hold up.
 */
function runShareInChild(share: RolloutShare): { sent: Promise<void>; done: Promise<{ results: PairReturns[]; timing: ShareTiming }> } {
  const child = takeWorker();
  hold(child, true);
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const done = new Promise<{ results: PairReturns[]; timing: ShareTiming }>((resolve, reject) => {
    const done = (): void => {
      child.off("message", onMessage);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    const onMessage = (m: unknown): void => {
      done();
      const reply = m as WorkerReply;
      if (reply.ok) {
        hold(child, false);
        idleWorkers.push(child);
        resolve({ results: reply.results, timing: reply.timing });
      } else {
        forget(child);
        child.kill();
        reject(new IapoError(`value-bias rollout worker failed: ${reply.error}`));
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new IapoError(`value-bias rollout worker exited with code ${code} before replying`));
    };
    const onError = (e: Error): void => {
      done();
      forget(child);
      child.kill();
      reject(new IapoError(`value-bias rollout worker failed: ${e.message}`));
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.on("error", onError);
    // the child switches to this process's backend, so both compute the same numbers
    child.send({ share, backend: backendInfo()?.name ?? null } satisfies WorkerRequest, () => markSent());
  });
  return { sent, done };
}

/**
 * Runs all `groups` of `share` over `processes` processes (this one included) and returns the pair results
 * in pair order, with each process's timing.
 */
export async function runShares(share: RolloutShare, processes: number): Promise<{ results: PairReturns[]; timings: ShareTiming[] }> {
  if (!Number.isInteger(processes) || processes < 1) throw new ConfigError(`value bias: workers must be an integer >= 1, got ${processes}`);
  const parts = splitEvenly(share.groups, Math.min(processes, share.groups.length)).map((groups) => ({ ...share, groups }));
  if (parts.length > 1 && !fs.existsSync(WORKER_SCRIPT)) {
    throw new ConfigError(`value bias: workers > 1 needs the compiled ${WORKER_SCRIPT} (run the library from dist/), or set workers to 1`);
  }
  // Each process takes a core of its own: the addon's second thread (which spins between the policy's frequent
  // calls) would only compete with the other process for it. Children start with IAPO_THREADS=1 (takeWorker).
  const addon = parts.length > 1 ? activeAddon() : null;
  const threadsBefore = addon?.blasInfo().threads ?? 1;
  addon?.setThreads(1);
  const children = parts.slice(1).map(runShareInChild);
  await Promise.race([Promise.all(children.map((c) => c.sent)), Promise.allSettled(children.map((c) => c.done))]);
  // settle every child before throwing, so none is left running
  const [own, ...rest] = await Promise.allSettled([runShare(parts[0]), ...children.map((c) => c.done)]).finally(() => addon?.setThreads(threadsBefore));
  const all = [own, ...rest];
  const failed = all.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const done = all.map((s) => (s as PromiseFulfilledResult<{ results: PairReturns[]; timing: ShareTiming }>).value);
  const results = done.flatMap((d) => d.results).sort((a, b) => a.index - b.index);
  return { results, timings: done.map((d) => d.timing) };
}
