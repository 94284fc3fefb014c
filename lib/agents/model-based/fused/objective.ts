/**
 * J (Eq. 7) on the model-based estimate Q̂ of Eq. 13, and ∇λ J, on the wasm heap: the fused form of
 * ModelBasedObjective (../objective.ts), with the same noise drawn in the same order (the N action samples, then
 * the rollout's [h, N·B, |A|]), so the two agree to float32 rounding (tests/agents/model-based-fused.test.ts).
 *
 * Per evaluation, on M = N·B rows: step k = 0..h runs both Q-networks on [s_k, a_k] (except Q_0 for h ≥ 1, whose
 * weight in Eq. 13 is 0) and, for k < h, both model networks on the same input in one native call; then the rollout policy on s_{k+1} = s_k + Δs, whose sample
 * a_{k+1} = tanh(μ + σ ε) and KL cost c_{k+1} complete the next input. Q̂ is retraceEstimate per row; ∂Q̂/∂a_0 is
 * retraceActionGradient (../maths.ts) with each network's backward pass as its vector–Jacobian product, and
 * ∇λ J follows through the tanh-Gaussian's reparameterisation (the addon's tanhGaussianGrad, as the model-free J).
 */
import { HeapBlock, blockSize, type HeapMlp, type MlpTrace } from "../../../backend/heap-mlp";
import type { Rng } from "../../../core/rng";
import { boundLogStdGrad, boundLogStdValue, pessimisticQGradQ1, pessimisticQGradQ2, pessimisticQValue, tanhGaussianLogDensity, type PessimismStd } from "../../../policy/maths";
import type { LogStdBounds } from "../../../policy/params";
import type { FusedContext } from "../../sac/fused/context";
import { NoiseSource, objectivePerState, type Evaluation, type Lambda, type StatePart } from "../../sac/fused/objective";
import { retraceActionGradient, retraceEstimate, type Rows, type RolloutVjps } from "../maths";

const LN2 = Math.LN2;

/**
 * The networks a rollout runs: the model's two, the rollout policy's (a direct network) and its log σ bounds, and
 * the Q-networks the workspaces' traces are laid out for (online and target networks have the same layers).
 */
export interface RolloutNets {
  q: [HeapMlp, HeapMlp];
  reward: HeapMlp;
  transition: HeapMlp;
  policy: HeapMlp;
  bounds: LogStdBounds;
}

export interface ModelBasedShape {
  observationSize: number;
  actionSize: number;
  samples: number;
  horizon: number;
  gamma: number;
  retraceLambda: number;
  pessimismStd: PessimismStd;
}

/** Heap regions and host scratch of one batch size B (M = N·B rows). */
interface Workspace {
  batch: number;
  block: HeapBlock;
  /** States [B, obs] as statePart set them. */
  states: Float32Array;
  /** a_0 [M, |A|] as tanhGaussianSample writes it, and d of Q̂/N with respect to it (and zeros) for tanhGaussianGrad. */
  actions: number;
  dActions: [number, number];
  /** Per step k = 0..h: the input [M, obs + |A|] = [s_k, a_k], both Q-networks' traces. */
  inputs: number[];
  q: Array<[MlpTrace, MlpTrace]>;
  /** Per step k < h: the model's traces (reward, transition) on inputs[k]; the policy's on s_{k+1}. */
  model: Array<[MlpTrace, MlpTrace]>;
  policy: MlpTrace[];
  /** d output and d input regions the backward passes share: d out [M, max(obs, 2|A|)] × 2, d in [M, obs + |A|] × 2. */
  dOut: [number, number];
  dIn: [number, number];
  /** The rollout policy's pass on B states of their own (rolloutLambda). */
  lambdaTrace: MlpTrace;
}

export class FusedModelBasedObjective {
  private readonly kept = new Map<number, Workspace>();
  private readonly noise: NoiseSource;

  constructor(
    private readonly ctx: FusedContext,
    private readonly nets: RolloutNets,
    rng: Rng,
    private readonly shape: ModelBasedShape,
  ) {
    this.noise = new NoiseSource(rng);
  }

