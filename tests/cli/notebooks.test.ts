/**
 * The notebook runner end to end: real Jupyter (nbclient) driving the real tslab kernel, as a user runs it.
 * Every notebook in notebooks/ is executed at smoke scale into one report folder (so a new notebook is tested by
 * being added), its outputs are checked by MIME type and count, and the report it makes (pages and index) is then
 * opened in Chromium: every figure drawn, no console error, no broken link or image.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { listNotebooks } from "../../lib/cli/notebooks";
import { readReportEntry } from "../../lib/cli/report-index";
import { checkReportPages } from "./report-pages";

const root = projectRoot();
const cli = path.join(root, "dist", "lib", "cli", "main.js");
const VEGALITE = "application/vnd.vegalite.v5+json";

function iapo(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, ...env }, cwd: root });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "iapo-nb-"));
}

type Output = { output_type: string; data?: Record<string, unknown>; text?: string | string[] };

function outputsOf(name: string): Output[] {
  const nb = JSON.parse(fs.readFileSync(path.join(report, `${name}.ipynb`), "utf8"));
  return nb.cells.flatMap((c: { outputs?: Output[] }) => c.outputs ?? []);
}

/** What each notebook shows at smoke scale: vega-lite charts, other SVG figures (filmstrips), danfojs tables. */
const PROMISED: Record<string, { charts: number; pictures: number; tables: number }> = {
  "00-quickstart": { charts: 1, pictures: 0, tables: 1 },
  "01-sac-direct-vs-iterative": { charts: 2, pictures: 2, tables: 1 }, // Pendulum only at smoke: return and ΔJ; two filmstrips
  "02-tutorial-iterative-optimizer": { charts: 7, pictures: 0, tables: 1 },
  "03-amortization-gap-and-landscape": { charts: 4, pictures: 0, tables: 1 }, // Fig 1 and 14 landscapes, the gap over training, its Adam ascent; the gap table
  "04-multiple-estimates": { charts: 6, pictures: 0, tables: 2 }, // Fig 2 landscape and action clouds, Fig 4a, 4b, 12, 18; ΔJ per iteration and distance tables
  "05-value-bias-and-beta": { charts: 3, pictures: 0, tables: 2 }, // Fig 3a, 3b, evaluation return; value-bias and policy-change tables
  "06-performance": { charts: 6, pictures: 0, tables: 2 }, // Fig 5 per task from the committed logs (four); fresh Pendulum Fig 5 and Fig 10; final returns with SAC anchors, and per optimizer × Q architecture
  "07-test-time-optimization": { charts: 5, pictures: 0, tables: 1 }, // Fig 15 and 16 returns, J gain over training, J gain and return change against the budget; every measurement
  "08-iterations": { charts: 3, pictures: 0, tables: 2 }, // Fig 7 returns, Fig 17b gap, ΔJ per iteration; final returns and final gaps per k
  "09-adam-and-cem": { charts: 2, pictures: 0, tables: 1 }, // J against iterations (Fig 13) and against wall-clock time; the summary per optimizer
  "10-model-based": { charts: 4, pictures: 0, tables: 2 }, // Fig 8a returns, 8b planned trajectory, 8c J across iterations, 8d transfer; final returns and transfer returns
  "90-analyse-runs": { charts: 3, pictures: 0, tables: 3 }, // the runs notebooks 01 and 03 logged: IQM chart, curves of two tasks (Pendulum, PointReach)
};

/** One report folder and one data folder for the whole suite: notebook 90 analyses the runs notebook 01 logs. */
const report = tmpDir();
const dataDir = tmpDir();
const executed: string[] = [];

for (const name of listNotebooks()) {
  test(`notebook ${name} executes at smoke scale and writes .ipynb and .html`, { timeout: 30 * 60_000 }, () => {
    // runs a notebook trains go to a temporary data folder, not the developer's data/runs
    const r = iapo(["notebooks", name, "--scale", "smoke", "--out", report], { IAPO_DATA_DIR: dataDir });
    assert.equal(r.status, 0, r.stderr);
    executed.push(name);
    const errors = outputsOf(name).filter((o) => o.output_type === "error");
    assert.equal(errors.length, 0);
    assert.ok(fs.statSync(path.join(report, `${name}.html`)).size > 1000);
    const entry = readReportEntry(path.join(report, `${name}.ipynb`));
    assert.equal(entry.run?.scale, "smoke");
    assert.equal(entry.run?.status, "ok");
  });

  test(`notebook ${name} shows the charts, pictures and tables it promises`, () => {
    assert.ok(executed.includes(name), `${name} did not run above`);
    const outputs = outputsOf(name).filter((o) => o.data);
    const charts = outputs.filter((o) => VEGALITE in o.data!);
    const svgs = outputs.filter((o) => "image/svg+xml" in o.data!);
    const tables = outputs.filter((o) => /class="iapo-table"/.test(String(o.data!["text/html"] ?? "")));
    // every chart travels as the vega-lite spec (interactive in JupyterLab) plus the SVG static pages draw
    for (const c of charts) assert.match(String(c.data!["image/svg+xml"]), /^<svg/);
    const promised = PROMISED[name];
    if (promised) {
      assert.deepEqual(
        { charts: charts.length, pictures: svgs.length - charts.length, tables: tables.length },
        promised,
      );
    } else {
      assert.ok(charts.length > 0, `${name} shows no chart; every notebook shows its results (add it to PROMISED)`);
    }
  });
}

