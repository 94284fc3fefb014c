/** Small statistics over plain number lists, shared by the training loop's logs and the analyses. */

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean and population standard deviation (divide by n, as the paper's "± std over seeds"). */
export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  const m = mean(values);
  return { mean: m, std: Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length) };
}
