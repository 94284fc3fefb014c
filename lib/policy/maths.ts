/**
 * The policy-side maths of a SAC update, once, as small pure functions on plain numbers and arrays: the
 * pessimistic value (Eq. 12), the gated update (Eq. 11), the bounds on log σ (hard clip or soft clamp), the
 * iterative optimizer's input normalisation, and the tanh-Gaussian's sample, log-density and gradients.
 *
 * The hand-written update of the native backend (lib/agents/sac/fused/) calls these in its loops. The tfjs
 * autodiff path writes the same equations as tf ops (objective.ts, iterative.ts, params.ts,
 * input-normalization.ts, tanh-gaussian.ts) so tfjs can differentiate them, and the native addon keeps a C++
 * copy of the tanh-Gaussian for speed; tests/policy/maths.test.ts checks each function against hand-computed
 * values and finite differences, and each of those other forms against these on random inputs.
 * Shapes: λ and its gradients are [batch, |A|] row-major.
 */
import { LOG_STD_MAX, LOG_STD_MIN, SOFT_LOG_STD_MAX, SOFT_LOG_STD_MIN, type LogStdBounds } from "./params";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The std of {Q1, Q2} in Eq. 12: "population" (|Q1 − Q2|/2, so β = 1 is min(Q1, Q2): the paper's reading) or
 * "unbiased" (|Q1 − Q2|/√2, the authors' code: a penalty √2 larger at the same β, so β_unbiased = β_population/√2
 * gives the same values).
 */
export const PESSIMISM_STDS = ["population", "unbiased"] as const;
export type PessimismStd = (typeof PESSIMISM_STDS)[number];

/** k with std(Q1, Q2) = k·|Q1 − Q2|: ½ (population) or 1/√2 (unbiased). */
export function pessimismStdFactor(std: PessimismStd): number {
  return std === "population" ? 0.5 : Math.SQRT1_2;
}

/** Eq. 12: Q_pess = ½(Q1 + Q2) − β·k|Q1 − Q2|, k = pessimismStdFactor (population: ½, so β = 1 is min(Q1, Q2)). */
export function pessimisticQValue(q1: number, q2: number, beta: number, std: PessimismStd = "population"): number {
  return 0.5 * (q1 + q2) - pessimismStdFactor(std) * beta * Math.abs(q1 - q2);
}

/** ∂Q_pess/∂Q1 = ½ − kβ·s with s = 1 if Q1 > Q2, else −1 (tf's subgradient of |x|: −1 at x = 0). */
export function pessimisticQGradQ1(q1: number, q2: number, beta: number, std: PessimismStd = "population"): number {
  return 0.5 - pessimismStdFactor(std) * beta * (q1 > q2 ? 1 : -1);
}

/** ∂Q_pess/∂Q2 = ½ + kβ·s, s as in pessimisticQGradQ1. */
export function pessimisticQGradQ2(q1: number, q2: number, beta: number, std: PessimismStd = "population"): number {
  return 0.5 + pessimismStdFactor(std) * beta * (q1 > q2 ? 1 : -1);
}

/** σ(x) = 1 / (1 + e^−x): the gate ω of Eq. 11 from the network's logit. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Eq. 11 on one entry of λ: λ' = ω λ + (1 − ω) δ. */
export function gatedUpdateValue(previous: number, delta: number, gate: number): number {
  return gate * previous + (1 - gate) * delta;
}

/** Back-propagation of `upstream` = ∂L/∂λ' through Eq. 11 to δ: ∂L/∂δ = (1 − ω)·upstream. */
export function gatedGradDelta(gate: number, upstream: number): number {
  return (1 - gate) * upstream;
}

/** … and to the gate's logit x (ω = σ(x), ∂ω/∂x = ω(1 − ω)): ∂L/∂x = (λ − δ)·upstream·ω(1 − ω). */
export function gatedGradGateLogit(previous: number, delta: number, gate: number, upstream: number): number {
  return (previous - delta) * upstream * gate * (1 - gate);
}

/** log σ clipped to [LOG_STD_MIN, LOG_STD_MAX]. */
export function clipLogStdValue(logStd: number): number {
  return Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, logStd));
}

/** Whether the clip passes its gradient at `logStd` (tf's clipByValue: inside the closed range). */
export function logStdInRange(logStd: number): boolean {
  return logStd >= LOG_STD_MIN && logStd <= LOG_STD_MAX;
}

/**
 * The authors' soft clamp of log σ towards (lo, hi) = (SOFT_LOG_STD_MIN, SOFT_LOG_STD_MAX):
 *   y = hi − softplus(hi − x),   then   lo + softplus(y − lo),
 * with values in (lo, lo + softplus(hi − lo)) ≈ (−10, 0.50003). Smooth and increasing, so a gradient always
 * flows; in the middle of the range it is close to (not equal to) x: softClampLogStdValue(0) ≈ −0.474.
 */
export function softClampLogStdValue(x: number): number {
  const y = SOFT_LOG_STD_MAX - softplus(SOFT_LOG_STD_MAX - x);
  return SOFT_LOG_STD_MIN + softplus(y - SOFT_LOG_STD_MIN);
}

