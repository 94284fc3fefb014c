/**
 * `iapo bench [--json] [--quick] [--only suite,...] [--save]`: runs every benchmark suite in one process and
 * prints a table for people, or (with --json) one JSON document for scripts; --save also keeps the run as a record
 * in bench/results/ (./save.ts). Suites register in SUITES below.
 */
import * as os from "node:os";
import { IapoError } from "../../core/errors";
import type { BenchFigure, BenchOptions, BenchSuite } from "./types";
import { envsSuite } from "./envs";
import { backendSuite } from "./backend";
import { pytorchSuite } from "./pytorch";
import { trainingSuite } from "./training";
import { analysisSuite } from "./analysis";
import { valueBiasSuite } from "./value-bias";
import { sweepsSuite } from "./sweeps";
import { readCpuTimes, stealPercent } from "./steal";
import { makeBenchRecord, saveBenchRecord } from "./save";

/** Every suite, in the order they run. Each module adds itself here. */
export const SUITES: BenchSuite[] = [backendSuite, pytorchSuite, envsSuite, trainingSuite, analysisSuite, valueBiasSuite, sweepsSuite];

interface BenchArgs extends BenchOptions {
  json: boolean;
  only: string[] | null;
  save: boolean;
}

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { json: false, quick: false, only: null, save: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--quick") args.quick = true;
    else if (a === "--save") args.save = true;
    else if (a === "--only") {
      const v = argv[++i];
      if (!v) throw new IapoError("--only needs a comma-separated list of suites");
      args.only = v.split(",").map((s) => s.trim());
    } else throw new IapoError(`unknown option ${a} for "iapo bench"; options: --json --quick --only suite,... --save`);
  }
  const known = SUITES.map((s) => s.name);
  for (const s of args.only ?? []) {
    if (!known.includes(s)) throw new IapoError(`unknown benchmark suite "${s}"; known: ${known.join(", ")}`);
  }
  return args;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The figures as an aligned text table, one block per suite. */
export function formatTable(figures: BenchFigure[]): string {
  const header = ["suite", "measure", "variant", "value", "unit", "note"];
  const rows = figures.map((f) => [f.suite, f.name, f.variant, formatValue(f.value), f.unit, f.note ?? ""]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((c, j) => (j === 3 ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export async function runBench(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const suites = SUITES.filter((s) => args.only === null || args.only.includes(s.name));
  const figures: BenchFigure[] = [];
  const started = new Date();
  const cpuAtStart = readCpuTimes();
  for (const suite of suites) {
    if (!args.json) console.error(`bench: ${suite.name}: ${suite.description}`);
    const before = readCpuTimes();
    figures.push(...(await suite.run({ quick: args.quick })));
    const steal = stealPercent(before, readCpuTimes());
    if (steal !== null) {
      figures.push({ suite: suite.name, name: "CPU time taken by the hypervisor (steal)", variant: "during this suite", value: steal, unit: "%", note: "other guests on the host; timings above lose it" });
    }
  }
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version };
  if (args.json) {
    console.log(JSON.stringify({ machine, seconds: (Date.now() - started.getTime()) / 1000, figures }, null, 2));
  } else {
    console.log(`machine: ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}`);
    console.log(formatTable(figures));
  }
  if (args.save) {
    const record = makeBenchRecord(argv, started, new Date(), figures, stealPercent(cpuAtStart, readCpuTimes()));
    console.error(`bench: saved ${saveBenchRecord(record)}`);
  }
  return 0;
}
