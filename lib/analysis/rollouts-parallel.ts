/**
 * Value-bias rollouts across cores: the groups of pairs are split into contiguous shares, this process runs the
 * first and child processes (rollouts-worker.ts, each with its own tfjs backend and MuJoCo) run the others.
 * Every rollout's stream is seeded from its pair and rollout index and every group's from its number, so the
 * results are the same for any number of processes. Child processes rather than worker threads: the native
 * backend and MuJoCo's wasm module are per process, and a child that fails cannot take this one down.
 */
import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { backendInfo } from "../backend/select";
import { ConfigError, IapoError } from "../core/errors";
import { runShare, type PairReturns, type RolloutShare, type ShareTiming } from "./rollouts-share";

/** The compiled child entry, next to this file. */
export const WORKER_SCRIPT = path.join(__dirname, "rollouts-worker.js");

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

/** Runs a share in a child process. */
function runShareInChild(share: RolloutShare): Promise<{ results: PairReturns[]; timing: ShareTiming }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    const backend = backendInfo()?.name;
    if (backend) env.IAPO_BACKEND = backend; // the same numbers as this process
    const child = fork(WORKER_SCRIPT, [], { serialization: "advanced", env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    let reply: WorkerReply | null = null;
    child.on("message", (m) => (reply = m as WorkerReply));
    child.on("error", reject);
    child.on("exit", (code) => {
      const r = reply as WorkerReply | null;
      if (r?.ok) resolve({ results: r.results, timing: r.timing });
      else reject(new IapoError(`value-bias rollout worker failed: ${r ? r.error : `exited with code ${code} before replying`}`));
    });
    child.send(share); // replies come over IPC; stdout (tfjs's banner) is dropped, stderr shown
  });
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
  const children = parts.slice(1).map(runShareInChild);
  // settle every child before throwing, so none is left running
  const [own, ...rest] = await Promise.allSettled([runShare(parts[0]), ...children]);
  const all = [own, ...rest];
  const failed = all.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const done = all.map((s) => (s as PromiseFulfilledResult<{ results: PairReturns[]; timing: ShareTiming }>).value);
  const results = done.flatMap((d) => d.results).sort((a, b) => a.index - b.index);
  return { results, timings: done.map((d) => d.timing) };
}
