import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The SD- and SDXL-shaped fixture folders from ../shared/fixtures, copied into test/fixtures so a plain
 * clone passes (the local copy is used when present, else the shared one).
 */
export function fixtureDir(
  name: 'parity-eps' | 'parity-v-int64' | 'parity-xl' | 'parity-xl-turbo' | 'parity-img2img' | 'parity-ddpm' | 'img2img',
): string {
  const local = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const shared = fileURLToPath(new URL(`../../../shared/fixtures/${name}`, import.meta.url));
  return existsSync(local) ? local : shared;
}
