/**
 * Real components for the sweep tests, started on loopback and always stopped: a redis-server on a free port,
 * CLI processes in their own process groups (so a SIGKILL takes a worker and its training children together,
 * as losing a machine does), and temporary folders.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { startLocalRedis, type LocalRedis } from "../../lib/sweeps/local-redis";

export const CLI = path.join(projectRoot(), "dist", "lib", "cli", "main.js");

const groups = new Set<number>();
const redisServers: LocalRedis[] = [];

/** Kills every process group started here; runs on test end and on exit, whatever happened. */
export function killAll(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  groups.clear();
  for (const r of redisServers.splice(0)) r.stop();
}
process.on("exit", killAll);

export const tmp = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `iapo-${prefix}-`));

export { freeLoopbackPort as freePort } from "../../lib/sweeps/local-redis";

export interface Started {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a command in its own process group, collecting stdout and stderr. */
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Started {
  const proc = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env }, cwd });
  if (proc.pid !== undefined) groups.add(proc.pid);
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => {
    if (proc.pid !== undefined) groups.delete(proc.pid);
    resolve(code);
  }));
  proc.on("error", () => undefined);
  return { proc, output: () => out, exited };
}

/** Runs the CLI to its end without blocking this process's timers (run-lock heartbeats). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Kills a started process and everything it started. */
export function killGroup(s: Started, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-s.proc.pid!, signal);
  } catch {
    // gone
  }
}

export async function until(what: string, check: () => boolean, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A redis-server bound to 127.0.0.1 on a free port, stopped when the test process ends (or by the test). */
export async function startRedis(): Promise<LocalRedis> {
  const redis = await startLocalRedis();
  redisServers.push(redis);
  return redis;
}

/** Writes a sweep file (YAML) and returns its path. */
export function writeSweep(dir: string, name: string, body: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, body);
  return file;
}

/** Every file under `dir`, relative, sorted (to show nothing was written). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Pids of the run processes (exec-child.js) whose parent is `parent`. */
export function runChildren(parent: number): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p))) {
    try {
      const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
      if (ppid === parent && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("exec-child.js")) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}
