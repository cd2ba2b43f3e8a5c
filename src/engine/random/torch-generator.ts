/**
 * A bit-exact port of PyTorch's CPU generator (`torch.Generator("cpu")`): MT19937 plus the
 * two paths `torch.randn` takes on the CPU. Tensors of 16 or more float32 elements use the
 * batched Box-Muller fill (`normal_fill`); smaller ones draw double-precision normals one at a
 * time, caching the second value of each Box-Muller pair in the generator. Matching both paths
 * is what makes a seed give the same latents, and the same ancestral-sampler noise, as diffusers.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_MINUS_24 = 2 ** -24;
const TWO_POW_MINUS_53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;
const TWO_PI_F32 = Math.fround(2 * Math.PI);

/** Largest seed a user may give; torch keeps 64 bits but MT19937 is seeded from the low 32. */
export const MAX_SEED = 0xffffffff;

export class TorchGenerator {
  private readonly state = new Uint32Array(N);
  private index = N;
  private cachedDoubleNormal: number | undefined;

  constructor(seed: number) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
      throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
    }
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev overflows 2^53, so multiply in 16-bit halves as the reference C code does.
      mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
    this.index = N;
    this.cachedDoubleNormal = undefined;
  }

  /** Next raw 32-bit output (`generator->random()`). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `at::uniform_real_distribution<float>(0, 1)`: 24 random bits. */
  private uniformFloat(): number {
    return (this.nextUint32() & 0xffffff) * TWO_POW_MINUS_24;
  }

  /** `at::uniform_real_distribution<double>(0, 1)`: 53 bits of `random64()` (first draw is the high word). */
  private uniformDouble(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    return ((hi & 0x1fffff) * TWO_POW_32 + lo) * TWO_POW_MINUS_53;
  }

  /** `at::normal_distribution<double>(0, 1)`, with torch's cached second sample. */
  private normalDouble(): number {
    if (this.cachedDoubleNormal !== undefined) {
      const cached = this.cachedDoubleNormal;
      this.cachedDoubleNormal = undefined;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.cachedDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `torch.randn(count, generator=this)` as float32, row-major: any shape with this many elements. */
  randn(count: number): Float32Array {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`randn count must be a non-negative integer, got ${count}`);
    const out = new Float32Array(count);
    if (count < 16) {
      for (let i = 0; i < count; i++) out[i] = this.normalDouble();
      return out;
    }
    for (let i = 0; i < count; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= count; i += 16) normalFill16(out, i);
    if (count % 16 !== 0) {
      // torch redraws the final 16 values rather than leaving a ragged tail.
      const start = count - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformFloat();
      normalFill16(out, start);
    }
    return out;
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & UPPER_MASK) | (mt[(i + 1) % N]! & LOWER_MASK);
      mt[i] = (mt[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    this.index = 0;
  }
}

/** Box-Muller over 16 uniforms in float32 arithmetic, as torch's vectorised `normal_fill_16`. */
function normalFill16(data: Float32Array, offset: number): void {
  const f = Math.fround;
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[offset + j]!);
    const u2 = data[offset + j + 8]!;
    const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
    const theta = f(TWO_PI_F32 * u2);
    data[offset + j] = f(radius * f(Math.cos(theta)));
    data[offset + j + 8] = f(radius * f(Math.sin(theta)));
  }
}
