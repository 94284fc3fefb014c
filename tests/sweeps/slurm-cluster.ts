/**
 * A real single-node Slurm cluster for tests: munged, slurmctld and slurmd in the foreground, every file (key,
 * sockets, state, spool, logs, slurm.conf) in a temporary folder, ports free on loopback. `stop()` cancels every
 * job and kills the daemons and any process still running from the folder.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, killGroup, start, tmp, type Started } from "./helpers";

export interface SlurmCluster {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command against this cluster. */
  cmd(name: string, args: string[]): string;
  stop(): void;
}

/** Kills (by pid) processes whose command line mentions `marker`: job steps Slurm forked outside our groups. */
function killByMarker(marker: string): void {
  for (const pid of fs.readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p))) {
    try {
      if (Number(pid) !== process.pid && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Starts the cluster, or throws saying which daemon failed and why (its log). */
export async function startSlurm(): Promise<SlurmCluster> {
  const dir = tmp("slurm");
  fs.chmodSync(dir, 0o755); // munged refuses a socket folder others cannot traverse
  const host = os.hostname().split(".")[0];
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const key = path.join(dir, "munge.key");
  const socket = path.join(dir, "munge.socket.2");
  for (const sub of ["state", "spool"]) fs.mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, "slurm.conf");
  fs.writeFileSync(conf, [
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
    "SchedulerParameters=sched_interval=1",
    "MinJobAge=300",
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
    `NodeName=${host} CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 State=UNKNOWN`,
    `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    "",
  ].join("\n"));
  const env = { SLURM_CONF: conf };
  const daemons: Started[] = [];
  const stop = (): void => {
    try {
      execFileSync("scancel", ["--full", "--user", os.userInfo().username], { env: { ...process.env, ...env }, stdio: "ignore", timeout: 5000 });
    } catch {
      // nothing to cancel, or the controller is down
    }
    for (const d of daemons) killGroup(d);
    killByMarker(dir);
  };
  const cmd = (name: string, args: string[]): string => execFileSync(name, args, { env: { ...process.env, ...env }, encoding: "utf8", timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
  const log = (f: string): string => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8").slice(-1500) : "");
  const wait = async (what: string, check: () => boolean, d: Started): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!check()) {
      if (d.proc.exitCode !== null || Date.now() > deadline) {
        stop();
        throw new Error(`${what} did not come up: ${d.output().slice(-1500)}${log(what + ".log")}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    execFileSync("mungekey", ["-c", "-k", key], { stdio: "pipe" });
    fs.chmodSync(key, 0o600);
  } catch (err) {
    throw new Error(`mungekey failed: ${(err as Error).message}`);
  }
  const munged = start("munged", ["-F", `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${dir}/munged.pid`, `--log-file=${dir}/munged.log`, `--seed-file=${dir}/munged.seed`]);
  daemons.push(munged);
  await wait("munged", () => fs.existsSync(socket), munged);
  const ctld = start("slurmctld", ["-D", "-c", "-f", conf], env);
  daemons.push(ctld);
  const pings = (): boolean => {
    try {
      return /UP/.test(cmd("scontrol", ["ping"]));
    } catch {
      return false;
    }
  };
  await wait("slurmctld", pings, ctld);
  const slurmd = start("slurmd", ["-D", "-f", conf], env);
  daemons.push(slurmd);
  await wait("slurmd", () => {
    try {
      return /State=IDLE/.test(cmd("scontrol", ["show", "node", host]));
    } catch {
      return false;
    }
  }, slurmd);
  return { dir, env, cmd, stop };
}
