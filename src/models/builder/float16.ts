/** IEEE 754 binary16 conversions; Node 20 has no Float16Array, so float16 tensors travel as Uint16Array bits. */

/** Round-to-nearest-even, like numpy's astype(float16) and torch's .half(), so exports compare bit for bit. */
export function float32ToFloat16Bits(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff) {
      dst[i] = sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
      continue;
    }
    const e = exp - 112; // rebias 127 -> 15
    if (e >= 0x1f) {
      dst[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        dst[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && (half & 1) !== 0)) half++;
      dst[i] = sign | half;
    } else {
      let half = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      // A carry out of the mantissa correctly bumps the exponent (and reaches Inf at the top).
      if (rem > 0x1000 || (rem === 0x1000 && (half & 1) !== 0)) half++;
      dst[i] = sign | half;
    }
  }
  return dst;
}

export function float16BitsToFloat32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) dst[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) dst[i] = mant !== 0 ? NaN : sign * Infinity;
    else dst[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return dst;
}
