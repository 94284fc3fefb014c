/**
 * Runs one job in its own process (exec-child.js), so a crash, a NaN or a leak ends only that run. Used by the
 * local pool and by queue workers alike. Aborting `signal` sends SIGTERM: the child checkpoints and exits.
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import { EXIT, type ChildProgress } from "./exec-child";
import type { SweepJob } from "./plan";

export type ChildOutcome = "finished" | "interrupted" | "refused" | "failed";

export interface ChildResult {
  outcome: ChildOutcome;
  code: number | null;
  /** The child's last lines of stderr: its error, if any. */
  message: string;
}

export interface ChildOptions {
  signal?: AbortSignal;
  onProgress?: (p: ChildProgress) => void;
  /** Extra environment for the child. */
  env?: NodeJS.ProcessEnv;
}

export const EXEC_CHILD = path.join(__dirname, "exec-child.js");

const OUTCOMES = new Map<number, ChildOutcome>([[EXIT.finished, "finished"], [EXIT.interrupted, "interrupted"], [EXIT.refused, "refused"]]);

/** Every child still running, so an exiting parent can stop them (children outlive a parent otherwise). */
const live = new Set<import("node:child_process").ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGTERM");
});

export function runJobInChild(job: SweepJob, runsRoot: string, options: ChildOptions = {}): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = fork(EXEC_CHILD, ["--runs-root", runsRoot, "--job", JSON.stringify(job)], {
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      env: { ...process.env, ...options.env },
    });
    live.add(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on("message", (m: ChildProgress) => {
      if (m && m.type === "progress") options.onProgress?.(m);
    });
    const onAbort = (): void => {
      child.kill("SIGTERM");
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("exit", (code, sig) => {
      live.delete(child);
      options.signal?.removeEventListener("abort", onAbort);
      const outcome = code === null ? "failed" : OUTCOMES.get(code) ?? "failed";
      const message = stderr.trim().split("\n").slice(-3).join("\n") || (sig ? `killed by ${sig}` : `exit code ${code}`);
      resolve({ outcome, code, message });
    });
  });
}
