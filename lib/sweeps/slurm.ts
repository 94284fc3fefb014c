/**
 * The Slurm executor: one `sbatch --array` job per submission (several where the runs outnumber the cluster's
 * MaxArraySize), one array task per run, `--requeue`, resources and time limit from the sweep file (or flags). Each
 * task runs exec-child.js with its index into the submitted job list; Slurm's SIGTERM (scancel, requeue,
 * pre-emption, the time limit) makes it checkpoint, so a requeued task resumes, and with `requeueBefore` the SIGUSR2
 * Slurm sends before the time limit makes it checkpoint and requeue itself. The script quotes every value it interpolates. State is read with `scontrol show job` (it keeps
 * finished jobs for MinJobAge), and with `sacct` after that where the cluster keeps accounting.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { IapoError } from "../core/errors";
import { writeFileAtomic } from "../runs/atomic";
import { jobFor, type PlannedRun, type SweepJob } from "./plan";
import { EXEC_CHILD } from "./child";
import type { Executor, SubmitReport } from "./executor";
import type { SlurmResources, SweepFile } from "./spec";

interface Submission {
  jobId: string;
  jobsFile: string;
  runIds: string[];
}

/** One shell word: single-quoted, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function slurmDir(root: string, spec: SweepFile): string {
  return path.join(root, spec.name, "slurm");
}

function readSubmissions(dir: string): Submission[] {
  const file = path.join(dir, "submissions.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Submission[]) : [];
}

function slurmCommand(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new IapoError(`${cmd} not found: install slurm-client (Debian) and point SLURM_CONF at the cluster's slurm.conf`);
    throw new IapoError(`${cmd} ${args.join(" ")} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/**
 * The array script: resources from the sweep file, overridden by `flags` (both passed the schema's checks), and
 * every interpolated value quoted.
 */
export function arrayScript(spec: SweepFile, count: number, flags: SlurmResources, runsRoot: string, jobsFile: string): string {
  const resources = { ...spec.slurm, ...flags };
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${shellQuote(`iapo-${spec.name}`)}`,
    `#SBATCH --array=0-${count - 1}${resources.maxRunning ? `%${resources.maxRunning}` : ""}`,
    "#SBATCH --requeue",
    "#SBATCH --open-mode=append",
    ...(resources.cpusPerTask ? [`#SBATCH --cpus-per-task=${resources.cpusPerTask}`] : []),
    ...(resources.mem ? [`#SBATCH --mem=${shellQuote(resources.mem)}`] : []),
    ...(resources.time ? [`#SBATCH --time=${shellQuote(resources.time)}`] : []),
    ...(resources.partition ? [`#SBATCH --partition=${shellQuote(resources.partition)}`] : []),
    // B: signals the batch shell, which the exec below makes the run's own process
    ...(resources.requeueBefore ? [`#SBATCH --signal=B:USR2@${resources.requeueBefore}`] : []),
    "# one run per array task; SIGTERM (scancel, requeue, pre-emption) checkpoints it and a requeued task resumes;",
    "# SIGUSR2 (the time limit is near) checkpoints it and requeues the task",
    `exec ${[process.execPath, EXEC_CHILD, "--runs-root", runsRoot, "--jobs", jobsFile].map(shellQuote).join(" ")} --index "$SLURM_ARRAY_TASK_ID"`,
    "",
  ];
  return lines.join("\n");
}

/** Array task indices of a `ArrayTaskId=` value: "3", "0-3", "1,4-6", "0-7%2". */
function taskIndices(spec: string): number[] {
  return spec.split("%")[0].split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a)) return [];
    return Array.from({ length: (Number.isInteger(b) ? b : a) - a + 1 }, (_, i) => a + i);
  });
}

/** One array task as Slurm reports it. */
export interface SlurmTask {
  index: number;
  state: string;
  /** The node it runs or ran on; "" when none is assigned yet. */
  node: string;
}

/** Tasks in `scontrol -o show job JOB` output: one line per task, or per range of tasks still pending. */
export function parseScontrolTasks(text: string): SlurmTask[] {
  return text.split("\n").filter((l) => l.trim() !== "").flatMap((line) => {
    const field = (k: string): string => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(line)?.[1] ?? "";
    const node = [field("NodeList"), field("BatchHost")].find((n) => n !== "" && n !== "(null)") ?? "";
    return taskIndices(field("ArrayTaskId")).map((index) => ({ index, state: field("JobState"), node }));
  });
}

/**
 * Tasks in `sacct -j JOB -X -n -P -o JobID,State,NodeList` output (accounting, which keeps jobs scontrol has
 * forgotten): `812_3|COMPLETED|node1`, `812_[4-6%2]|PENDING|None assigned`, `812_7|CANCELLED by 0|node1`.
 */
export function parseSacctTasks(text: string, jobId: string): SlurmTask[] {
  return text.split("\n").filter((l) => l.trim() !== "").flatMap((line) => {
    const [id, state = "", node = ""] = line.split("|");
    const m = new RegExp(`^${jobId}_\\[?([0-9,%-]+)\\]?$`).exec(id.trim());
    if (!m) return [];
    const where = node.trim() === "None assigned" ? "" : node.trim();
    return taskIndices(m[1]).map((index) => ({ index, state: state.trim().split(" ")[0], node: where }));
  });
}

