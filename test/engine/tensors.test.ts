import { describe, expect, it } from 'vitest';
import { float32ToHalf, fromHalfBits, halfToFloat32, toHalfBits } from '../../src/engine/model/float16.ts';
import { timestepTensor } from '../../src/engine/pipeline/tensors.ts';

describe('timestep tensors, cast as np.array([t], dtype=…)', () => {
  it('int64 truncates toward zero', () => {
    const t = timestepTensor('int64', 'single', 887.9999, 2);
    expect(t.dims).toEqual([1]);
    expect(Array.from(t.data as BigInt64Array)).toEqual([887n]);
  });
  it('float32 keeps the float32 value', () => {
    expect(Array.from(timestepTensor('float32', 'single', 41.625, 2).data as Float32Array)).toEqual([41.625]);
  });
  it('float16 rounds to the nearest half value', () => {
    // Between 512 and 1024 half precision steps by 0.5: 887.3 → 887.5.
    expect(fromHalfBits((timestepTensor('float16', 'single', 887.3, 1).data as Uint16Array)[0]!)).toBe(887.5);
  });
  it('shapes: scalar [], single [1], batch [n]', () => {
    expect(timestepTensor('float32', 'scalar', 1, 4).dims).toEqual([]);
    expect(timestepTensor('float32', 'batch', 1, 4).dims).toEqual([4]);
    expect(Array.from(timestepTensor('int32', 'batch', 3.7, 3).data as Int32Array)).toEqual([3, 3, 3]);
  });
});

describe('float16 conversion', () => {
  it('known bit patterns', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(0.1)).toBe(0x2e66);
  });
  it('ties round to even, like numpy', () => {
    // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): even mantissa wins.
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });
  it('every finite half value survives a round trip', () => {
    const all = Uint16Array.from({ length: 0x10000 }, (_, i) => i).filter((bits) => (bits & 0x7c00) !== 0x7c00);
    expect(Array.from(float32ToHalf(halfToFloat32(all)))).toEqual(Array.from(all));
  });
});
