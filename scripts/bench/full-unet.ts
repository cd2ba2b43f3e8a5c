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
  timingSize: number;
  /** Two rounds each, before and after alternating, so load on the machine hits both alike. */
  before: ProbeOutput[];
  /** First open with the engine's settings: optimises the graph and saves it beside the model. */
  firstOpen: ProbeOutput;
  after: ProbeOutput[];
}

export async function measureFullUnet(unetPath: string, size = 512, timingSize = 256, timingSteps = 3): Promise<FullUnetFigures> {
  await rm(join(unetPath, '..', OPTIMIZED_DIR), { recursive: true, force: true });
  const firstOpen = await probe({ unetPath, settings: 'engine', size: 0, steps: 0, timingSize: 0, timingSteps: 0 });
  const before: ProbeOutput[] = [];
  const after: ProbeOutput[] = [];
  for (let round = 0; round < 2; round++) {
    // Memory at full size in the first round only: one 512² step takes half a minute on a busy CPU.
    const memory = round === 0 ? { size, steps: 1 } : { size: 0, steps: 0 };
    before.push(await probe({ unetPath, settings: 'before', ...memory, timingSize, timingSteps }));
    after.push(await probe({ unetPath, settings: 'engine', ...memory, timingSize, timingSteps }));
  }
  return { size, timingSize, before, firstOpen, after };
}

export function printFullUnet(figures: FullUnetFigures, row: (label: string, value: string) => void): void {
  const { before, firstOpen, after, size, timingSize } = figures;
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const gb = (mb: number | undefined): string => (mb === undefined ? '–' : `${(mb / 1024).toFixed(2)} GB`);
  const best = (values: number[]): number => Math.min(...values);
  const bestLoad = (runs: ProbeOutput[]): number => best(runs.map((r) => r.loadMs));
  const bestStep = (runs: ProbeOutput[]): number => best(runs.flatMap((r) => r.timingMs));
  const [b, a] = [before[0]!, after[0]!];
  console.log(`\nfull-size SD 1.5 UNet (860 M parameters), CPU, guided (batch 2): before → after (best of ${before.length} processes each, alternating)`);
  row('load (open the session)', `${s(bestLoad(before))} → ${s(bestLoad(after))} (${a.source}; the first open optimises and saves: ${s(firstOpen.loadMs)})`);
  row(`seconds per step at ${timingSize}²`, `${s(bestStep(before))} → ${s(bestStep(after))}  ratio ${(bestStep(after) / bestStep(before)).toFixed(2)}×`);
  row(`seconds for one ${size}² step`, `${s(b.stepMs[0]!)} → ${s(a.stepMs[0]!)}`);
  row(`peak RSS during a ${size}² step`, `${gb(b.stepPeakMb)} → ${gb(a.stepPeakMb)}`);
  row('RSS held after the job (session open)', `${gb(b.afterStepsRssMb)} → ${gb(a.afterStepsRssMb)}`);
  row('RSS after releasing the session', `${gb(b.afterReleaseRssMb)} → ${gb(a.afterReleaseRssMb)}`);
}
