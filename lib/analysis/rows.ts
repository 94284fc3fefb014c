/** Building tidy analysis rows: the fields every row of an estimator shares, and a finiteness check before they are written. */
import { NonFiniteError } from "../core/errors";
import type { AnalysisRow, AnalysisValue } from "./estimator";

/** The fields every row of one estimator run shares. */
export interface RowBase {
  estimator: string;
  step: number;
  settings: Record<string, AnalysisValue>;
}

export function rowBase(estimator: string, step: number, settings: Record<string, AnalysisValue>): RowBase {
  return { estimator, step, settings };
}

/** Returns `rows`, or throws a NonFiniteError naming the first NaN/infinite field (nothing half-written is logged). */
export function checkFiniteRows(rows: AnalysisRow[]): AnalysisRow[] {
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === "number" && !Number.isFinite(v)) throw new NonFiniteError(`${r.estimator}: ${k} is ${v} at step ${r.step} (${String(r.kind ?? "")})`);
    }
  }
  return rows;
}
