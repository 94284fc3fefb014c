/**
 * A throwaway single-node Slurm cluster for tests and benchmarks: munged, slurmctld and slurmd in the foreground,
 * each in its own process group, every file (key, sockets, state, spool, logs, slurm.conf) in a temporary folder,
 * ports free on loopback. `stop()` cancels every job and kills the daemons and any process still running from the
 * folder; so does this process's exit. Needs root (slurmd starts job steps as their user) and Debian's slurmctld,
 * slurmd, slurm-client and munge. Not a production cluster: one node, no accounting, no cgroups.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IapoError } from "../core/errors";
import { freeLoopbackPort } from "./local-redis";

export interface LocalSlurm {
  /** The folder holding slurm.conf, state, spool and the daemons' logs. */
  dir: string;
  /** `SLURM_CONF` pointing at this cluster: add it to the environment of every Slurm client command. */
  env: { SLURM_CONF: string };
  /** Runs a Slurm client command (sbatch, scontrol, …) against this cluster; throws on a non-zero exit. */
  cmd(name: string, args: string[]): string;
  stop(): void;
}

/**
 * Seconds between the passes of this cluster's scheduler (slurm.conf `sched_interval`). Slurm starts queued work
 * only in its passes, so a submitted task waits up to about this long before it starts.
 */
export const LOCAL_SLURM_SCHED_INTERVAL_S = 1;

/**
 * Kills (by pid) processes whose command line or environment mentions `marker`: job steps and their slurmstepd,
 * which slurmd starts outside our process groups (a slurmstepd's environment holds SLURM_CONF).
 */
function killByMarker(marker: string): void {
  for (const pid of fs.readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const mentions = (file: string): boolean => fs.readFileSync(`/proc/${pid}/${file}`, "utf8").includes(marker);
      if (mentions("cmdline") || mentions("environ")) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone, or not ours to read
    }
  }
}

interface Daemon {
  proc: ChildProcess;
  output: () => string;
}

function startDaemon(cmd: string, args: string[], env: NodeJS.ProcessEnv): Daemon {
  const proc = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  const keep = (d: Buffer): void => void (out = (out + d.toString()).slice(-4000));
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  proc.on("error", (err) => keep(Buffer.from(`${cmd}: ${err.message}\n`)));
  return { proc, output: () => out };
}

/** What a local cluster may be started with. */
export interface LocalSlurmOptions {
  /** slurm.conf MaxArraySize: the tasks one array may hold (Slurm's default 1001). */
  maxArraySize?: number;
}

function slurmConf(dir: string, host: string, ctldPort: number, dPort: number, socket: string, options: LocalSlurmOptions): string {
  return [
    "ClusterName=iapotest",
    `SlurmctldHost=${host}`,
    "SlurmUser=root",
    `AuthInfo=socket=${socket},cred_expire=10`,
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_CPU",
    `SchedulerParameters=sched_interval=${LOCAL_SLURM_SCHED_INTERVAL_S}`,
    "MinJobAge=300",
    ...(options.maxArraySize !== undefined ? [`MaxArraySize=${options.maxArraySize}`] : []),
    "KillWait=10",
    "ReturnToService=2",
    "MailProg=/bin/true",
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${dPort}`,
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`,
    `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/slurmctld.log`,
    `SlurmdLogFile=${dir}/slurmd.log`,
    `NodeName=${host} CPUs=${os.cpus().length} State=UNKNOWN`,
    `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    "",
  ].join("\n");
}

/** Starts the cluster, or throws an IapoError saying which daemon failed and why (its output and log). */
export async function startLocalSlurm(options: LocalSlurmOptions = {}): Promise<LocalSlurm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iapo-slurm-"));
  fs.chmodSync(dir, 0o755); // munged refuses a socket folder others cannot traverse
  const host = os.hostname().split(".")[0];
  const [ctldPort, dPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const key = path.join(dir, "munge.key");
  const socket = path.join(dir, "munge.socket.2");
  for (const sub of ["state", "spool"]) fs.mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, "slurm.conf");
  fs.writeFileSync(conf, slurmConf(dir, host, ctldPort, dPort, socket, options));
  const env = { SLURM_CONF: conf };
  const daemons: Daemon[] = [];
  const cmd = (name: string, args: string[]): string =>
    execFileSync(name, args, { env: { ...process.env, ...env }, encoding: "utf8", timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop);
    try {
      cmd("scancel", ["--full", "--user", os.userInfo().username]);
    } catch {
      // nothing to cancel, or the controller is down
    }
    for (const d of daemons) {
      try {
        process.kill(-d.proc.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
    killByMarker(dir);
  };
  process.on("exit", stop);
  const log = (name: string): string => {
    const f = path.join(dir, `${name}.log`);
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").slice(-1500) : "";
  };
  const waitFor = async (name: string, check: () => boolean, d: Daemon): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!check()) {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null || Date.now() > deadline) {
        stop();
        throw new IapoError(`${name} did not come up: ${d.output().slice(-1500)}${log(name)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const answers = (args: string[], pattern: RegExp): boolean => {
    try {
      return pattern.test(cmd("scontrol", args));
    } catch {
      return false;
    }
  };
  try {
    execFileSync("mungekey", ["-c", "-k", key], { stdio: "pipe" });
    fs.chmodSync(key, 0o600);
  } catch (err) {
    stop();
    throw new IapoError(`mungekey failed: ${(err as Error).message} (Debian: apt-get install munge)`);
  }
  const munged = startDaemon("munged", ["-F", `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${dir}/munged.pid`, `--log-file=${dir}/munged.log`, `--seed-file=${dir}/munged.seed`], {});
  daemons.push(munged);
  await waitFor("munged", () => fs.existsSync(socket), munged);
  const ctld = startDaemon("slurmctld", ["-D", "-c", "-f", conf], env);
  daemons.push(ctld);
  await waitFor("slurmctld", () => answers(["ping"], /UP/), ctld);
  const slurmd = startDaemon("slurmd", ["-D", "-f", conf], env);
  daemons.push(slurmd);
  await waitFor("slurmd", () => answers(["show", "node", host], /State=IDLE/), slurmd);
  return { dir, env, cmd, stop };
}
