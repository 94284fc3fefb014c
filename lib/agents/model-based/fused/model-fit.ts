/**
 * The learned model's maximum-likelihood step (A.5; LearnedModel.fitStep) written out by hand on the wasm heap:
 * both networks' forward passes on [s, a] in one native call, the Gaussian likelihood's gradients
 * (gaussianNllGradMean, gaussianNllGradLogStd in ../maths.ts) into d Δs, d r̂ and d log σ (zero outside log σ's
 * bounds, as tf's clipByValue), both backward passes in one call, then the native Adam. Same values as the tfjs
 * step to float32 rounding (tests/agents/model-based-fused.test.ts).
 */
import type { tf } from "../../../backend/tf";
import { HeapBlock, blockSize, type HeapMlp, type MlpTrace } from "../../../backend/heap-mlp";
import type { ReplayBatch } from "../../replay-buffer";
import type { FusedContext } from "../../sac/fused/context";
import { GradientBuffers } from "../../sac/fused/gradients";
import { gaussianNegLogLikelihood, gaussianNllGradLogStd, gaussianNllGradMean } from "../maths";
import { MODEL_LOG_STD_MAX, MODEL_LOG_STD_MIN, type LearnedModel } from "../model";

/** Heap regions of one batch size: the input [B, obs + |A|], each network's trace and d output. */
interface FitWorkspace {
  batch: number;
  block: HeapBlock;
  input: number;
  traces: { reward: MlpTrace; transition: MlpTrace };
  dReward: number;
  dTransition: number;
}

export class FusedModelFit {
  private readonly reward: HeapMlp;
  private readonly transition: HeapMlp;
  private readonly rewardLogStd: tf.Variable;
  private readonly stateLogStd: tf.Variable;
  /** d loss / d weights of the last step (before Adam applied them). */
  readonly grads: GradientBuffers;
  private ws: FitWorkspace | null = null;

  constructor(private readonly ctx: FusedContext, private readonly model: LearnedModel) {
    const form = model.heapForm();
    this.reward = ctx.heapMlp(form.reward);
    this.transition = ctx.heapMlp(form.transition);
    this.rewardLogStd = form.rewardLogStd;
    this.stateLogStd = form.stateLogStd;
    this.grads = new GradientBuffers(ctx, model.params.variables());
  }

  private workspace(B: number): FitWorkspace {
    if (this.ws?.batch === B) return this.ws;
    this.ws?.block.dispose();
    const { observationSize: O, actionSize: A } = this.model;
    const counts = [B * (O + A), ...this.reward.activationFloats(B), ...this.transition.activationFloats(B), B, B * O];
    const block = new HeapBlock(this.ctx.backend, blockSize(counts));
    const input = block.take(B * (O + A));
    const traces = { reward: this.reward.makeTrace(block, B, input), transition: this.transition.makeTrace(block, B, input) };
    this.ws = { batch: B, block, input, traces, dReward: block.take(B), dTransition: block.take(B * O) };
    return this.ws;
  }

  /** Makes the workspace of batch size B and `optimizer`'s slots now (both allocate: heap views taken before are stale). */
  prepare(B: number, optimizer: tf.Optimizer): void {
    this.workspace(B);
    this.grads.prepare(optimizer);
  }

  /** One Adam step of maximum likelihood on `batch` (`optimizer`: the model's native Adam); losses before it. */
  step(batch: ReplayBatch, optimizer: tf.Optimizer): { state: number; reward: number } {
    const ctx = this.ctx;
    const { size: B, observationSize: O, actionSize: A } = batch;
    this.prepare(B, optimizer); // before any view: nothing below allocates
    const ws = this.workspace(B);
    const x = ctx.view(ws.input, B * (O + A));
    for (let s = 0; s < B; s++) {
      x.set(batch.observations.subarray(s * O, s * O + O), s * (O + A));
      x.set(batch.actions.subarray(s * A, s * A + A), s * (O + A) + O);
    }
    ctx.runForward([this.reward.forwardPass(ws.traces.reward), this.transition.forwardPass(ws.traces.transition)]);
    const out = (t: MlpTrace, n: number): Float32Array => ctx.view(t.outputs[t.outputs.length - 1], n);
    // the residual's likelihood: s' − s (float32, as tf.sub) against Δs
    const state = this.nll(out(ws.traces.transition, B * O), ctx.view(ws.dTransition, B * O), this.stateLogStd, O, B, (s, d) => Math.fround(batch.nextObservations[s * O + d] - batch.observations[s * O + d]));
    const reward = this.nll(out(ws.traces.reward, B), ctx.view(ws.dReward, B), this.rewardLogStd, 1, B, (s) => batch.rewards[s]);
    const spec = (dOut: number, net: HeapMlp) => ({ dOut, grads: this.grads.offsets(net), dInput: -1, accumulate: false });
    ctx.runPasses(true, [this.reward.backwardPass(ws.traces.reward, spec(ws.dReward, this.reward)), this.transition.backwardPass(ws.traces.transition, spec(ws.dTransition, this.transition))]);
    optimizer.applyGradients(this.grads.named());
    return { state, reward };
  }

  /**
   * mean_s Σ_d −log N(x; μ, σ²) of one network's output `mean` [B, D] (log σ: `logStd`'s raw values clipped to
   * the model's bounds); writes d/dμ into `dMean` and d/d log σ (raw) into the variable's gradient buffer.
   */
  private nll(mean: Float32Array, dMean: Float32Array, logStd: tf.Variable, D: number, B: number, target: (s: number, d: number) => number): number {
    const raw = this.ctx.view(this.ctx.offset(logStd), D);
    const ls = Array.from(raw, (v) => Math.min(MODEL_LOG_STD_MAX, Math.max(MODEL_LOG_STD_MIN, v)));
    const dLogStd = new Float64Array(D);
    let loss = 0;
    for (let s = 0; s < B; s++) {
      for (let d = 0; d < D; d++) {
        const i = s * D + d;
        const x = target(s, d);
        loss += gaussianNegLogLikelihood(x, mean[i], ls[d]);
        dMean[i] = gaussianNllGradMean(x, mean[i], ls[d]) / B;
        dLogStd[d] += gaussianNllGradLogStd(x, mean[i], ls[d]);
      }
    }
    const g = this.ctx.view(this.grads.offset(logStd), D);
    for (let d = 0; d < D; d++) g[d] = raw[d] >= MODEL_LOG_STD_MIN && raw[d] <= MODEL_LOG_STD_MAX ? dLogStd[d] / B : 0;
    return Math.fround(loss / B);
  }

  dispose(): void {
    this.ws?.block.dispose();
    this.ws = null;
    this.grads.dispose();
  }
}
