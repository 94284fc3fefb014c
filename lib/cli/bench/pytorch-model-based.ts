/**
 * PyTorch beside our SAC updates with model-based values (Eq. 13, h = 2, Table 7's model, the distilled rollout
 * policy; direct and iterative with 5 iterations) in the same bench run: one long-lived script process
 * (scripts/bench/pytorch_sac_update.py --serve, the work itself in model_based_torch.py) and our agents on each
 * path they can run on (the fused native path where the addon is, and the tfjs path), timed in alternating
 * rounds (ours, then PyTorch's; the order flips every round) so all see the same moments of a shared machine;
 * all at one thread. The figure is PyTorch ms / ours ms for each of our paths, the target at least 1.5x (as the
 * model-free updates). For the iterative update PyTorch is timed twice: with the tfjs path's passes (every J
 * kept in the graph and differentiated again for the loss) and with one backward per J, the fused path's form.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as readline from "node:readline";
import { SacAgent } from "../../agents/sac/agent";
import { fusedSacUpdatesEnabled, setFusedSacUpdates } from "../../agents/sac/fused-update";
import { initBackend } from "../../backend/select";
import { activeAddon } from "../../backend/wasm-kernels";
import { tf } from "../../backend/tf";
import { IapoError } from "../../core/errors";
import { Rng } from "../../core/rng";
import { median } from "../../core/stats";
import type { BenchFigure } from "./types";
import { BENCH_BATCH, BENCH_SHAPES, benchReplay, modelBasedVariants, warmUp } from "./updates";

/** The target of every ratio below: PyTorch's time at least 1.5x ours. */
export const TARGET_RATIO = 1.5;

/** Arguments of the script's serving mode. */
export function serveArgs(script: string, threads: number, quick: boolean): string[] {
  return [script, "--serve", "--threads", String(threads), ...(quick ? ["--quick"] : [])];
}

/** One line of the script's answers: the greeting, an agent ready, or the ms of a round's updates. */
export type ServeReply =
  | { kind: "hello"; torch: string; threads: number }
  | { kind: "ready"; key: string }
  | { kind: "ms"; ms: number[] };

/** Parses one answer line; an error answer or anything else than the three forms is an IapoError naming `where`. */
export function parseServeReply(line: string, where: string): ServeReply {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new IapoError(`${where} answered a line that is not JSON: ${line.slice(0, 300)}`);
  }
  if (typeof doc !== "object" || doc === null) throw new IapoError(`${where} answered ${line.slice(0, 300)}, not a JSON object`);
  if (typeof doc.error === "string") throw new IapoError(`${where} refused: ${doc.error}`);
  if (typeof doc.torch === "string" && typeof doc.threads === "number") return { kind: "hello", torch: doc.torch, threads: doc.threads };
  if (typeof doc.ready === "string") return { kind: "ready", key: doc.ready };
  if (Array.isArray(doc.ms) && doc.ms.length > 0 && doc.ms.every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0)) {
    return { kind: "ms", ms: doc.ms as number[] };
  }
  throw new IapoError(`${where} answered ${line.slice(0, 300)}; want {torch, threads}, {ready} or {ms: [finite ms, ...]}`);
}

/** One update timed on both sides: our ms and each PyTorch form's ms, all rounds together. */
export interface SideBySide {
  name: string;
  ours: number[];
  torch: Array<{ label: string; ms: number[] }>;
}

/**
 * ms figures for each side and the ratio PyTorch median / our median per PyTorch form, with the target; `path`
 * names our side in the ratio's name where several of ours are timed.
 */
export function sideBySideFigures(m: SideBySide, variants: { ours: string; torch: string }, rounds: number, path?: string): BenchFigure[] {
  const ours = median(m.ours);
  const figures: BenchFigure[] = [{ suite: "pytorch", name: m.name, variant: variants.ours, value: ours, unit: "ms/update", note: `${m.ours.length} updates in ${rounds} alternating rounds` }];
  for (const t of m.torch) {
    const variant = `${variants.torch}${t.label ? `, ${t.label}` : ""}`;
    figures.push({ suite: "pytorch", name: m.name, variant, value: median(t.ms), unit: "ms/update", note: `${t.ms.length} updates in ${rounds} alternating rounds` });
    figures.push({ suite: "pytorch", name: `${m.name}: PyTorch / ours${path ? ` (${path})` : ""}`, variant, value: median(t.ms) / ours, unit: "x", note: `target >= ${TARGET_RATIO}x` });
  }
  return figures;
}