  /** Runs `fn` with the noise drawn from `noise` instead of the agent's Rng. */
  withNoise<T>(noise: Rng, fn: () => T): T {
    return this.noise.with(noise, fn);
  }

  /** Makes the workspace of batch size B now (it allocates: heap views taken before are stale after). */
  prepare(B: number): void {
    this.workspace(B);
  }

  /** The rollout policy's λ at `states` [B, obs] (a direct network: μ and bounded log σ), [B, |A|] each. */
  rolloutLambda(states: Float32Array, B: number): Lambda {
    const A = this.shape.actionSize;
    const trace = this.workspace(B).lambdaTrace;
    this.ctx.view(trace.input, states.length).set(states);
    this.ctx.runForward([this.nets.policy.forwardPass(trace)]);
    const out = this.ctx.view(trace.outputs[trace.outputs.length - 1], B * 2 * A);
    const lambda: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < A; i++) {
        lambda.mean[s * A + i] = out[s * 2 * A + i];
        lambda.logStd[s * A + i] = boundLogStdValue(out[s * 2 * A + A + i], this.nets.bounds);
      }
    }
    return lambda;
  }

  /** Keeps the states for the evaluations that follow (no network runs on the states alone here). */
  statePart(states: Float32Array, B: number): StatePart {
    this.workspace(B).states.set(states);
    return { bases: [-1, -1], rows: B };
  }

  private workspace(B: number): Workspace {
    const kept = this.kept.get(B);
    if (kept) return kept;
    if (this.kept.size >= 4) this.dispose();
    const { observationSize: O, actionSize: A, samples: N, horizon: h } = this.shape;
    const M = N * B;
    const { reward, transition, policy } = this.nets;
    const width = O + A;
    const dOutWidth = Math.max(O, 2 * A);
    const q = this.nets.q;
    const counts: number[] = [B * O, ...policy.activationFloats(B), M * A, M * A, M * A];
    for (let k = 0; k <= h; k++) {
      counts.push(M * width, ...q[0].activationFloats(M), ...q[1].activationFloats(M));
      if (k < h) counts.push(...reward.activationFloats(M), ...transition.activationFloats(M), M * O, ...policy.activationFloats(M));
    }
    counts.push(M * dOutWidth, M * dOutWidth, M * width, M * width);
    const block = new HeapBlock(this.ctx.backend, blockSize(counts));
    const lambdaTrace = policy.makeTrace(block, B, block.take(B * O));
    const ws: Workspace = { batch: B, block, states: new Float32Array(B * O), lambdaTrace, actions: block.take(M * A), dActions: [block.take(M * A), block.take(M * A)], inputs: [], q: [], model: [], policy: [], dOut: [0, 0], dIn: [0, 0] };
    for (let k = 0; k <= h; k++) {
      const input = block.take(M * width);
      ws.inputs.push(input);
      ws.q.push([q[0].makeTrace(block, M, input), q[1].makeTrace(block, M, input)]);
      if (k < h) {
        ws.model.push([reward.makeTrace(block, M, input), transition.makeTrace(block, M, input)]);
        ws.policy.push(policy.makeTrace(block, M, block.take(M * O)));
      }
    }
    ws.dOut = [block.take(M * dOutWidth), block.take(M * dOutWidth)];
    ws.dIn = [block.take(M * width), block.take(M * width)];
    this.kept.set(B, ws);
    return ws;
  }

  /**
   * J(s, λ) per state with new noise (Eq. 7 on Q̂ of Eq. 13) for the states of the last statePart, and with
   * `wantGrad` ∇λ Σ_s J. `q`: the Q-networks of Eq. 12 at every rollout state.
   */
  evaluate(B: number, lambda: Lambda, q: [HeapMlp, HeapMlp], beta: number, alpha: number, wantGrad: boolean, part: StatePart): Evaluation {
    void part; // the states are the workspace's (statePart)
    const ctx = this.ctx;
    const ws = this.workspace(B);
    const { observationSize: O, actionSize: A, samples: N, horizon: h, gamma, retraceLambda, pessimismStd } = this.shape;
    const M = N * B;
    const width = O + A;
    const { reward, transition, policy, bounds } = this.nets;
    // Noise as ModelBasedObjective draws it: the actions', then the rollout's.
    const eps = this.noise.rng.fillStandardNormal(new Float32Array(M * A), ctx.normalPairs);
    const rolloutNoise = this.noise.rng.fillStandardNormal(new Float32Array(h * M * A), ctx.normalPairs);
    const heap = ctx.heap();
    const sigma0 = new Float64Array(B * A);
    const logPi = new Float64Array(M);
    ctx.native.tanhGaussianSample(heap, ws.actions, M, B, A, lambda.mean, lambda.logStd, eps, sigma0, logPi);
    const a0 = ctx.view(ws.actions, M * A);
    const x0 = ctx.view(ws.inputs[0], M * width);
    for (let r = 0; r < M; r++) {
      x0.set(ws.states.subarray((r % B) * O, (r % B) * O + O), r * width);
      x0.set(a0.subarray(r * A, r * A + A), r * width + O);
    }
    const out = (t: MlpTrace, n: number): Float32Array => ctx.view(t.outputs[t.outputs.length - 1], n);
    const rewards: Float32Array[] = [];
    const costs: Float64Array[] = [];
    const samples = { actions: [] as Float64Array[], noise: [] as Float32Array[], sigma: [] as Float64Array[] };
    const raws: Float32Array[] = [];
    // Q_0 cancels out of Eq. 13 for h >= 1 (its weight 1 − w_0 is 0: retraceWeights), so it is not computed.
    const withQ0 = h === 0;
    for (let k = 0; k <= h; k++) {
      const passes = k > 0 || withQ0 ? [q[0].forwardPass(ws.q[k][0]), q[1].forwardPass(ws.q[k][1])] : [];
      if (k < h) passes.splice(1, 0, reward.forwardPass(ws.model[k][0]), transition.forwardPass(ws.model[k][1]));
      ctx.runForward(passes);
      if (k === h) break;
      rewards.push(out(ws.model[k][0], M).slice());
      const x = ctx.view(ws.inputs[k], M * width);
      const delta = out(ws.model[k][1], M * O);
      const sNext = ctx.view(ws.policy[k].input, M * O);
      for (let r = 0; r < M; r++) for (let i = 0; i < O; i++) sNext[r * O + i] = x[r * width + i] + delta[r * O + i];
      ctx.runForward([policy.forwardPass(ws.policy[k])]);
      const p = out(ws.policy[k], M * 2 * A);
      const noise = rolloutNoise.subarray(k * M * A, (k + 1) * M * A);
      const next = ctx.view(ws.inputs[k + 1], M * width);
      const action = new Float64Array(M * A);
      const sigma = new Float64Array(M * A);
      const cost = new Float64Array(M);
      for (let r = 0; r < M; r++) {
        next.set(sNext.subarray(r * O, r * O + O), r * width);
        let lp = 0;
        for (let i = 0; i < A; i++) {
          const mean = p[r * 2 * A + i];
          const logStd = Math.fround(boundLogStdValue(p[r * 2 * A + A + i], bounds));
          const s = Math.fround(Math.exp(logStd));
          const u = Math.fround(mean + Math.fround(s * noise[r * A + i]));
          const a = Math.tanh(u);
          next[r * width + O + i] = a;
          action[r * A + i] = next[r * width + O + i];
          sigma[r * A + i] = s;
          lp += tanhGaussianLogDensity(u, mean, logStd);
        }
        cost[r] = alpha * (lp + A * LN2);
      }
      raws.push(p.slice());
      costs.push(cost);
      samples.actions.push(action);
      samples.noise.push(noise);
      samples.sigma.push(sigma);
    }
    // Q̂ per row (Eq. 13) and J per state.
    const qs = ws.q.map(([t1, t2]) => [out(t1, M), out(t2, M)]);
    const qHat = new Float64Array(M);
    const qRow = new Float64Array(h + 1);
    const rRow = new Float64Array(h);
    const cRow = new Float64Array(h);
    for (let r = 0; r < M; r++) {
      for (let k = withQ0 ? 0 : 1; k <= h; k++) qRow[k] = pessimisticQValue(qs[k][0][r], qs[k][1][r], beta, pessimismStd);
      for (let k = 0; k < h; k++) {
        rRow[k] = rewards[k][r];
        cRow[k] = costs[k][r];
      }
      qHat[r] = retraceEstimate(qRow, rRow, cRow, gamma, retraceLambda);
    }
    const { j, q: qMean, logProb } = objectivePerState(B, N, A, alpha, (r) => qHat[r], logPi);
    if (!wantGrad) return { j, q: qMean, logProb, grad: null };

    const dOut = [ctx.view(ws.dOut[0], M * Math.max(O, 2 * A)), ctx.view(ws.dOut[1], M * Math.max(O, 2 * A))];
    const dIn = [ctx.view(ws.dIn[0], M * width), ctx.view(ws.dIn[1], M * width)];
    /** d s and d a from the two d-input regions (summed), plus `identity` on d s (the model's residual). */
    const split = (identity: Rows | null): { dState: Float64Array; dAction: Float64Array } => {
      const dState = new Float64Array(M * O);
      const dAction = new Float64Array(M * A);
      for (let r = 0; r < M; r++) {
        for (let i = 0; i < O; i++) dState[r * O + i] = dIn[0][r * width + i] + dIn[1][r * width + i] + (identity ? identity[r * O + i] : 0);
        for (let i = 0; i < A; i++) dAction[r * A + i] = dIn[0][r * width + O + i] + dIn[1][r * width + O + i];
      }
      return { dState, dAction };
    };
    const back = (net: HeapMlp, trace: MlpTrace, i: number) => net.backwardPass(trace, { dOut: ws.dOut[i], grads: null, dInput: ws.dIn[i], accumulate: false });
    const vjps: RolloutVjps = {
      value: (k, dq) => {
        for (let r = 0; r < M; r++) {
          dOut[0][r] = dq[r] * pessimisticQGradQ1(qs[k][0][r], qs[k][1][r], beta, pessimismStd);
          dOut[1][r] = dq[r] * pessimisticQGradQ2(qs[k][0][r], qs[k][1][r], beta, pessimismStd);
        }
        ctx.runPasses(true, [back(q[0], ws.q[k][0], 0), back(q[1], ws.q[k][1], 1)]);
        return split(null);
      },
      model: (k, dNext, dReward) => {
        dOut[0].set(dReward.subarray(0, M));
        dOut[1].set(dNext.subarray(0, M * O));
        ctx.runPasses(true, [back(reward, ws.model[k][0], 0), back(transition, ws.model[k][1], 1)]);
        return split(dNext);
      },
      policy: (k, dMean, dLogStd) => {
        const raw = raws[k - 1];
        for (let r = 0; r < M; r++) {
          for (let i = 0; i < A; i++) {
            dOut[0][r * 2 * A + i] = dMean[r * A + i];
            dOut[0][r * 2 * A + A + i] = dLogStd[r * A + i] * boundLogStdGrad(raw[r * 2 * A + A + i], bounds);
          }
        }
        policy.backward(ws.policy[k - 1], { dOut: ws.dOut[0], grads: null, dInput: ws.dIn[0], accumulate: false });
        return dIn[0].slice(0, M * O);
      },
    };
    const dA0 = retraceActionGradient({ rows: M, observationSize: O, actionSize: A }, h, gamma, retraceLambda, alpha, samples, vjps);
    const dx1 = ctx.view(ws.dActions[0], M * A);
    for (let i = 0; i < M * A; i++) dx1[i] = dA0[i] / N;
    ctx.view(ws.dActions[1], M * A).fill(0);
    const grad: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    ctx.native.tanhGaussianGrad(ctx.heap(), ws.actions, ws.dActions[0], ws.dActions[1], M, B, A, eps, sigma0, -alpha / N, grad.mean, grad.logStd);
    return { j, q: qMean, logProb, grad };
  }

  dispose(): void {
    for (const ws of this.kept.values()) ws.block.dispose();
    this.kept.clear();
  }
}