test("the report opens in Chromium: index and every page draw their figures, with no error or broken link", { timeout: 5 * 60_000 }, async () => {
  assert.ok(executed.length > 0, "no notebook ran above");
  const index = path.join(report, "index.html");
  assert.ok(fs.existsSync(index), "the runner wrote no index.html");
  const results = await checkReportPages(index);
  for (const r of results) assert.deepEqual(r.problems, [], `${r.page}: ${r.problems.join("; ")}`);
  const pages = new Map(results.map((r) => [r.page, r]));
  for (const name of executed) {
    const svgs = outputsOf(name).filter((o) => o.data && "image/svg+xml" in o.data).length;
    assert.equal(pages.get(`${name}.html`)?.figures, svgs, `${name}.html: figures drawn`);
  }
  // the index shows each notebook's first figure as its thumbnail
  assert.equal(pages.get("index.html")?.figures, executed.filter((n) => readReportEntry(path.join(report, `${n}.ipynb`)).thumbnail).length);
  const html = fs.readFileSync(index, "utf8");
  for (const name of executed) assert.match(html, new RegExp(`href="${name}\\.html"`));
});

test("the quickstart's page embeds its chart's SVG whole, not just its text", () => {
  const chart = outputsOf("00-quickstart").find((o) => o.data && VEGALITE in o.data);
  assert.ok(chart, "no vega-lite output");
  const html = fs.readFileSync(path.join(report, "00-quickstart.html"), "utf8");
  const embedded = /src="data:image\/svg\+xml;base64,([^"]+)"/.exec(html);
  assert.ok(embedded, "no SVG image in the page");
  assert.equal(Buffer.from(embedded[1], "base64").toString("utf8"), String(chart!.data!["image/svg+xml"]));
  assert.doesNotMatch(html, /<script[^>]+src=/, "the page loads scripts from elsewhere");
  assert.ok(outputsOf("00-quickstart").some((o) => ([] as string[]).concat(o.text ?? []).join("").includes("tensor backend:")), "backend not printed");
});

test("a failing cell makes the runner exit non-zero, name the cell and keep the partial outputs", { timeout: 10 * 60_000 }, () => {
  const out = tmpDir();
  const fixture = path.join(root, "tests", "fixtures", "failing.ipynb");
  const r = iapo(["notebooks", fixture, "--scale", "smoke", "--out", out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FAILED .*failing\.ipynb: code cell 2 of 3 \(cell index 2, id boom\)/);
  assert.match(r.stderr, /deliberate failure in fixture/);
  const nb = JSON.parse(fs.readFileSync(path.join(out, "failing.ipynb"), "utf8"));
  assert.match(JSON.stringify(nb.cells[1].outputs), /first cell ran/);
  assert.deepEqual(nb.cells[3].outputs, []);
  assert.ok(fs.existsSync(path.join(out, "failing.html")));
  // the index is written even so, and marks the notebook as failed
  assert.equal(readReportEntry(path.join(out, "failing.ipynb")).run?.status, "failed");
  assert.match(fs.readFileSync(path.join(out, "index.html"), "utf8"), /failed: the page shows the outputs up to the failing cell/);
});

test("an unknown notebook name is a clear error listing the known ones", () => {
  const r = iapo(["notebooks", "99-nope", "--out", tmpDir()]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown notebook "99-nope"; known: 00-quickstart/);
});

test("an unknown scale is a clear error, from the flag or from IAPO_SCALE", () => {
  const r1 = iapo(["notebooks", "00-quickstart", "--scale", "huge"]);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /--scale: unknown scale "huge"; expected one of smoke, quick, paper/);
  const r2 = iapo(["notebooks", "00-quickstart"], { IAPO_SCALE: "tiny" });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /IAPO_SCALE: unknown scale "tiny"/);
});

test("the CLI refuses unknown commands and options", () => {
  assert.match(iapo(["trane"]).stderr, /unknown command "trane"/);
  assert.match(iapo(["notebooks", "--bogus"]).stderr, /unknown option --bogus/);
  assert.match(iapo(["notebooks"]).stderr, /name the notebooks to run or pass --all/);
});
