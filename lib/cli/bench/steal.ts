/**
 * The share of CPU time a hypervisor took from this machine (Linux's "steal": time a virtual CPU was ready to
 * run but the host ran something else). On a shared VM it decides how far timings move from run to run: it can
 * take a third of the CPU over a few seconds, and two-thread updates lose most when one of the two virtual CPUs
 * is taken. The bench prints it per suite, so a reader can tell a slow machine from slow code.
 */
import * as fs from "node:fs";

/** The aggregate "cpu" line of /proc/stat, in clock ticks since boot. */
export interface CpuTimes {
  /** Every state's ticks added up (user, nice, system, idle, iowait, irq, softirq, steal). */
  total: number;
  steal: number;
}

/**
 * Parses the aggregate line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal guest
 * guest_nice"); null where there is no such line or it has no steal column (kernels before 2.6.11). guest and
 * guest_nice are already counted in user and nice, so they are left out of the total.
 */
export function parseCpuTimes(procStat: string): CpuTimes | null {
  const line = procStat.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f) || f < 0)) return null;
  return { total: fields.reduce((sum, f) => sum + f, 0), steal: fields[7] };
}

/** This machine's CPU times now, or null off Linux. */
export function readCpuTimes(): CpuTimes | null {
  try {
    return parseCpuTimes(fs.readFileSync("/proc/stat", "utf8"));
  } catch {
    return null;
  }
}

/** Percent of all CPU time between two readings that the hypervisor took; null without two readings or ticks. */
export function stealPercent(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (!before || !after) return null;
  const total = after.total - before.total;
  if (total <= 0) return null;
  return (100 * (after.steal - before.steal)) / total;
}