/** d softClampLogStdValue/dx = sigmoid(hi − x)·sigmoid(y − lo), y = hi − softplus(hi − x) (softplus' = sigmoid). */
export function softClampLogStdGrad(x: number): number {
  const y = SOFT_LOG_STD_MAX - softplus(SOFT_LOG_STD_MAX - x);
  return sigmoid(SOFT_LOG_STD_MAX - x) * sigmoid(y - SOFT_LOG_STD_MIN);
}

/** log σ from an optimizer's raw output under `bounds`: the hard clip (clipLogStdValue) or the soft clamp. */
export function boundLogStdValue(x: number, bounds: LogStdBounds): number {
  return bounds === "hard-clip" ? clipLogStdValue(x) : softClampLogStdValue(x);
}

/** d boundLogStdValue/dx: 1 inside the hard clip's range and 0 outside it (tf's clipByValue), or the soft clamp's slope. */
export function boundLogStdGrad(x: number, bounds: LogStdBounds): number {
  if (bounds === "hard-clip") return logStdInRange(x) ? 1 : 0;
  return softClampLogStdGrad(x);
}

/** x[from .. from + len) copied unchanged into out[at ..] (an input fed raw); @returns the next free index of out */
export function copyRow(x: ArrayLike<number>, from: number, len: number, out: Float32Array, at: number): number {
  for (let i = 0; i < len; i++) out[at + i] = x[from + i];
  return at + len;
}

/**
 * The iterative optimizer's per-example input normalisation (A.4; input-normalization.ts) of one row,
 * x[from .. from + len) into out[at ..]: m = mean x, std = sqrt(var x + 1e-10), (x − m)/(std + 1e-5); with
 * `scaled` ("layer+scale"), then sign(m)·log(1 + |m|) and log(std + 1e-8). m and var are rounded to float32
 * as tf's moments gives them.
 * @returns the next free index of out
 */
export function normalizeRow(x: ArrayLike<number>, from: number, len: number, out: Float32Array, at: number, scaled: boolean): number {
  let m = 0;
  for (let i = 0; i < len; i++) m += x[from + i];
  m = Math.fround(m / len);
  let v = 0;
  for (let i = 0; i < len; i++) {
    const d = x[from + i] - m;
    v += d * d;
  }
  const std = Math.sqrt(Math.fround(v / len) + 1e-10);
  for (let i = 0; i < len; i++) out[at + i] = (x[from + i] - m) / (std + 1e-5);
  if (!scaled) return at + len;
  out[at + len] = Math.sign(m) * Math.log1p(Math.abs(m));
  out[at + len + 1] = Math.log(std + 1e-8);
  return at + len + 2;
}

/** A reparameterised action a = tanh(μ + σ ε), σ = exp(log σ), each step rounded to float32 as tf's ops round it. */
export function tanhGaussianAction(mean: number, logStd: number, eps: number): number {
  return Math.tanh(Math.fround(mean + Math.fround(Math.fround(Math.exp(logStd)) * eps)));
}

/** softplus(x) = log(1 + e^x), without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * One dimension's term of log π(a) at a = tanh u (change of variables, exact and finite for any u):
 *   log N(u; μ, σ) − log(1 − tanh² u) = −(½z² + log σ + ½ log 2π) − 2(log 2 − u − softplus(−2u)),  z = (u − μ)/σ.
 * log π(a|s) is the sum over the |A| dimensions.
 */
export function tanhGaussianLogDensity(u: number, mean: number, logStd: number): number {
  const z = (u - mean) / Math.exp(logStd);
  return -(0.5 * z * z + logStd + HALF_LOG_2PI) - 2 * (Math.LN2 - u - softplus(-2 * u));
}

/**
 * Partial derivatives of tanhGaussianLogDensity at z = (u − μ)/σ, a = tanh u:
 *   ∂/∂u (μ, σ fixed) = −z/σ + 2a,   ∂/∂μ (u fixed) = z/σ,   ∂/∂log σ (u fixed) = z² − 1.
 */
export function logDensityGradU(z: number, sigma: number, a: number): number {
  return -z / sigma + 2 * a;
}

export function logDensityGradMean(z: number, sigma: number): number {
  return z / sigma;
}

export function logDensityGradLogStd(z: number): number {
  return z * z - 1;
}

/**
 * ∇λ of g(a) + c·log π(a) at one reparameterised sample u = μ + σ ε, a = tanh u (so z = ε), from dg/da:
 *   ∂u: du = dg/da·(1 − a²) + c·(−ε/σ + 2a);   ∂/∂μ = du + c·ε/σ;   ∂/∂log σ = du·σ ε + c·(ε² − 1).
 * J's gradient (Eq. 7) is this with g = Q_pess/N and c = −α/N, summed over the N samples.
 */
export function reparameterizedGradMean(dgda: number, a: number, eps: number, sigma: number, c: number): number {
  return dgda * (1 - a * a) + c * logDensityGradU(eps, sigma, a) + c * logDensityGradMean(eps, sigma);
}

export function reparameterizedGradLogStd(dgda: number, a: number, eps: number, sigma: number, c: number): number {
  return (dgda * (1 - a * a) + c * logDensityGradU(eps, sigma, a)) * sigma * eps + c * logDensityGradLogStd(eps);
}