/** The script process in serving mode: one question, one answer line. */
class ServedScript {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  private stderr = "";
  /** Settles when the process has exited and its output is read (or it could not start). */
  private readonly exited: Promise<void>;

  constructor(python: string, args: string[], private readonly where: string) {
    this.child = spawn(python, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin?.on("error", () => undefined); // a dead process: the missing answer reports it
    readline.createInterface({ input: this.child.stdout! }).on("line", (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    // "close" comes after every line and all of stderr, so a missing answer can quote the stderr
    this.exited = new Promise((resolve) => {
      this.child.on("error", (err) => {
        this.stderr += `could not start: ${err.message}`;
        this.end();
        resolve();
      });
      this.child.on("close", () => {
        this.end();
        resolve();
      });
    });
  }

  private end(): void {
    this.ended = true;
    const w = this.waiting;
    this.waiting = null;
    w?.(null);
  }

  /** The next answer line, parsed; an IapoError with the script's stderr when it ended instead. */
  async next(): Promise<ServeReply> {
    const line = this.lines.shift() ?? (this.ended ? null : await new Promise<string | null>((resolve) => (this.waiting = resolve)));
    if (line === null) {
      const tail = this.stderr.trimEnd().split("\n").slice(-12).join("\n");
      throw new IapoError(`${this.where} ended without answering; its stderr:${tail ? `\n${tail}` : " (none)"}`);
    }
    return parseServeReply(line, this.where);
  }

  async ask(question: string, want: ServeReply["kind"]): Promise<ServeReply> {
    this.child.stdin?.write(`${question}\n`);
    const reply = await this.next();
    if (reply.kind !== want) throw new IapoError(`${this.where} answered "${question}" with ${JSON.stringify(reply)}, want a ${want} answer`);
    return reply;
  }

  /** Asks the script to quit and waits for it to exit. */
  async close(): Promise<void> {
    this.child.stdin?.end("quit\n");
    await this.exited;
  }
}

/** Our side of one variant: set up (warm-up included), then ms of each of `n` updates, then cleanup. */
export interface OurSide {
  start(optimizer: "direct" | "iterative"): void;
  time(n: number): number[];
  stop(): void;
  /** Where our updates run, e.g. "ours: tfjs path on wasm-native, 1 thread". */
  label: string;
}

/**
 * Our agents with model-based values on the active backend, on one update path ("fused": the hand-written native
 * update, which needs the addon; "tfjs": autodiff), at one BLAS thread where the addon is.
 */
export function agentSide(backendName: string, quick: boolean, path: "fused" | "tfjs"): OurSide {
  const rng = new Rng(0);
  const buffer = benchReplay(rng);
  let agent: SacAgent | null = null;
  const addon = activeAddon();
  const threadsBefore = addon?.blasInfo().threads ?? 1;
  /** Runs `fn` with the agents' update path switched to this side's. */
  const onPath = <T>(fn: () => T): T => {
    const was = fusedSacUpdatesEnabled();
    setFusedSacUpdates(path === "fused");
    try {
      return fn();
    } finally {
      setFusedSacUpdates(was);
    }
  };
  return {
    label: `ours: ${path} path on ${backendName}, 1 thread`,
    start(optimizer) {
      const { config } = modelBasedVariants().find((v) => v.optimizer === optimizer)!;
      addon?.setThreads(1);
      agent = SacAgent.create(config, BENCH_SHAPES, rng.fork());
      const a = agent;
      onPath(() => {
        const at = a.updatePath();
        if (at.path !== path) throw new IapoError(`bench: the model-based ${optimizer} agent runs on the ${at.path} path, not the ${path} path (${at.why})`);
        warmUp(a, buffer, rng, quick);
      });
    },
    time(n) {
      return onPath(() => {
        const times: number[] = [];
        for (let i = 0; i < n; i++) {
          const batch = buffer.sample(BENCH_BATCH, rng);
          const t0 = performance.now();
          agent!.update(batch);
          times.push(performance.now() - t0);
        }
        return times;
      });
    },
    stop() {
      agent?.dispose();
      agent = null;
      addon?.setThreads(threadsBefore);
    },
  };
}

/** Our sides on the active backend: the fused path where the addon is, then the tfjs path. */
export async function ourSides(quick: boolean): Promise<OurSide[]> {
  const backend = await initBackend();
  const paths: Array<"fused" | "tfjs"> = activeAddon() && tf.getBackend() === "wasm" ? ["fused", "tfjs"] : ["tfjs"];
  return paths.map((p) => agentSide(backend.name, quick, p));
}

/** The served PyTorch agents timed beside each of our variants. */
const SERVED: Array<{ optimizer: "direct" | "iterative"; torch: Array<{ key: string; label: string }> }> = [
  { optimizer: "direct", torch: [{ key: "mb-direct", label: "" }] },
  { optimizer: "iterative", torch: [{ key: "mb-iterative", label: "" }, { key: "mb-iterative-reuse", label: "one backward per J (fused form)" }] },
];

/**
 * Times every model-based variant on both sides in alternating rounds (quick: 3 rounds of 2 updates, else 8 of
 * 4) and returns the figures. `ours` defaults to ourSides (tests pass their own).
 */
export async function measureModelBasedSideBySide(options: { python: string; script: string; quick: boolean; ours?: OurSide | OurSide[] }): Promise<BenchFigure[]> {
  const rounds = options.quick ? 3 : 8;
  const perRound = options.quick ? 2 : 4;
  const args = serveArgs(options.script, 1, options.quick);
  const script = new ServedScript(options.python, args, `PyTorch benchmark script ${options.script} (${[options.python, ...args].join(" ")})`);
  const sides = options.ours ? [options.ours].flat() : await ourSides(options.quick);
  const figures: BenchFigure[] = [];
  try {
    const hello = await script.next();
    if (hello.kind !== "hello") throw new IapoError(`PyTorch benchmark script ${options.script} began with ${JSON.stringify(hello)}, want its versions`);
    const torchVariant = `PyTorch ${hello.torch}, ${hello.threads} thread${hello.threads === 1 ? "" : "s"}`;
    const names = new Map(modelBasedVariants().map((v) => [v.optimizer, v.name]));
    for (const served of SERVED) {
      for (const t of served.torch) await script.ask(`start ${t.key}`, "ready");
      const torch = served.torch.map((t) => ({ label: t.label, ms: [] as number[] }));
      const ours = sides.map(() => [] as number[]);
      const started: OurSide[] = [];
      try {
        for (const side of sides) {
          started.push(side);
          side.start(served.optimizer);
        }
        for (let r = 0; r < rounds; r++) {
          const torchRound = async (): Promise<void> => {
            for (const [i, t] of served.torch.entries()) torch[i].ms.push(...((await script.ask(`time ${t.key} ${perRound}`, "ms")) as { ms: number[] }).ms);
          };
          if (r % 2 === 1) await torchRound();
          sides.forEach((side, i) => ours[i].push(...side.time(perRound)));
          if (r % 2 === 0) await torchRound();
          await tf.nextFrame();
        }
      } finally {
        for (const side of started) side.stop();
      }
      // each of our paths against the same PyTorch times (its figures once)
      sides.forEach((side, i) => {
        const path = sides.length > 1 ? side.label.replace(/^ours: /, "") : undefined;
        const f = sideBySideFigures({ name: names.get(served.optimizer)!, ours: ours[i], torch }, { ours: side.label, torch: torchVariant }, rounds, path);
        figures.push(...(i === 0 ? f : f.filter((x) => x.variant === side.label || x.unit === "x")));
      });
    }
  } finally {
    await script.close();
  }
  return figures;
}
