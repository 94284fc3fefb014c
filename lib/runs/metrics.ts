/**
 * Metrics as JSON lines (`metrics.jsonl`): one object per logged event, always with `step` (environment steps
 * so far) and `time/wall_s`; other keys are prefixed by what they describe (`train/…`, `eval/…`, `time/…`),
 * the way CleanRL and SB3 log. Any tool reads it (pandas `read_json(lines=True)`, danfojs, jq).
 * Rows are appended and flushed as they are written, so a killed run loses nothing already logged.
 */
import * as fs from "node:fs";
import { CorruptFileError } from "../core/errors";

/** One logged event. Values are numbers (null where a value was not finite) or short strings. */
export interface MetricRow {
  step: number;
  [key: string]: number | string | null;
}

export class MetricsWriter {
  private fd: number;
  /** Rows in the file, including those present before this writer opened it. */
  rows: number;

  /** Opens `file` for appending; `existingRows` is how many complete rows it already holds. */
  constructor(readonly file: string, existingRows = 0) {
    this.fd = fs.openSync(file, "a");
    this.rows = existingRows;
  }

  write(row: MetricRow): void {
    if (!Number.isFinite(row.step)) throw new TypeError(`metrics row without a finite step: ${JSON.stringify(row)}`);
    fs.writeSync(this.fd, JSON.stringify(row) + "\n");
    this.rows++;
  }

  /** Forces written rows to disk (called before every checkpoint). */
  sync(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface ReadMetricsResult {
  rows: MetricRow[];
  /** True when the last line was cut short (the writer was killed mid-line); that line is dropped. */
  truncatedTail: boolean;
}

/**
 * Reads a metrics file. A partial last line (a run killed mid-write) is dropped and reported; a damaged line
 * anywhere else is an error naming the file and line, since silently skipping it would hide lost data.
 */
export function readMetricsFile(file: string): ReadMetricsResult {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const lines = text.split("\n");
  const endsClean = text.length === 0 || text.endsWith("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const rows: MetricRow[] = [];
  let truncatedTail = false;
  for (let i = 0; i < lines.length; i++) {
    const isLast = i === lines.length - 1;
    let row: unknown;
    try {
      row = JSON.parse(lines[i]);
    } catch {
      if (isLast && !endsClean) {
        truncatedTail = true;
        break;
      }
      throw new CorruptFileError(`${file}: line ${i + 1} is not valid JSON: ${lines[i].slice(0, 80)}`);
    }
    if (row === null || typeof row !== "object" || typeof (row as MetricRow).step !== "number") {
      throw new CorruptFileError(`${file}: line ${i + 1} has no numeric "step": ${lines[i].slice(0, 80)}`);
    }
    rows.push(row as MetricRow);
  }
  return { rows, truncatedTail };
}
