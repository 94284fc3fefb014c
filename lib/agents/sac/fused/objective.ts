/**
 * J (Eq. 7, 12) and ∇λ J on the wasm heap, for the fused update: N reparameterised samples per state through
 * the tanh-Gaussian (the addon's kernels), both Q-networks' forward and backward passes to the actions, then
 * the pessimistic value and its gradient (lib/policy/maths.ts).
 *
 * Gradients (u = μ + σ ε, a = tanh u; lib/policy/maths.ts has them as functions, which the addon's
 * tanhGaussianGrad mirrors): ∂J/∂λ = Σ_n [∂Q_pess/∂a_n (reparameterised) − α/N ∇λ log π(a_n)], with
 * ∂Q_pess/∂Q1,2 = ½ ∓ kβ·s, s = 1 if Q1 > Q2 else −1 (tf's subgradient of |x|), k = ½ or 1/√2 by the std of
 * Eq. 12 (PessimismStd).
 */
import type { HeapMlp } from "../../../backend/heap-mlp";
import type { Rng } from "../../../core/rng";
import { pessimisticQGradQ1, pessimisticQGradQ2, pessimisticQValue, type PessimismStd } from "../../../policy/maths";
import type { FusedContext } from "./context";
import type { Workspaces } from "./workspace";

const LN2 = Math.LN2;

/** λ as plain arrays, [batch, |A|] row-major. */
export interface Lambda {
  mean: Float32Array;
  logStd: Float32Array;
}

/** One estimate of J (Eq. 7) per state, with its parts, and optionally ∇λ Σ_s J. */
export interface Evaluation {
  j: Float32Array;
  q: Float32Array;
  logProb: Float32Array;
  grad: Lambda | null;
}

/** Byte offsets of each Q-network's first-layer state part for the states being evaluated (statePart). */
export interface StatePart {
  bases: [number, number];
  rows: number;
}

/**
 * What a fused policy optimizer asks of J: the part of an evaluation that depends on the states alone, once per
 * run, and evaluations at λ (FusedObjective here; the model-based J of Eq. 13 in lib/agents/model-based/fused/).
 */
export type FusedJ = Pick<FusedObjective, "statePart" | "evaluate">;

/** The Rng J's noise comes from, which a caller may swap for the length of one call. */
export class NoiseSource {
  constructor(public rng: Rng) {}

  /** Runs `fn` with the noise drawn from `noise` instead (estimators keep their streams apart from the agent's). */
  with<T>(noise: Rng, fn: () => T): T {
    const own = this.rng;
    this.rng = noise;
    try {
      return fn();
    } finally {
      this.rng = own;
    }
  }
}

/**
 * J per state (Eq. 7) from N samples per state in rows n·B + s: the mean of value(row) minus α times the mean
 * KL log π − log p (p = U(−1, 1)^|A|), that mean rounded to float32 as tf's is; with the mean value and log π.
 */
export function objectivePerState(B: number, N: number, A: number, alpha: number, value: (row: number) => number, logPi: ArrayLike<number>): Omit<Evaluation, "grad"> {
  const q = new Float32Array(B);
  const logProb = new Float32Array(B);
  const j = new Float32Array(B);
  for (let s = 0; s < B; s++) {
    let qs = 0;
    let kl = 0;
    for (let n = 0; n < N; n++) {
      const r = n * B + s;
      qs += value(r);
      kl += logPi[r] + A * LN2;
    }
    q[s] = qs / N;
    const klMean = Math.fround(kl / N);
    j[s] = q[s] - alpha * klMean;
    logProb[s] = klMean - A * LN2;
  }
  return { j, q, logProb };
}

export class FusedObjective {
  private readonly noise: NoiseSource;

  constructor(
    private readonly ctx: FusedContext,
    private readonly workspaces: Workspaces,
    rng: Rng,
    private readonly observationSize: number,
    private readonly actionSize: number,
    private readonly samples: number,
    /** The std of Eq. 12 every evaluation uses. */
    private readonly pessimismStd: PessimismStd = "population",
  ) {
    this.noise = new NoiseSource(rng);
  }

