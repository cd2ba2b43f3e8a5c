import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Runs `fill` on a fresh hidden sibling of `outDir` and only then moves it into place, so a crashed
 * or concurrent build never leaves a folder that looks complete. Same parent directory means the
 * final rename is atomic (one filesystem).
 */
export async function buildAtomically<T>(outDir: string, fill: (dir: string) => Promise<T>): Promise<T> {
  const target = resolve(outDir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}.building-`));
  try {
    const result = await fill(staging);
    // mkdtemp makes the folder owner-only; a model folder should be as readable as any other.
    await chmod(staging, 0o755);
    await publish(staging, target);
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function publish(staging: string, target: string): Promise<void> {
  try {
    await rename(staging, target);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
  }
  // An older build (or a concurrent identical one) is there: swap it out, then delete it.
  const old = join(dirname(target), `.${basename(target)}.old-${randomBytes(4).toString('hex')}`);
  await rename(target, old);
  await rename(staging, target);
  await rm(old, { recursive: true, force: true });
}

export async function writeText(dir: string, relativePath: string, contents: string): Promise<void> {
  const path = join(dir, relativePath);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, contents);
}
