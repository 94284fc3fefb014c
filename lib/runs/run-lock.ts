/**
 * One trainer per run folder: `run.lock` in the folder names its holder (host, pid, and the scheduler's job where
 * there is one) and is touched every few seconds (the heartbeat). A second trainer — another sweep worker, a Slurm
 * task, a local `iapo train` — is refused while the heartbeat is fresh; a lock whose heartbeat stopped (its holder
 * was killed or its machine lost) is stale and taken over. Creation uses O_EXCL, which is atomic on local
 * filesystems and NFS v3+, so two trainers racing for a free folder cannot both win.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { ConfigError, IapoError } from "../core/errors";

export const RUN_LOCK_FILE = "run.lock";
/**
 * Milliseconds without a heartbeat after which a lock is stale (default 60 s; tests shorten it). Heartbeats come
 * every fifth of it from the event loop, so a trainer may block it (a long evaluation, a large checkpoint) for
 * most of that time without losing its lock.
 */
export const RUN_LOCK_STALE_ENV = "IAPO_RUN_LOCK_STALE_MS";

export interface RunLockInfo {
  /** Random per acquisition: tells our lock from a successor's after a takeover. */
  token: string;
  host: string;
  pid: number;
  /** Where the holder runs, e.g. "vm pid 4211" or "node3 slurm 812_4". */
  owner: string;
  startedAt: string;
}

/** A run folder's lock as another process sees it. */
export interface RunLockView extends RunLockInfo {
  /** Milliseconds since the last heartbeat. */
  ageMs: number;
  stale: boolean;
}

export class RunLockedError extends IapoError {
  constructor(readonly dir: string, readonly holder: RunLockView) {
    super(`run folder ${dir} is being trained by ${holder.owner} (heartbeat ${(holder.ageMs / 1000).toFixed(1)} s ago); ` +
      `wait for it to finish, or stop it; a lock without a heartbeat for ${(staleAfterMs() / 1000).toFixed(0)} s is taken over`);
  }
}

export function staleAfterMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[RUN_LOCK_STALE_ENV];
  if (raw === undefined || raw === "") return 60_000;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 200) throw new ConfigError(`${RUN_LOCK_STALE_ENV} must be an integer >= 200 (milliseconds), got "${raw}"`);
  return ms;
}

function describeOwner(): string {
  const task = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` : process.env.SLURM_JOB_ID;
  return `${os.hostname()} pid ${process.pid}${task ? ` slurm ${task}` : ""}`;
}

/** False only when `pid` surely does not run on this host. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * The lock of `dir`, or null when it has none (or it vanished while being read). It is stale once its heartbeat
 * is older than the stale time, or at once when its holder ran on this host and has exited (a killed `iapo train`
 * can be resumed straight away).
 */
export function readRunLock(dir: string, now = Date.now()): RunLockView | null {
  const file = path.join(dir, RUN_LOCK_FILE);
  try {
    const stat = fs.statSync(file);
    const info = JSON.parse(fs.readFileSync(file, "utf8")) as RunLockInfo;
    const ageMs = Math.max(0, now - stat.mtimeMs);
    const deadHere = info.host === os.hostname() && Number.isInteger(info.pid) && info.pid > 0 && !pidAlive(info.pid);
    return { ...info, ageMs, stale: ageMs > staleAfterMs() || deadHere };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    // a lock file being written, or garbage: judge it by its age alone
    try {
      const ageMs = Math.max(0, now - fs.statSync(file).mtimeMs);
      return { token: "", host: "?", pid: 0, owner: "an unreadable lock", startedAt: "", ageMs, stale: ageMs > staleAfterMs() };
    } catch {
      return null;
    }
  }
}

export interface RunLock {
  readonly info: RunLockInfo;
  /** Aborted when the lock was lost (taken over after our heartbeat stalled): stop training at once. */
  readonly lost: AbortSignal;
  release(): void;
}

/** Claims a stale lock: move it aside atomically, and put it back if it turns out a successor replaced it meanwhile. */
function takeOverStale(file: string, seen: RunLockView): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else moved it first
  }
  let movedToken = "";
  try {
    movedToken = (JSON.parse(fs.readFileSync(aside, "utf8")) as RunLockInfo).token;
  } catch {
    // unreadable: it was the stale garbage we saw
  }
  if (movedToken !== seen.token) {
    try {
      fs.linkSync(aside, file); // a fresh lock we must not break: restore it (fails only if yet another lock exists)
    } catch {
      // a newer lock is in place; ours is refused below either way
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * Takes the lock of run folder `dir` (created if missing) or throws RunLockedError naming the holder. The
 * heartbeat runs on a timer (training loops yield to the event loop), so a process frozen for longer than the
 * stale time loses its lock; `lost` then fires.
 */
export function acquireRunLock(dir: string): RunLock {
  const madeDir = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, RUN_LOCK_FILE);
  const info: RunLockInfo = { token: randomBytes(12).toString("hex"), host: os.hostname(), pid: process.pid, owner: describeOwner(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o644);
      try {
        fs.writeFileSync(fd, JSON.stringify(info));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readRunLock(dir);
      if (holder === null) continue; // released between our open and read
      if (!holder.stale || attempt >= 2) throw new RunLockedError(dir, holder);
      takeOverStale(file, holder);
    }
  }

  const controller = new AbortController();
  const beat = (): void => {
    try {
      const current = JSON.parse(fs.readFileSync(file, "utf8")) as RunLockInfo;
      if (current.token !== info.token) throw new Error("taken over");
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      clearInterval(timer);
      controller.abort(new IapoError(`lost the lock of ${dir}: another trainer took it over after our heartbeat stalled`));
    }
  };
  const timer = setInterval(beat, Math.max(100, Math.floor(staleAfterMs() / 5)));
  timer.unref();
  let released = false;
  return {
    info,
    lost: controller.signal,
    release(): void {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        const current = JSON.parse(fs.readFileSync(file, "utf8")) as RunLockInfo;
        if (current.token === info.token) fs.rmSync(file, { force: true });
      } catch {
        // gone or replaced: nothing of ours to remove
      }
      // a folder we created only to hold the lock (training refused before writing a run) is not left behind
      if (madeDir) {
        try {
          fs.rmdirSync(dir);
        } catch {
          // not empty: it holds a run
        }
      }
    },
  };
}
