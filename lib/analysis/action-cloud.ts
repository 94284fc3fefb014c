/**
 * Actions sampled from tanh-Gaussian policies, a = tanh(μ + σ ε) with ε ~ N(0, I), for drawing where each of
 * several policy estimates puts its mass (Fig 2's densities). Plain numbers: these are plotted, not trained on.
 */
import type { Rng } from "../core/rng";
import { LOG_STD_MAX, LOG_STD_MIN } from "../policy/params";

/**
 * `samples` actions from each row of λ = (μ, log σ) ([rows · |A|] each, log σ clipped as the optimizers clip
 * it), noise drawn from `rng` in output order: [rows · samples · |A|], row-major.
 */
export function sampleActions(mean: ArrayLike<number>, logStd: ArrayLike<number>, actionSize: number, samples: number, rng: Rng): Float32Array {
  const rows = mean.length / actionSize;
  const out = rng.fillNormal(new Float32Array(rows * samples * actionSize)) as Float32Array;
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < samples; n++) {
      for (let a = 0; a < actionSize; a++) {
        const k = (r * samples + n) * actionSize + a;
        const sigma = Math.exp(Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, logStd[r * actionSize + a])));
        out[k] = Math.tanh(mean[r * actionSize + a] + sigma * out[k]);
      }
    }
  }
  return out;
}
