// node --test reporter: node's own spec output, plus a table of each test file's wall time (its process start
// included) printed just before the runner's closing summary ("ℹ tests N", "ℹ pass N", "ℹ fail N", ...), so the
// summary (and node's list of failing tests after it) stays where CI and people look for it: at the end.
import { spec } from "node:test/reporters";

// `spec` is a lazy factory whose instances are node's SpecReporter Transform; extend that class so every event
// still goes through node's own formatting.
const SpecReporter = Object.getPrototypeOf(new spec()).constructor;

/** Seconds per file as a table, slowest first, with the total; paths relative to `root`. */
export function formatFileTimes(times, root = "") {
  const rows = [...times].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  const name = (file) => (root && file.startsWith(root) ? file.slice(root.length).replace(/^\//, "") : file);
  const lines = rows.map(([file, ms]) => `${(ms / 1000).toFixed(1).padStart(7)} s  ${name(file)}`);
  const sum = `${(total / 1000).toFixed(1).padStart(7)} s  all ${rows.length} files, summed`;
  return ["time per test file, slowest first:", ...lines, sum, ""].join("\n");
}

export default class FileTimesReporter extends SpecReporter {
  constructor() {
    super();
    /** file path → ms, from the runner's per-file test (name = file path, nesting 0). */
    this.fileTimes = new Map();
    this.printed = false;
  }

  _transform(event, encoding, callback) {
    const d = event.data ?? {};
    const fileLevel = d.nesting === 0 && typeof d.file === "string" && d.name === d.file;
    if (fileLevel && ["test:complete", "test:pass", "test:fail"].includes(event.type) && d.details?.duration_ms !== undefined) {
      this.fileTimes.set(d.file, d.details.duration_ms);
    }
    // the closing summary starts with the top-level "tests N" diagnostic
    if (!this.printed && event.type === "test:diagnostic" && d.nesting === 0 && /^tests \d+$/.test(String(d.message))) {
      this.printed = true;
      if (this.fileTimes.size > 0) this.push(formatFileTimes(this.fileTimes, process.env.IAPO_TEST_TIMES_ROOT ?? "") + "\n");
    }
    super._transform(event, encoding, callback);
  }
}
