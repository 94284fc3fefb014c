/**
 * The rollout policy's distillation step (A.5; RolloutPolicy.distillStep) written out by hand on the wasm heap:
 * the network's forward pass on the states, mean_s KL(π_iterative ‖ π_direct) and its gradients in the direct
 * policy's μ and log σ (gaussianKlGradMean2, gaussianKlGradLogStd2 in ../maths.ts) through the bounds on log σ
 * (lib/policy/maths.ts), the backward pass, then the native Adam. Same values as the tfjs step to float32
 * rounding (tests/agents/model-based-fused.test.ts).
 */
import type { tf } from "../../../backend/tf";
import { HeapBlock, blockSize, type HeapMlp, type MlpTrace } from "../../../backend/heap-mlp";
import { IapoError } from "../../../core/errors";
import { boundLogStdGrad, boundLogStdValue } from "../../../policy/maths";
import type { LogStdBounds } from "../../../policy/params";
import type { FusedContext } from "../../sac/fused/context";
import { GradientBuffers } from "../../sac/fused/gradients";
import type { Lambda } from "../../sac/fused/objective";
import { gaussianKl, gaussianKlGradLogStd2, gaussianKlGradMean2 } from "../maths";
import type { RolloutPolicy } from "../rollout-policy";

export class FusedDistillation {
  readonly net: HeapMlp;
  readonly bounds: LogStdBounds;
  /** d loss / d weights of the last step (before Adam applied them). */
  readonly grads: GradientBuffers;
  private ws: { batch: number; block: HeapBlock; trace: MlpTrace; dOut: number } | null = null;

  constructor(private readonly ctx: FusedContext, rollout: RolloutPolicy) {
    const form = rollout.network.fusedForm();
    if (form.kind !== "direct") throw new IapoError("the rollout policy is a direct network");
    this.net = ctx.heapMlp(form.layers);
    this.bounds = form.logStdBounds;
    this.grads = new GradientBuffers(ctx, rollout.network.params.variables());
  }

  private workspace(B: number): { trace: MlpTrace; dOut: number } {
    if (this.ws?.batch === B) return this.ws;
    this.ws?.block.dispose();
    const block = new HeapBlock(this.ctx.backend, blockSize([B * this.net.inputSize, ...this.net.activationFloats(B), B * this.net.outputSize]));
    const trace = this.net.makeTrace(block, B, block.take(B * this.net.inputSize));
    this.ws = { batch: B, block, trace, dOut: block.take(B * this.net.outputSize) };
    return this.ws;
  }

  /** Makes the workspace of batch size B and `optimizer`'s slots now (both allocate: heap views taken before are stale). */
  prepare(B: number, optimizer: tf.Optimizer): void {
    this.workspace(B);
    this.grads.prepare(optimizer);
  }

  /**
   * One Adam step on mean_s KL(π_target(·|s) ‖ π_direct(·|s)) at `states` [B, obs] towards `target` [B, |A|]
   * each (`optimizer`: the rollout policy's native Adam). Returns the KL before the step.
   */
  step(states: Float32Array, B: number, target: Lambda, optimizer: tf.Optimizer): number {
    const ctx = this.ctx;
    const A = this.net.outputSize / 2;
    this.prepare(B, optimizer); // before any view: nothing below allocates
    const ws = this.workspace(B);
    ctx.view(ws.trace.input, B * this.net.inputSize).set(states);
    ctx.runForward([this.net.forwardPass(ws.trace)]);
    const out = ctx.view(ws.trace.outputs[ws.trace.outputs.length - 1], B * 2 * A);
    const dOut = ctx.view(ws.dOut, B * 2 * A);
    let kl = 0;
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        const [m, raw, p] = [s * 2 * A + i, s * 2 * A + A + i, s * A + i];
        const logStd = Math.fround(boundLogStdValue(out[raw], this.bounds));
        kl += gaussianKl(target.mean[p], target.logStd[p], out[m], logStd);
        dOut[m] = gaussianKlGradMean2(target.mean[p], target.logStd[p], out[m], logStd) / B;
        dOut[raw] = (gaussianKlGradLogStd2(target.mean[p], target.logStd[p], out[m], logStd) / B) * boundLogStdGrad(out[raw], this.bounds);
      }
    }
    this.net.backward(ws.trace, { dOut: ws.dOut, grads: this.grads.offsets(this.net), dInput: -1, accumulate: false });
    optimizer.applyGradients(this.grads.named());
    return Math.fround(kl / B);
  }

  dispose(): void {
    this.ws?.block.dispose();
    this.ws = null;
    this.grads.dispose();
  }
}
