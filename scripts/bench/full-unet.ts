/**
 * Full-size SD 1.5 UNet on the CPU, before and after the engine's memory settings and saved
 * optimised graph, side by side: load time, seconds per guided step (batch 2), peak RSS of a step,
 * and what stays resident after it. Each figure comes from its own child process (unet-probe.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OPTIMIZED_DIR } from '../../src/engine/model/optimized-graph.ts';
import { buildModel } from '../../src/models/builder/index.ts';
import type { ProbeInput, ProbeOutput } from './unet-probe.ts';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('./unet-probe.ts', import.meta.url));

/** The builder's `--preset sd15` UNet (860 M parameters, 3.45 GB), built once outside the repository. */
export async function ensureFullUnet(dir = join(tmpdir(), 'imagine-bench-sd15')): Promise<string> {
  const unetPath = join(dir, 'unet', 'model.onnx');
  if (!existsSync(unetPath)) {
    console.log(`building the full-size SD 1.5 UNet into ${dir} (once; 3.45 GB) …`);
    await buildModel(dir, { preset: 'sd15', components: ['unet'] });
  }
  return unetPath;
}

async function probe(input: ProbeInput): Promise<ProbeOutput> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', PROBE, JSON.stringify(input)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeOutput;
}

export interface FullUnetFigures {
  size: number;
  steps: number;
  before: ProbeOutput;
  /** First open with the engine's settings: optimises the graph and saves it beside the model. */
  firstOpen: ProbeOutput;
  after: ProbeOutput;
}

export async function measureFullUnet(unetPath: string, size = 512, steps = 2): Promise<FullUnetFigures> {
  await rm(join(unetPath, '..', OPTIMIZED_DIR), { recursive: true, force: true });
  const before = await probe({ unetPath, settings: 'before', size, steps });
  const firstOpen = await probe({ unetPath, settings: 'engine', size: 0, steps: 0 });
  const after = await probe({ unetPath, settings: 'engine', size, steps });
  return { size, steps, before, firstOpen, after };
}

export function printFullUnet(figures: FullUnetFigures, row: (label: string, value: string) => void): void {
  const { before, firstOpen, after, size, steps } = figures;
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const gb = (mb: number | undefined): string => (mb === undefined ? '–' : `${(mb / 1024).toFixed(2)} GB`);
  const best = (values: number[]): number => Math.min(...values);
  console.log(`\nfull-size SD 1.5 UNet (860 M parameters), CPU, ${size}×${size}, guided (batch 2), best of ${steps} steps: before → after`);
  row('load (open the session)', `${s(before.loadMs)} → ${s(after.loadMs)} (${after.source}; first open optimises and saves: ${s(firstOpen.loadMs)})`);
  row('seconds per step', `${s(best(before.stepMs))} → ${s(best(after.stepMs))}  ratio ${(best(after.stepMs) / best(before.stepMs)).toFixed(2)}×`);
  row('peak RSS during the steps', `${gb(before.stepPeakMb)} → ${gb(after.stepPeakMb)}`);
  row('RSS held after the job (session open)', `${gb(before.afterStepsRssMb)} → ${gb(after.afterStepsRssMb)}`);
  row('RSS after releasing the session', `${gb(before.afterReleaseRssMb)} → ${gb(after.afterReleaseRssMb)}`);
}
