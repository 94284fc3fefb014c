/**
 * `iapo bench --save`: one bench run kept as data, one JSON file per run under bench/results/, named
 * `<ISO start time>_<short commit>.json`. Figures on a shared VM move with the host's load (the steal share), so
 * a figure means little without when, on which code and machine, and under how much steal it was taken; the record
 * holds all of that beside every figure, and docs quote the files instead of keeping a history in prose.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IapoError } from "../../core/errors";
import { projectRoot } from "../../core/paths";
import { collectProvenance } from "../../runs/provenance";
import type { BenchFigure } from "./types";

/** Version of the record's layout; a reader refuses files of a later one. */
export const BENCH_RECORD_SCHEMA = 1;

/**
 * One bench run. A field the run did not record (runs transcribed from older notes) is null, never guessed;
 * `absent` names those fields so a reader need not infer it.
 */
export interface BenchRecord {
  schema: number;
  /** ISO time the run started (UTC), or only its day ("2026-11-21") where the time was not recorded. */
  date: string;
  /** ISO time it ended; null where not recorded. */
  finished: string | null;
  /** `git rev-parse HEAD` (with "-dirty" when tracked files had changes); null where not recorded. */
  commit: string | null;
  /** The arguments after `iapo bench`, e.g. ["--only", "backend,pytorch"]; null where not recorded. */
  args: string[] | null;
  machine: {
    cpuModel: string | null;
    cpus: number | null;
    node: string | null;
    platform: string | null;
    /** Free-text description where the model was not recorded, e.g. "shared 2-core AVX-512 VM". */
    description?: string;
  };
  /** Percent of all CPU time the hypervisor took over the whole run (./steal.ts); null where not recorded. */
  stealPercent: number | null;
  /** Wall-clock seconds of the run; null where not recorded. */
  seconds: number | null;
  figures: BenchFigure[];
  /** Dotted names of the fields above that are null because the run did not record them. */
  absent: string[];
  /** How the record was made when not written by `--save` (e.g. transcribed from notes), and what is inferred. */
  provenance?: string;
}

/** Where records live: `<project root>/bench/results`. */
export function benchResultsDir(): string {
  return path.join(projectRoot(), "bench", "results");
}

/** `2026-11-22T07-23-05Z_b4ef8dd.json`: sorts by time; colons left out so every file system takes the name. */
export function benchRecordFileName(record: Pick<BenchRecord, "date" | "commit">): string {
  const when = new Date(record.date);
  if (Number.isNaN(when.getTime())) throw new IapoError(`bench record has no valid start time: ${JSON.stringify(record.date)}`);
  const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(record.date);
  const stamp = dayOnly ? record.date : when.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
  const commit = record.commit ? record.commit.slice(0, 7) + (record.commit.endsWith("-dirty") ? "-dirty" : "") : "nocommit";
  return `${stamp}_${commit}.json`;
}

/** The record of a run that just ended, from what `runBench` measured. */
export function makeBenchRecord(args: string[], started: Date, ended: Date, figures: BenchFigure[], stealPercent: number | null): BenchRecord {
  const p = collectProvenance();
  const record: BenchRecord = {
    schema: BENCH_RECORD_SCHEMA,
    date: started.toISOString(),
    finished: ended.toISOString(),
    commit: p.gitCommit,
    args,
    machine: { cpuModel: p.cpu, cpus: p.cpus, node: p.node, platform: p.platform },
    stealPercent,
    seconds: (ended.getTime() - started.getTime()) / 1000,
    figures,
    absent: [],
  };
  record.absent = absentFields(record);
  return record;
}

/** Dotted names of the record's null fields. */
export function absentFields(record: BenchRecord): string[] {
  const out: string[] = [];
  for (const key of ["finished", "commit", "args", "stealPercent", "seconds"] as const) if (record[key] === null) out.push(key);
  for (const key of ["cpuModel", "cpus", "node", "platform"] as const) if (record.machine[key] === null) out.push(`machine.${key}`);
  return out;
}

/**
 * Writes the record as `<dir>/<benchRecordFileName>` (creating dir) and returns the path. A second run in the same
 * second on the same commit gets "-2", "-3", ...: a record is never overwritten.
 */
export function saveBenchRecord(record: BenchRecord, dir = benchResultsDir()): string {
  fs.mkdirSync(dir, { recursive: true });
  const name = benchRecordFileName(record);
  let file = path.join(dir, name);
  for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, name.replace(/\.json$/, `-${n}.json`));
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + "\n", { flag: "wx" });
  return file;
}

/** Reads and checks one record; a malformed file fails naming the file and the field. */
export function readBenchRecord(file: string): BenchRecord {
  let r: unknown;
  try {
    r = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new IapoError(`cannot read bench record ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const bad = (what: string): never => {
    throw new IapoError(`bench record ${file}: ${what}`);
  };
  if (typeof r !== "object" || r === null) return bad("not a JSON object");
  const rec = r as Partial<BenchRecord>;
  if (rec.schema !== BENCH_RECORD_SCHEMA) bad(`schema ${JSON.stringify(rec.schema)}, expected ${BENCH_RECORD_SCHEMA}`);
  if (typeof rec.date !== "string" || Number.isNaN(new Date(rec.date).getTime())) bad("date is not an ISO time");
  if (!rec.machine || typeof rec.machine !== "object") bad("machine missing");
  if (!Array.isArray(rec.absent)) bad("absent is not a list");
  if (!Array.isArray(rec.figures)) bad("figures is not a list");
  rec.figures!.forEach((f, i) => {
    const ok = typeof f?.suite === "string" && typeof f.name === "string" && typeof f.variant === "string" && typeof f.unit === "string" && typeof f.value === "number" && Number.isFinite(f.value);
    if (!ok) bad(`figure ${i} needs suite, name, variant, unit and a finite value: ${JSON.stringify(f)}`);
  });
  for (const key of absentFields(rec as BenchRecord)) if (!rec.absent!.includes(key)) bad(`${key} is null but not listed in absent`);
  return rec as BenchRecord;
}
