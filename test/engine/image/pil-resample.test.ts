import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pilResize, type ResampleFilter } from '../../../src/engine/image/pil-resample.ts';

interface Cases {
  pillow: string;
  width: number;
  height: number;
  rgb: string;
  cases: { filter: ResampleFilter; width: number; height: number; rgb: string }[];
}

// Pillow's own output (test/fixtures/pil-resize/make.py): the oracle is Pillow, not this code.
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/pil-resize/cases.json', import.meta.url), 'utf8')) as Cases;
const source = { width: fixture.width, height: fixture.height, data: new Uint8Array(Buffer.from(fixture.rgb, 'base64')) };

describe(`pilResize equals Pillow ${fixture.pillow}'s Image.resize`, () => {
  for (const c of fixture.cases) {
    it(`${c.filter} ${fixture.width}×${fixture.height} → ${c.width}×${c.height}`, () => {
      const out = pilResize(source, c.width, c.height, c.filter);
      expect(out).toMatchObject({ width: c.width, height: c.height });
      expect(Buffer.from(out.data).equals(Buffer.from(c.rgb, 'base64'))).toBe(true);
    });
  }

  it('same size returns an equal copy, not the same buffer', () => {
    const out = pilResize(source, source.width, source.height, 'lanczos');
    expect(out.data).not.toBe(source.data);
    expect(Buffer.from(out.data).equals(Buffer.from(source.data))).toBe(true);
  });

  it('refuses an empty target', () => {
    expect(() => pilResize(source, 0, 4, 'bicubic')).toThrow(/at least 1×1/);
  });
});
