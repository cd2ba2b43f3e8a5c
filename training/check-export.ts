// Runs the exported ONNX graphs on the inputs training/parity_dump.py saved and compares them with
// PyTorch's outputs: catches export mistakes (baked-in shapes, wrong names) before any training run
// is judged. Usage: tsx training/check-export.ts [model dir]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const modelDir = process.argv[2] ?? 'models/emoji-sd';
const dump = JSON.parse(await readFile('training/.cache/checkpoints/parity.json', 'utf8')) as Record<string, number[]>;
const get = (key: string): number[] => {
  const value = dump[key];
  if (!value) throw new Error(`parity.json has no ${key}`);
  return value;
};

async function check(part: string, feeds: Record<string, ort.Tensor>, expected: number[]): Promise<boolean> {
  const session = await ort.InferenceSession.create(join(modelDir, part, 'model.onnx'));
  const output = await session.run(feeds);
  const actual = output[session.outputNames[0]!]!.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  const ok = actual.length === expected.length && worst < 1e-3;
  console.log(`${part}: ${actual.length} values, max |onnx - torch| = ${worst.toExponential(2)} ${ok ? 'ok' : 'MISMATCH'}`);
  await session.release();
  return ok;
}

const results = [
  await check('text_encoder', { input_ids: new ort.Tensor('int32', Int32Array.from(get('ids')), [1, 77]) }, get('hidden')),
  await check(
    'unet',
    {
      sample: new ort.Tensor('float32', Float32Array.from(get('sample')), [2, 4, 8, 12]),
      timestep: new ort.Tensor('float32', Float32Array.from(get('timestep')), [1]),
      encoder_hidden_states: new ort.Tensor('float32', Float32Array.from(get('context')), [2, 77, get('context').length / 154]),
    },
    get('noise'),
  ),
  await check('vae_decoder', { latent_sample: new ort.Tensor('float32', Float32Array.from(get('latent')), [1, 4, 8, 8]) }, get('decoded')),
  await check('vae_encoder', { sample: new ort.Tensor('float32', Float32Array.from(get('image')), [1, 3, 64, 64]) }, get('parameters')),
];
process.exit(results.every(Boolean) ? 0 : 1);
