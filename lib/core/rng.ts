/**
 * Seeded random numbers: xoshiro128** (Blackman & Vigna) seeded by splitmix32.
 * Everything random in the library (env resets, replay sampling, action noise) draws from one of these,
 * so a run is a function of its seed, and `getState`/`setState` make checkpoints resume exactly.
 */

/** The complete state of an `Rng`: four 32-bit words plus the cached second Box-Muller normal. */
export interface RngState {
  /** xoshiro128** state words, each an unsigned 32-bit integer. */
  s: [number, number, number, number];
  /** The spare standard normal from the last Box-Muller pair, or null. */
  spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32: spreads a small integer seed over 32 bits, so seeds 0, 1, 2 give unrelated streams. */
function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s: Uint32Array;
  private spareNormal: number | null = null;

  /** @param seed any integer (taken modulo 2^32); the same seed always gives the same stream. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng seed must be an integer, got ${seed}`);
    const mix = { x: seed >>> 0 };
    this.s = new Uint32Array([splitmix32(mix), splitmix32(mix), splitmix32(mix), splitmix32(mix)]);
    if (this.s.every((w) => w === 0)) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** Builds a generator with exactly the given state (see `getState`). */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** Next raw output, an unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Uniform integer in [0, n). Rejection sampling keeps it unbiased for any n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal by Box-Muller; the second value of each pair is kept for the next call. */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = this.random();
    while (u === 0) u = this.random(); // log(0) would be -inf
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with uniform draws in [low, high). */
  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /** Fills `out` with normal draws. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A new generator whose stream is independent of this one's (seeded from it), for a sub-component. */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  /** A 32-bit seed drawn from this stream (e.g. to seed tfjs ops or an environment). */
  nextSeed(): number {
    return this.nextUint32();
  }

  getState(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spareNormal: this.spareNormal };
  }

  setState(state: RngState): void {
    if (!Array.isArray(state.s) || state.s.length !== 4 || state.s.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new RangeError("Rng.setState: state.s must be four unsigned 32-bit integers");
    }
    if (state.s.every((w) => w === 0)) throw new RangeError("Rng.setState: the all-zero state is invalid");
    this.s = new Uint32Array(state.s);
    this.spareNormal = state.spareNormal;
  }
}
