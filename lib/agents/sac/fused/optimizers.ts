/**
 * The amortized policy optimizers run by hand on the wasm heap, for the fused update: the direct one (Eq. 9,
 * one pass λ = f(s)) and the iterative one (Eq. 10-11, K gated steps with ∇λ J as input). Each gives λ for a
 * batch of states and, when training, J at every λ after the start, the loss, and d loss / d φ.
 *
 * The iterative optimizer's inputs are detached, so its training gradient is, per iteration k ≥ 1, the
 * network's backward from −∇λ Σ_s J(s, λ_k)/(K·B): the same ∇λ J that feeds iteration k's input.
 * The per-element maths (Eq. 11 and its backward, the bounds on log σ and their slope, the input normalisation)
 * is lib/policy/maths.ts's.
 */
import type { GradOffsets, HeapMlp, MlpTrace } from "../../../backend/heap-mlp";
import { mean } from "../../../core/stats";
import {
  boundLogStdGrad, boundLogStdValue, copyRow, gatedGradDelta, gatedGradGateLogit, gatedUpdateValue, normalizeRow, sigmoid,
} from "../../../policy/maths";
import type { LogStdBounds } from "../../../policy/params";
import type { FusedPolicyForm } from "../../../policy/optimizer";
import type { FusedContext } from "./context";
import type { Evaluation, FusedJ, Lambda } from "./objective";
import type { Workspace } from "./workspace";

/** Where a training run writes d loss / d φ: each layer's gradient buffers, and how to zero them all. */
export interface PolicyGrads {
  offsets: GradOffsets[];
  zero(): void;
}

/** The result of one run. `evaluations` (training only) are J at every λ the run produced after the start. */
export interface PolicyRun {
  lambda: Lambda;
  evaluations: Evaluation[];
  loss: number;
}

/** One optimizer run: the states, the Q-networks and objective settings of its J, and (training) its gradients. */
export interface RunSpec {
  objective: FusedJ;
  ws: Workspace;
  /** [B, obs] host array. */
  states: Float32Array;
  q: [HeapMlp, HeapMlp];
  beta: number;
  alpha: number;
  /** Training: where d loss / d φ goes; null for an acting-style run (λ only). */
  grads: PolicyGrads | null;
  /** A forward pass on `states` already run (queueForward's), or null. */
  ran?: MlpTrace | null;
  /** Iterative only: iterations to run (default: training's or acting's count) and λ to start from (default λ0). */
  iterations?: number;
  init?: Lambda | null;
}

export interface FusedPolicy {
  /** The optimizer's network on the heap. */
  readonly net: HeapMlp;
  /** Traces of the network a workspace keeps for it. */
  readonly traces: number;
  /**
   * Whether a run without gradients evaluates J: where it does not, whatever the caller queued (the Q target's
   * state part) runs with the run's forward call.
   */
  readonly evaluatesWithoutGrads: boolean;
  /**
   * Queues the forward pass on `states` a later training run of the same weights can use (its `ran`), so it runs
   * with other networks' passes; null where the optimizer has none to queue.
   */
  queueForward(ws: Workspace, states: Float32Array): MlpTrace | null;
  run(spec: RunSpec): PolicyRun;
}

/** The hand-written form of an amortized optimizer. */
export function fusedPolicy(ctx: FusedContext, form: FusedPolicyForm, actionSize: number, observationSize: number): FusedPolicy {
  switch (form.kind) {
    case "direct":
      return new FusedDirect(ctx, form, actionSize);
    case "iterative":
      return new FusedIterative(ctx, form, actionSize, observationSize);
  }
}

/** Eq. 9: λ = f(s), (μ, log σ) from the network's output, log σ bounded; loss −mean_s J(s, λ). */
class FusedDirect implements FusedPolicy {
  readonly net: HeapMlp;
  private readonly bounds: LogStdBounds;
  /** One for acting and the Q target, one for the update's own states (queued early: see queueForward). */
  readonly traces = 2;
  readonly evaluatesWithoutGrads = false;

  constructor(private readonly ctx: FusedContext, form: Extract<FusedPolicyForm, { kind: "direct" }>, private readonly actionSize: number) {
    this.net = ctx.heapMlp(form.layers);
    this.bounds = form.logStdBounds;
  }

