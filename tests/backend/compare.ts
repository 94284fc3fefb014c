/** Helpers shared by the backend tests: random data, reference results on tfjs "cpu", relative error. */
import { tf } from "../../lib/backend/tf";
import { useBackend, type BackendName } from "../../lib/backend/select";
import { Rng } from "../../lib/core/rng";

/** max |got - want| / max |want|: the error relative to the result's scale (robust to near-zero entries). */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export interface HostTensor {
  values: Float32Array;
  shape: number[];
}

export function randomHost(rng: Rng, shape: number[], std = 1): HostTensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return { values: rng.fillNormal(new Float32Array(n), 0, std) as Float32Array, shape };
}

export const toTensor = (h: HostTensor): tf.Tensor => tf.tensor(h.values, h.shape, "float32");

/** Runs f on the named backend with fresh tensors made from host data; returns the results' values and shapes. */
export async function runOn(backend: BackendName, f: () => tf.Tensor | tf.Tensor[]): Promise<HostTensor[]> {
  await useBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const host = list.map((t) => ({ values: t.dataSync() as Float32Array, shape: t.shape.slice() }));
  tf.dispose(list);
  return host;
}
