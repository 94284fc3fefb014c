/**
 * The report's front page, `reports/index.html`: one card per executed notebook in the folder, linking its HTML
 * page, with its title, the scale it ran at, its run time and status, and a thumbnail of its first figure.
 * Everything is read back from the executed notebooks (`metadata.iapo` is written by scripts/execute_notebook.py),
 * so the page describes what is on disk, and a notebook executed alone updates its card without rerunning the rest.
 * The thumbnails are the figures themselves as data-URI images: the page needs no other file and no network.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CorruptFileError } from "../core/errors";
import { formatDuration } from "../core/progress";
import { escapeHtml } from "../plots/html";

/** What the notebook runner records about one execution. */
export interface NotebookRunInfo {
  scale: string;
  /** "ok", "failed" (a cell raised) or "kernel failed". */
  status: string;
  /** Wall-clock seconds from kernel start to export. */
  seconds: number;
  /** ISO 8601 UTC time of the export. */
  finished: string;
}

export interface ReportEntry {
  /** File stem: `<stem>.html` and `<stem>.ipynb` in the report folder. */
  stem: string;
  /** The notebook's first Markdown heading (its stem when it has none). */
  title: string;
  run: NotebookRunInfo | null;
  /** The first figure the notebook drew, as a data URI (SVG or PNG), or null when it drew none. */
  thumbnail: string | null;
}

interface NotebookJson {
  metadata?: { iapo?: NotebookRunInfo };
  cells?: { cell_type: string; source: string | string[]; outputs?: { data?: Record<string, string | string[]> }[] }[];
}

const joined = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join("") : (s ?? ""));

/** Reads one executed notebook's card. */
export function readReportEntry(ipynbPath: string): ReportEntry {
  let nb: NotebookJson;
  try {
    nb = JSON.parse(fs.readFileSync(ipynbPath, "utf8")) as NotebookJson;
  } catch (e) {
    throw new CorruptFileError(`${ipynbPath}: not a readable notebook (${(e as Error).message})`);
  }
  const stem = path.basename(ipynbPath, ".ipynb");
  const cells = nb.cells ?? [];
  let title = stem;
  for (const cell of cells.filter((c) => c.cell_type === "markdown")) {
    const heading = /^#+\s+(.+)$/m.exec(joined(cell.source));
    if (heading) {
      title = heading[1].trim();
      break;
    }
  }
  let thumbnail: string | null = null;
  for (const out of cells.flatMap((c) => c.outputs ?? [])) {
    const svg = out.data?.["image/svg+xml"];
    const png = out.data?.["image/png"];
    if (svg !== undefined) thumbnail = `data:image/svg+xml;base64,${Buffer.from(joined(svg), "utf8").toString("base64")}`;
    else if (png !== undefined) thumbnail = `data:image/png;base64,${joined(png).replace(/\s/g, "")}`;
    if (thumbnail !== null) break;
  }
  return { stem, title, run: nb.metadata?.iapo ?? null, thumbnail };
}

function card(e: ReportEntry): string {
  const href = encodeURI(`${e.stem}.html`);
  const run = e.run;
  const facts = run
    ? `scale <b>${escapeHtml(run.scale || "?")}</b> · ran ${escapeHtml(formatDuration(run.seconds))} · ${escapeHtml(run.finished)}`
    : "not executed by the runner";
  const status = run && run.status !== "ok" ? `<p class="failed">${escapeHtml(run.status)}: the page shows the outputs up to the failing cell</p>` : "";
  const thumb = e.thumbnail
    ? `<img class="thumb" src="${e.thumbnail}" alt="first figure of ${escapeHtml(e.title)}">`
    : `<div class="thumb none">no figure</div>`;
  return `<a class="card" href="${href}">${thumb}<h2>${escapeHtml(e.title)}</h2><p>${facts}</p>${status}</a>`;
}

/** The index page for the given entries (in the order given). */
export function reportIndexHtml(entries: readonly ReportEntry[]): string {
  const total = entries.reduce((a, e) => a + (e.run?.seconds ?? 0), 0);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>iapo report</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1em; }
.card { display: block; border: 1px solid #ccc; border-radius: 6px; padding: 0.8em; color: inherit; text-decoration: none; }
.card:hover { border-color: #4c78a8; }
.card h2 { font-size: 1.05em; margin: 0.5em 0 0.3em; }
.card p { margin: 0.2em 0; font-size: 0.9em; color: #555; }
.thumb { width: 100%; height: 190px; object-fit: contain; background: #fff; }
.none { display: flex; align-items: center; justify-content: center; color: #999; background: #f6f6f6; }
.failed { color: #b00 !important; }
</style></head>
<body>
<h1>iapo report</h1>
<p>${entries.length} executed notebook${entries.length === 1 ? "" : "s"}, ${escapeHtml(formatDuration(total))} of run time in all.
Each page shows a notebook's prose, code and outputs as they were when it ran; every figure is drawn from the page itself, offline.</p>
<div class="cards">
${entries.map(card).join("\n")}
</div>
</body></html>
`;
}

/** Writes `<dir>/index.html` over every executed notebook in `dir` (name order); returns its path. */
export function writeReportIndex(dir: string): string {
  const entries = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && fs.existsSync(path.join(dir, f.replace(/\.ipynb$/, ".html"))))
    .sort()
    .map((f) => readReportEntry(path.join(dir, f)));
  const file = path.join(dir, "index.html");
  fs.writeFileSync(file, reportIndexHtml(entries));
  return file;
}
