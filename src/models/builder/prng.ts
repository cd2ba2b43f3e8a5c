/**
 * Deterministic weight values. Every tensor is seeded from its own name plus the model seed, so a
 * tensor's values do not depend on build order and each can be generated just before it is
 * written (the streaming writer never holds more than one tensor).
 */

const SQRT3 = Math.sqrt(3);
const TWO_POW_MINUS_32 = 2 ** -32;

/** FNV-1a over UTF-16 code units: stable, cheap, and good enough to separate parameter names. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 finaliser; decorrelates seeds that differ in a few bits (seed 0 vs 1, "a.0" vs "a.1"). */
export function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export function tensorSeed(modelSeed: number, name: string): number {
  return mix32(hashString(name) ^ mix32(modelSeed + 0x9e3779b9));
}

/**
 * Fills `out` with mean + std * U, U uniform with unit variance. Uniform rather than normal keeps
 * the loop to integer ops and a multiply, which matters at SD 1.5 size (860M values), and bounds
 * every weight by mean ± 1.74 std, so no outlier can push float16 activations towards overflow.
 */
export function fillUniform(out: Float32Array, seed: number, mean: number, std: number): void {
  if (std === 0) {
    out.fill(mean);
    return;
  }
  const scale = 2 * SQRT3 * std * TWO_POW_MINUS_32;
  const offset = mean - SQRT3 * std;
  let state = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    // splitmix32: a Weyl sequence through the finaliser, inlined because this loop is the hot path.
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    out[i] = offset + z * scale;
  }
}
