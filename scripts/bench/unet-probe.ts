/**
 * Child process for the full-size UNet figures, so each measurement starts from a fresh process:
 * opens one UNet with the engine's session settings (and its saved optimised graph) or with the
 * settings the engine had before, times the load, runs guided steps (batch 2) at the given size,
 * and reports the peak memory of the load and of the steps separately (VmHWM, reset in between
 * through /proc/self/clear_refs) and what stays resident after the steps and after release; then
 * times more steps at a smaller size, for seconds per step. Prints one JSON line.
 *
 *   tsx scripts/bench/unet-probe.ts '{"unetPath":"…","settings":"engine","size":512,"steps":1,"timingSize":256,"timingSteps":3}'
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { openWithOptimizedCache, type GraphSource } from '../../src/engine/model/optimized-graph.ts';
import { legacySessionOptions, sessionOptions } from '../../src/engine/providers.ts';

export interface ProbeInput {
  unetPath: string;
  /** `engine`: today's settings and optimised-graph cache; `before`: ONNX Runtime's defaults, as the engine ran before. */
  settings: 'engine' | 'before';
  /** Image size in pixels for the memory figures; 0 skips those steps. */
  size: number;
  steps: number;
  /** Size and number of the timed steps that follow (0 skips them). */
  timingSize: number;
  timingSteps: number;
}

export interface ProbeOutput {
  source: GraphSource;
  loadMs: number;
  loadPeakMb: number;
  stepMs: number[];
  stepPeakMb: number | undefined;
  /** The timed steps at timingSize. */
  timingMs: number[];
  /** Resident after the steps, session still open (what stays held between jobs). */
  afterStepsRssMb: number;
  afterReleaseRssMb: number;
}

function statusMb(field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}

/** "5" resets the peak resident set size (Linux ≥ 4.0). */
function resetPeak(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

const input = JSON.parse(process.argv[2] ?? '{}') as ProbeInput;
const create = (path: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> => ort.InferenceSession.create(path, options);
const t0 = performance.now();
const opened =
  input.settings === 'engine'
    ? await openWithOptimizedCache(input.unetPath, sessionOptions('cpu'), create)
    : { session: await create(input.unetPath, legacySessionOptions('cpu')), source: 'plain' as const };
const loadMs = performance.now() - t0;
const loadPeakMb = statusMb('VmHWM');
const { session } = opened;

const meta = (name: string) => session.inputMetadata.find((m) => m.name === name) as ort.InferenceSession.TensorValueMetadata;
const contextWidth = Number(meta('encoder_hidden_states').shape[2]);
function guidedFeeds(size: number): Record<string, ort.Tensor> {
  const latent = size / 8;
  return {
    sample: new ort.Tensor('float32', Float32Array.from({ length: 2 * 4 * latent * latent }, (_, i) => Math.sin(i)), [2, 4, latent, latent]),
    timestep: meta('timestep').type === 'int64' ? new ort.Tensor('int64', BigInt64Array.of(500n), [1]) : new ort.Tensor('float32', Float32Array.of(500), [1]),
    encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 77 * contextWidth }, (_, i) => Math.cos(i) * 0.1), [2, 77, contextWidth]),
  };
}
async function timedSteps(size: number, steps: number): Promise<number[]> {
  const feeds = guidedFeeds(size);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - s0);
  }
  return times;
}

let stepMs: number[] = [];
let stepPeakMb: number | undefined;
if (input.size > 0 && input.steps > 0) {
  resetPeak();
  stepMs = await timedSteps(input.size, input.steps);
  stepPeakMb = statusMb('VmHWM');
}
const afterStepsRssMb = statusMb('VmRSS');
const timingMs = input.timingSize > 0 && input.timingSteps > 0 ? await timedSteps(input.timingSize, input.timingSteps) : [];
await session.release();
const afterReleaseRssMb = statusMb('VmRSS');
const output: ProbeOutput = { source: opened.source, loadMs, loadPeakMb, stepMs, stepPeakMb, timingMs, afterStepsRssMb, afterReleaseRssMb };
process.stdout.write(`${JSON.stringify(output)}\n`);
