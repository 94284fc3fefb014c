/**
 * Tables for notebooks: danfojs DataFrames (or plain records) shown as HTML, with a text fallback.
 * danfojs-node loads lazily (~1 s) through `danfo()`, so the library does not pay for it until asked.
 */
import type { DataFrame } from "danfojs-node";
import { showHtml } from "./display";
import type { Row } from "./spec";
import { escapeHtml } from "./html";

/** The danfojs-node module, loaded on first use. Notebooks get danfojs from here, not by their own import. */
export function danfo(): typeof import("danfojs-node") {
  return require("danfojs-node");
}

/** Builds a danfojs DataFrame from records (one object per row). */
export function toDataFrame(rows: readonly Row[]): DataFrame {
  if (rows.length === 0) throw new Error("toDataFrame: no rows");
  return new (danfo().DataFrame)(rows as Row[]);
}

function formatCell(v: unknown, digits: number): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return v === null || v === undefined ? "" : String(v);
}

/** Columns and rows of a frame or of records, as plain arrays. */
function tableOf(frame: DataFrame | readonly Row[]): { columns: string[]; rows: unknown[][] } {
  if (Array.isArray(frame)) {
    const columns = [...new Set(frame.flatMap((r) => Object.keys(r)))];
    return { columns, rows: frame.map((r) => columns.map((c) => r[c])) };
  }
  const df = frame as DataFrame;
  return { columns: df.columns, rows: df.values as unknown[][] };
}

/** An HTML table of a DataFrame or records, numbers shown with `digits` decimals. */
export function tableHtml(frame: DataFrame | readonly Row[], digits = 3): string {
  const { columns, rows } = tableOf(frame);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows
    .map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(formatCell(v, digits))}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table class="iapo-table">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A fixed-width text table, for consoles and the text/plain fallback. */
export function tableText(frame: DataFrame | readonly Row[], digits = 3): string {
  const { columns, rows } = tableOf(frame);
  const cells = [columns, ...rows.map((r) => r.map((v) => formatCell(v, digits)))];
  const widths = columns.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  return cells.map((r) => r.map((v, j) => String(v).padStart(widths[j])).join("  ")).join("\n");
}

/** Displays a DataFrame or records as a table in the notebook (text when not in a notebook). */
export function showTable(frame: DataFrame | readonly Row[], digits = 3): void {
  showHtml(tableHtml(frame, digits), tableText(frame, digits));
}
