/** Small statistics over plain number lists, shared by the training loop's logs and the analyses. */

/** Arithmetic mean, summed left to right in double; NaN for an empty list. Takes typed arrays too. */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** Mean and population standard deviation (divide by n, as the paper's "± std over seeds"). */
export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  const m = mean(values);
  return { mean: m, std: Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length) };
}

/** The middle value (the mean of the two middle ones for an even count); NaN for an empty list. Leaves `values` as is. */
export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
