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

/**
 * Writes up to `pairs` Box-Muller pairs of standard normals into out[start ..] from xoshiro128** state words
 * (advanced in place), as Rng.fillNormal draws them; returns the pairs written (fewer only before a pair whose
 * first uniform is 0). The native addon's normalPairs is one.
 */
export type NormalPairsKernel = (state: Uint32Array, out: Float32Array, start: number, pairs: number) => number;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** [0, 1) from two raw outputs: 27 bits of the first, 26 of the second. */
function unit53(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
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
  private readonly one = new Uint32Array(1);

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
    return this.fillUint32(this.one)[0];
  }

  /**
   * Fills `out` with the next raw outputs, in order. The state lives in locals during the loop (~2x faster per
   * output than a method call each, which matters for the millions of normals an iterative update draws).
   */
  fillUint32(out: Uint32Array): Uint32Array {
    const st = this.s;
    let s0 = st[0] | 0;
    let s1 = st[1] | 0;
    let s2 = st[2] | 0;
    let s3 = st[3] | 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return out;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32();
    return unit53(hi, this.nextUint32());
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

  /**
   * Fills `out` with normal draws: the same values, and the same state after, as calling `normal` for each
   * element, with the stream's words drawn in one block (fillUint32).
   */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): typeof out {
    let i = 0;
    if (out.length > 0 && this.spareNormal !== null) out[i++] = this.normal(mean, std);
    const pairs = Math.ceil((out.length - i) / 2);
    const saved = this.s.slice();
    const words = this.fillUint32(new Uint32Array(4 * pairs));
    for (let p = 0; p < pairs; p++) {
      const u = unit53(words[4 * p], words[4 * p + 1]);
      if (u === 0) {
        // normal() would draw u again from the next words (probability 2^-53): replay the stream to here
        this.s = saved;
        this.fillUint32(new Uint32Array(4 * p));
        for (; i < out.length; i++) out[i] = this.normal(mean, std);
        return out;
      }
      const r = Math.sqrt(-2 * Math.log(u));
      const angle = 2 * Math.PI * unit53(words[4 * p + 2], words[4 * p + 3]);
      out[i++] = mean + std * r * Math.cos(angle);
      const second = r * Math.sin(angle);
      if (i < out.length) out[i++] = mean + std * second;
      else this.spareNormal = second;
    }
    return out;
  }

  /**
   * fillNormal(out) for standard normals into a Float32Array, with the Box-Muller pairs computed by `pairs` (the
   * native addon's normalPairs: it advances this generator's state words in place and stops before a pair whose
   * first uniform is 0). The spare normal, an odd last element and that rare pair go through `normal` as here.
   * Float32 values equal fillNormal's unless the kernel's log/cos/sin round a double differently across a float32
   * boundary (none in 8 million draws measured); the state after is always the same.
   */
  fillStandardNormal(out: Float32Array, pairs: NormalPairsKernel): Float32Array {
    let i = 0;
    if (out.length > 0 && this.spareNormal !== null) out[i++] = this.normal();
    i += 2 * pairs(this.s, out, i, (out.length - i) >> 1);
    for (; i < out.length; i++) out[i] = this.normal();
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

/**
 * A 32-bit seed from a list of parts (run seed, step, estimator name, pair and rollout index), by FNV-1a over
 * their text: the same parts always give the same seed, and seeds of different parts are unrelated, so each
 * rollout's stream does not depend on how rollouts are batched or shared between processes.
 */
export function deriveSeed(...parts: (number | string)[]): number {
  const text = parts.map(String).join("\u0000");
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
