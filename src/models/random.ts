/**
 * A small seeded PRNG so that weight init, data shuffles and tests are reproducible across runs and machines
 * (Math.random cannot be seeded). mulberry32: 32-bit state, passes the usual statistical batteries well enough
 * for initialisation and sampling, and is a handful of integer ops per draw.
 */
import { InputError } from '../errors.js';
export class SeededRandom {
  private state: number;
  /** Box-Muller yields normals in pairs; the second is kept for the next call. */
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new InputError(`SeededRandom: seed must be a finite number, got ${seed}`);
    // Mix the seed once so that nearby seeds (0, 1, 2, ...) do not start from nearby states.
    let s = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    // 1 - next() lies in (0, 1], so the log is finite.
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}
