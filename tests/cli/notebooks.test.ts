/**
 * The notebook runner end to end: real Jupyter (nbclient) driving the real tslab kernel, as a user runs it.
 * Every notebook in notebooks/ is executed at smoke scale, so a new notebook is tested by being added.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../lib/core/paths";
import { listNotebooks } from "../../lib/cli/notebooks";

const root = projectRoot();
const cli = path.join(root, "dist", "lib", "cli", "main.js");

function iapo(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, ...env }, cwd: root });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "iapo-nb-"));
}

/** Where each notebook's executed copy went, for the tests below that inspect its outputs. */
const executed = new Map<string, string>();

for (const name of listNotebooks()) {
  test(`notebook ${name} executes at smoke scale and writes .ipynb and .html`, { timeout: 30 * 60_000 }, () => {
    const out = tmpDir();
    executed.set(name, out);
    // runs a notebook trains go to a temporary data folder, not the developer's data/runs
    const r = iapo(["notebooks", name, "--scale", "smoke", "--out", out], { IAPO_DATA_DIR: tmpDir() });
    assert.equal(r.status, 0, r.stderr);
    const nb = JSON.parse(fs.readFileSync(path.join(out, `${name}.ipynb`), "utf8"));
    const errors = nb.cells.flatMap((c: { outputs?: { output_type: string }[] }) => (c.outputs ?? []).filter((o) => o.output_type === "error"));
    assert.equal(errors.length, 0);
    assert.ok(fs.statSync(path.join(out, `${name}.html`)).size > 1000);
  });
}

test("the quickstart shows a vega-lite chart (spec + SVG in one output), a table and the backend", () => {
  const out = executed.get("00-quickstart");
  assert.ok(out, "the quickstart did not run above");
  const nb = JSON.parse(fs.readFileSync(path.join(out, "00-quickstart.ipynb"), "utf8"));
  const outputs = nb.cells.flatMap((c: { outputs?: object[] }) => c.outputs ?? []) as { data?: Record<string, unknown>; text?: string[] }[];
  const chart = outputs.find((o) => o.data && "application/vnd.vegalite.v5+json" in o.data);
  assert.ok(chart, "no vega-lite output");
  assert.match(String(chart!.data!["image/svg+xml"]), /^<svg/);
  assert.ok(outputs.some((o) => o.data && /iapo-table/.test(String(o.data["text/html"]))), "no table output");
  assert.ok(outputs.some((o) => (o.text ?? []).join("").includes("tensor backend:")), "backend not printed");
  const html = fs.readFileSync(path.join(out, "00-quickstart.html"), "utf8");
  assert.match(html, /<svg/);
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