/**
 * The tasks of one submitted job: from `scontrol show job` while the controller keeps the job (MinJobAge after it
 * ends), else from `sacct` where the cluster keeps accounting; none when neither knows it (the run folders say
 * the rest).
 */
function submissionTasks(jobId: string): SlurmTask[] {
  try {
    return parseScontrolTasks(slurmCommand("scontrol", ["-o", "show", "job", jobId]));
  } catch {
    // forgotten by the controller
  }
  try {
    return parseSacctTasks(slurmCommand("sacct", ["-j", jobId, "-X", "-n", "-P", "-o", "JobID,State,NodeList"]), jobId);
  } catch {
    return []; // no accounting on this cluster
  }
}

/** State and node of every task Slurm still knows of, by run id. */
function taskStates(submissions: Submission[]): Map<string, { state: string; node: string; task: string }> {
  const out = new Map<string, { state: string; node: string; task: string }>();
  for (const s of submissions) {
    for (const t of submissionTasks(s.jobId)) {
      const id = s.runIds[t.index];
      if (id) out.set(id, { state: t.state, node: t.node, task: `${s.jobId}_${t.index}` });
    }
  }
  return out;
}

/** The cluster's default MaxArraySize: array indices 0..1000. */
const DEFAULT_MAX_ARRAY_SIZE = 1001;

/** Tasks one array may hold on a cluster whose `scontrol show config` says `MaxArraySize = M`: M (indices 0..M−1). */
export function parseMaxArraySize(config: string): number {
  const m = /^MaxArraySize\s*=\s*([0-9]+)/m.exec(config);
  const size = m ? Number(m[1]) : DEFAULT_MAX_ARRAY_SIZE;
  if (size < 1) throw new IapoError("this Slurm cluster takes no job arrays (MaxArraySize = 0); ask its admins, or use the bullmq executor");
  return size;
}

function maxArrayTasks(): number {
  let config = "";
  try {
    config = slurmCommand("scontrol", ["show", "config"]);
  } catch {
    // an older or locked-down scontrol: assume Slurm's default
  }
  return parseMaxArraySize(config);
}

const QUEUED_STATES = ["PENDING", "RUNNING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED", "COMPLETING"];

export function slurmExecutor(resources: SlurmResources = {}): Executor {
  return {
    name: "slurm",
    async submit(spec: SweepFile, runs: PlannedRun[], root: string): Promise<SubmitReport> {
      const dir = slurmDir(root, spec);
      const submissions = readSubmissions(dir);
      const states = taskStates(submissions);
      const report: SubmitReport = { submitted: [], skipped: [] };
      const todo = runs.filter((r) => {
        const t = states.get(r.id);
        if (t && QUEUED_STATES.includes(t.state)) report.skipped.push({ id: r.id, note: `already in Slurm job ${t.task} (${t.state})` });
        return !(t && QUEUED_STATES.includes(t.state));
      });
      if (todo.length === 0) return report;
      fs.mkdirSync(dir, { recursive: true });
      // a cluster takes arrays of at most MaxArraySize tasks: more runs go as several arrays
      const most = maxArrayTasks();
      const recorded = [...submissions];
      for (let start = 0; start < todo.length; start += most) {
        const chunk = todo.slice(start, start + most);
        const stem = `array-${Date.now()}-${randomBytes(3).toString("hex")}`;
        const jobsFile = path.join(dir, `${stem}.jobs.json`);
        const scriptFile = path.join(dir, `${stem}.sh`);
        const jobs: SweepJob[] = chunk.map((r) => jobFor(spec, r));
        writeFileAtomic(jobsFile, JSON.stringify(jobs, null, 2));
        writeFileAtomic(scriptFile, arrayScript(spec, jobs.length, resources, root, jobsFile));
        // the log path goes on the command line (no shell), not into the script
        const out = slurmCommand("sbatch", ["--parsable", `--output=${path.join(dir, "%A_%a.out")}`, scriptFile]).trim();
        const jobId = out.split(";")[0];
        if (!/^[0-9]+$/.test(jobId)) throw new IapoError(`sbatch answered "${out}", not a job id`);
        // recorded after each array, so an error in a later one leaves the earlier ones known (and not resubmitted)
        recorded.push({ jobId, jobsFile, runIds: chunk.map((r) => r.id) });
        writeFileAtomic(path.join(dir, "submissions.json"), JSON.stringify(recorded, null, 2));
        chunk.forEach((r, i) => report.submitted.push({ id: r.id, note: `Slurm task ${jobId}_${i}` }));
      }
      return report;
    },
    async engineStatus(spec: SweepFile, _runs: PlannedRun[], root: string): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const [id, t] of taskStates(readSubmissions(slurmDir(root, spec)))) out.set(id, `${t.task} ${t.state}${t.node ? ` on ${t.node}` : ""}`);
      return out;
    },
    async close(): Promise<void> {},
  };
}