  /** Runs `fn` with J's noise drawn from `noise` instead of the agent's Rng (estimators keep theirs apart). */
  withNoise<T>(noise: Rng, fn: () => T): T {
    return this.noise.with(noise, fn);
  }

  /**
   * Each Q-network's first layer on the states alone, s·W_s + b ([B, width] per network), so J evaluations on
   * N·B actions for these states multiply only the |A| action columns (FirstLayerBase). Valid until the next
   * call or a change of the Q weights. With `queue`, the passes wait for the next forward call (runForward).
   */
  statePart(states: Float32Array, B: number, q: [HeapMlp, HeapMlp], queue = false): StatePart {
    const ws = this.workspaces.get(B);
    this.ctx.view(ws.states, B * this.observationSize).set(states);
    const passes = [0, 1].map((i) => q[i].firstLayerBasePass(ws.states, B, this.observationSize, ws.bases[i]));
    if (queue) this.ctx.enqueue(passes as [Float64Array, Float64Array]);
    else this.ctx.runForward(passes);
    return { bases: ws.bases, rows: B };
  }

  /**
   * J(s, λ) per state with N new samples (Eq. 7, 12), and with `wantGrad` ∇λ Σ_s J (back-propagated through
   * both Q-networks to the actions, then through tanh and the reparameterisation).
   */
  evaluate(B: number, lambda: Lambda, q: [HeapMlp, HeapMlp], beta: number, alpha: number, wantGrad: boolean, part: StatePart): Evaluation {
    const ctx = this.ctx;
    const ws = this.workspaces.get(B);
    const N = this.samples;
    const O = this.observationSize;
    const A = this.actionSize;
    const rows = N * B;
    // The Q input rows are the actions alone: the states' part of the first layer is in `part`.
    const eps = this.noise.rng.fillStandardNormal(ws.eps, ctx.normalPairs);
    const heap = ctx.heap();
    const sigma = ws.sigma;
    const logPi = ws.logPi;
    ctx.native.tanhGaussianSample(heap, ws.jInput, rows, B, A, lambda.mean, lambda.logStd, eps, sigma, logPi);
    const bases = (i: number) => ({ offset: part.bases[i], rows: part.rows, split: O });
    ctx.runForward([0, 1].map((i) => q[i].forwardPass(ws.jTraces[i], rows, bases(i))));
    const q1 = ctx.view(ws.jTraces[0].outputs[ws.jTraces[0].outputs.length - 1], rows);
    const q2 = ctx.view(ws.jTraces[1].outputs[ws.jTraces[1].outputs.length - 1], rows);
    const { j, q: qMean, logProb } = objectivePerState(B, N, A, alpha, (r) => pessimisticQValue(q1[r], q2[r], beta, this.pessimismStd), logPi);
    if (!wantGrad) return { j, q: qMean, logProb, grad: null };

    const dq1 = ctx.view(ws.dq[0], rows);
    const dq2 = ctx.view(ws.dq[1], rows);
    for (let r = 0; r < rows; r++) {
      dq1[r] = pessimisticQGradQ1(q1[r], q2[r], beta, this.pessimismStd) / N;
      dq2[r] = pessimisticQGradQ2(q1[r], q2[r], beta, this.pessimismStd) / N;
    }
    ctx.runPasses(true, [0, 1].map((i) => q[i].backwardPass(ws.jTraces[i], { dOut: ws.dq[i], grads: null, dInput: ws.dInput[i], accumulate: false, rows, base: bases(i) })));
    const grad: Lambda = { mean: new Float32Array(B * A), logStd: new Float32Array(B * A) };
    ctx.native.tanhGaussianGrad(heap, ws.jInput, ws.dInput[0], ws.dInput[1], rows, B, A, eps, sigma, -alpha / N, grad.mean, grad.logStd);
    return { j, q: qMean, logProb, grad };
  }
}