  queueForward(ws: Workspace, states: Float32Array): MlpTrace {
    const trace = ws.pTraces[1];
    this.ctx.view(trace.input, states.length).set(states);
    this.ctx.enqueueMiddle(this.net.forwardPass(trace));
    return trace;
  }

  run({ objective, ws, states, q, beta, alpha, grads, ran = null }: RunSpec): PolicyRun {
    const ctx = this.ctx;
    const B = ws.batch;
    const A = this.actionSize;
    const trace = ran ?? ws.pTraces[0];
    // with grads, J follows on the same states: their parts of the Q-networks' first layers run beside the policy
    const part = grads ? objective.statePart(states, B, q, true) : null;
    if (!ran) ctx.view(trace.input, states.length).set(states);
    ctx.runForward(ran ? [] : [this.net.forwardPass(trace)]);
    const out = ctx.view(trace.outputs[trace.outputs.length - 1], B * 2 * A);
    const raw = new Float32Array(B * A);
    const lambda: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        lambda.mean[s * A + i] = out[s * 2 * A + i];
        raw[s * A + i] = out[s * 2 * A + A + i];
        lambda.logStd[s * A + i] = boundLogStdValue(raw[s * A + i], this.bounds);
      }
    }
    if (!grads || !part) return { lambda, evaluations: [], loss: 0 };
    const e = objective.evaluate(B, lambda, q, beta, alpha, true, part);
    const g = e.grad as Lambda;
    const dOut = ctx.view(ws.dOut, B * 2 * A);
    const scale = -1 / B;
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        dOut[s * 2 * A + i] = g.mean[s * A + i] * scale;
        dOut[s * 2 * A + A + i] = g.logStd[s * A + i] * scale * boundLogStdGrad(raw[s * A + i], this.bounds);
      }
    }
    this.net.backward(trace, { dOut: ws.dOut, grads: grads.offsets, dInput: -1, accumulate: false });
    return { lambda, evaluations: [e], loss: -Math.fround(mean(e.j)) };
  }
}

/** Where one iterative step keeps what its backward pass needs. */
interface StepRecord {
  trace: MlpTrace;
  previous: Lambda;
  /** Gated log σ before its bounds [batch, |A|]. */
  preClip: Float32Array;
  /** The gates ω of μ and of log σ [batch, |A|], as the gated update used them. */
  gateMean: Float64Array;
  gateLogStd: Float64Array;
}

/** Eq. 10-11: K gated steps λ ← ω λ + (1 − ω) δ from λ0; loss: mean over k = 1..K of −mean_s J(s, λ_k). */
class FusedIterative implements FusedPolicy {
  readonly net: HeapMlp;
  /** One, reused by every step: step k's backward runs before step k + 1's forward. */
  readonly traces = 1;
  readonly evaluatesWithoutGrads = true;

  constructor(
    private readonly ctx: FusedContext,
    private readonly form: Extract<FusedPolicyForm, { kind: "iterative" }>,
    private readonly actionSize: number,
    private readonly observationSize: number,
  ) {
    this.net = ctx.heapMlp(form.layers);
  }

  queueForward(): null {
    return null; // each step's input depends on the previous step's J
  }

  run({ objective, ws, states, q, beta, alpha, grads, iterations, init }: RunSpec): PolicyRun {
    const B = ws.batch;
    const A = this.actionSize;
    const K = iterations ?? (grads ? this.form.trainIterations : this.form.actIterations);
    let lambda: Lambda = init
      ? { mean: init.mean.slice(), logStd: init.logStd.slice() }
      : { mean: new Float32Array(B * A), logStd: new Float32Array(B * A).fill(Math.log(this.form.initialStd)) };
    const evaluations: Evaluation[] = [];
    let record: StepRecord | null = null;
    grads?.zero();
    const scale = -1 / (K * B);
    // Every J evaluation of this run is on the same states and Q-networks: their first-layer part, once.
    const part = objective.statePart(states, B, q);
    // Step k's backward runs right after J(λ_{k+1}) gives its upstream gradient, so one trace serves every step.
    for (let k = 0; k <= K; k++) {
      if (k === K && !grads) break; // acting-style run: no J at the final λ (the tf path's evaluateFinal: false)
      const e = objective.evaluate(B, lambda, q, beta, alpha, true, part);
      if (grads) {
        evaluations.push(e);
        if (record) this.stepBackward(ws, record, e.grad as Lambda, scale, grads.offsets);
      }
      if (k === K) break;
      record = this.stepForward(states, B, lambda, e.grad as Lambda, ws.pTraces[0]);
      lambda = this.gated(record, B);
    }
    if (!grads) return { lambda, evaluations, loss: 0 };
    let loss = 0;
    for (let k = 1; k <= K; k++) loss += Math.fround(mean(evaluations[k].j));
    return { lambda, evaluations: evaluations.slice(), loss: -Math.fround(Math.fround(loss) / K) };
  }

