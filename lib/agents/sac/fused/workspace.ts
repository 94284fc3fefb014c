/**
 * The fused update's heap regions for one batch size, declared once (`layout`): the same declaration is run
 * first to count the floats a HeapBlock must hold, then to take the regions from it, so the two cannot drift.
 */
import { HeapBlock, blockSize, type HeapMlp, type MlpTrace } from "../../../backend/heap-mlp";
import type { FusedContext } from "./context";

/** Heap regions (byte offsets) and host scratch for one batch size B. */
export interface Workspace {
  batch: number;
  block: HeapBlock;
  /** Q input rows for J, and the Q passes over them (for Q1, Q2): [N·B, |A|] actions (the states' part is StatePart's). */
  jInput: number;
  /** States [B, obs] and each Q-network's first-layer state part [B, width of layer 0] (StatePart). */
  states: number;
  bases: [number, number];
  jTraces: [MlpTrace, MlpTrace];
  /** d Q_pess / d Q1, Q2 per row [N·B], and d input of each Q (laid out as jInput). */
  dq: [number, number];
  dInput: [number, number];
  /** Q-update passes on [s, a], [B, obs + |A|]. */
  qTraces: [MlpTrace, MlpTrace];
  dqLoss: [number, number];
  /** The policy network's passes (FusedPolicy.traces of them) and its d output [B, out]. */
  pTraces: MlpTrace[];
  dOut: number;
  /** Host scratch of each J evaluation, reused (an N=10 update would otherwise allocate ~1 MB of them). */
  eps: Float32Array;
  sigma: Float64Array;
  logPi: Float64Array;
}

/** The sizes a workspace is laid out for. */
export interface WorkspaceShape {
  observationSize: number;
  actionSize: number;
  /** N, J's samples per state. */
  samples: number;
  /** Q1 and Q2 (the target networks have the same layers). */
  q: [HeapMlp, HeapMlp];
  /** The policy optimizer's network, and how many traces of it a run keeps. */
  policy: HeapMlp;
  policyTraces: number;
}

/** Hands out regions: counting them (sizes only) or taking them from a block. */
interface Slicer {
  floats(count: number): number;
  trace(net: HeapMlp, rows: number, input: number): MlpTrace;
}

type Regions = Omit<Workspace, "batch" | "block" | "eps" | "sigma" | "logPi">;

/** Every heap region, in the order taken. */
function layout(slice: Slicer, shape: WorkspaceShape, batch: number): Regions {
  const { observationSize: O, actionSize: A, samples: N, q, policy } = shape;
  const rows = N * batch;
  const baseWidth = q[0].activationFloats(1)[0];
  const jInput = slice.floats(rows * A);
  const jTraces: [MlpTrace, MlpTrace] = [slice.trace(q[0], rows, jInput), slice.trace(q[1], rows, jInput)];
  const states = slice.floats(batch * O);
  const bases: [number, number] = [slice.floats(batch * baseWidth), slice.floats(batch * baseWidth)];
  const dq: [number, number] = [slice.floats(rows), slice.floats(rows)];
  const dInput: [number, number] = [slice.floats(rows * A), slice.floats(rows * A)];
  const qInput = slice.floats(batch * (O + A));
  const qTraces: [MlpTrace, MlpTrace] = [slice.trace(q[0], batch, qInput), slice.trace(q[1], batch, qInput)];
  const dqLoss: [number, number] = [slice.floats(batch), slice.floats(batch)];
  const pTraces = Array.from({ length: shape.policyTraces }, () => slice.trace(policy, batch, slice.floats(batch * policy.inputSize)));
  const dOut = slice.floats(batch * policy.outputSize);
  return { jInput, states, bases, jTraces, dq, dInput, qTraces, dqLoss, pTraces, dOut };
}

/** Workspaces by batch size: the training batch and the acting batch both stay allocated. */
export class Workspaces {
  private readonly kept = new Map<number, Workspace>();

  constructor(private readonly ctx: FusedContext, private readonly shape: WorkspaceShape) {}

  /** The workspace for `batch` rows, made on first use (which allocates: views of the heap made before are stale). */
  get(batch: number): Workspace {
    const kept = this.kept.get(batch);
    if (kept) return kept;
    // A caller alternating many batch sizes would otherwise hold one block per size: keep at most a few.
    if (this.kept.size >= 4) this.dispose();
    const counts: number[] = [];
    layout({ floats: (n) => (counts.push(n), 0), trace: (net, rows, input) => (counts.push(...net.activationFloats(rows)), { rows, input, outputs: [], kept: [] }) }, this.shape, batch);
    const block = new HeapBlock(this.ctx.backend, blockSize(counts));
    const regions = layout({ floats: (n) => block.take(n), trace: (net, rows, input) => net.makeTrace(block, rows, input) }, this.shape, batch);
    const rows = this.shape.samples * batch;
    const A = this.shape.actionSize;
    const ws: Workspace = { batch, block, ...regions, eps: new Float32Array(rows * A), sigma: new Float64Array(batch * A), logPi: new Float64Array(rows) };
    this.kept.set(batch, ws);
    return ws;
  }

  dispose(): void {
    for (const ws of this.kept.values()) ws.block.dispose();
    this.kept.clear();
  }
}