  /**
   * The network's input for λ and ∇λ J (each part normalised per example, A.4; the state raw without
   * normalizeState), then its forward pass into `trace`.
   */
  private stepForward(states: Float32Array, B: number, lambda: Lambda, grad: Lambda, trace: MlpTrace): StepRecord {
    const O = this.observationSize;
    const A = this.actionSize;
    const scaled = this.form.inputNormalization === "layer+scale";
    const normalizeState = this.form.normalizeState;
    const inSize = this.net.inputSize;
    const x = this.ctx.view(trace.input, B * inSize);
    const parts = [lambda.mean, lambda.logStd, grad.mean, grad.logStd];
    for (let s = 0; s < B; s++) {
      let at = s * inSize;
      at = normalizeState ? normalizeRow(states, s * O, O, x, at, scaled) : copyRow(states, s * O, O, x, at);
      for (let k = 0; k < 4; k++) at = normalizeRow(parts[k], s * A, A, x, at, scaled);
    }
    this.ctx.runForward([this.net.forwardPass(trace)]);
    return { trace, previous: lambda, preClip: new Float32Array(B * A), gateMean: new Float64Array(B * A), gateLogStd: new Float64Array(B * A) };
  }

  /** Eq. 11 on the recorded pass's output: λ' = ω λ + (1 − ω) δ, log σ bounded. Fills record.preClip and the gates. */
  private gated(record: StepRecord, B: number): Lambda {
    const A = this.actionSize;
    const out = this.ctx.view(record.trace.outputs[record.trace.outputs.length - 1], B * 4 * A);
    const next: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        const p = s * A + i;
        const o = s * 4 * A + i;
        const gm = (record.gateMean[p] = sigmoid(out[o + 2 * A]));
        const gs = (record.gateLogStd[p] = sigmoid(out[o + 3 * A]));
        next.mean[p] = gatedUpdateValue(record.previous.mean[p], out[o], gm);
        record.preClip[p] = gatedUpdateValue(record.previous.logStd[p], out[o + A], gs);
        next.logStd[p] = boundLogStdValue(record.preClip[p], this.form.logStdBounds);
      }
    }
    return next;
  }

  /** Adds d loss/d φ of one step: upstream scale·∇λ' J through the bounds on log σ, the gates and the network. */
  private stepBackward(ws: Workspace, record: StepRecord, gradNext: Lambda, scale: number, grads: GradOffsets[]): void {
    const A = this.actionSize;
    const B = record.trace.rows;
    const out = this.ctx.view(record.trace.outputs[record.trace.outputs.length - 1], B * 4 * A);
    const dOut = this.ctx.view(ws.dOut, B * 4 * A);
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        const p = s * A + i;
        const o = s * 4 * A + i;
        const gm = record.gateMean[p];
        const gs = record.gateLogStd[p];
        const dm = gradNext.mean[p] * scale;
        const dl = gradNext.logStd[p] * scale * boundLogStdGrad(record.preClip[p], this.form.logStdBounds);
        dOut[o] = gatedGradDelta(gm, dm);
        dOut[o + A] = gatedGradDelta(gs, dl);
        dOut[o + 2 * A] = gatedGradGateLogit(record.previous.mean[p], out[o], gm, dm);
        dOut[o + 3 * A] = gatedGradGateLogit(record.previous.logStd[p], out[o + A], gs, dl);
      }
    }
    this.net.backward(record.trace, { dOut: ws.dOut, grads, dInput: -1, accumulate: true });
  }
}
