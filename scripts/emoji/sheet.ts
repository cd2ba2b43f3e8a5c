// The README's contact sheet: emoji-sd's images for a fixed list of prompts, each enlarged
// (nearest-neighbour) with its prompt under it. Usage: npm run models:sheet [-- --model DIR --out FILE]
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import sharp, { type OverlayOptions } from 'sharp';
import { createEngine, type RgbImage } from '../../src/engine/index.ts';
import { defaultModelDir } from '../../src/models/default-model.ts';

export const SHEET_PROMPTS = [
  'red apple', 'a cat face', 'sun', 'pizza', 'dog face', 'red heart',
  'grinning face', 'a rocket', 'snowman', 'ghost', 'banana', 'crying face',
  'a fire engine', 'birthday cake', 'soccer ball', 'tree', 'a rainbow', 'frog face',
  'hot beverage', 'a key', 'guitar', 'penguin', 'watermelon', 'smiling face with sunglasses',
] as const;
const CELL = 128;
const LABEL = 34;
const COLUMNS = 6;
const SEED = 42;

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function labelSvg(prompt: string): Buffer {
  const words = prompt.split(' ');
  const lines: string[] = [];
  for (const word of words) {
    const last = lines.at(-1);
    if (last !== undefined && `${last} ${word}`.length <= 20) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  const text = lines
    .slice(0, 2)
    .map((line, i) => `<text x="${CELL / 2}" y="${13 + i * 14}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#222">${escapeXml(line)}</text>`)
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${CELL}" height="${LABEL}">${text}</svg>`);
}

async function cell(image: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(CELL, CELL, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

const options = new Command('sheet')
  .option('--model <dir>', 'model folder (default: models/emoji-sd)')
  .option('--out <file>', 'output PNG', fileURLToPath(new URL('../../docs/emoji-sheet.png', import.meta.url)))
  .parse()
  .opts<{ model?: string; out: string }>();
const engine = await createEngine({ modelDir: options.model ?? defaultModelDir(), provider: 'cpu', backend: 'in-thread' });
const layers: OverlayOptions[] = [];
for (const [index, prompt] of SHEET_PROMPTS.entries()) {
  const result = await engine.generate({ prompt, seed: SEED });
  const left = (index % COLUMNS) * CELL;
  const top = Math.floor(index / COLUMNS) * (CELL + LABEL);
  layers.push({ input: await cell(result.images[0]!.rgb), left, top }, { input: labelSvg(prompt), left, top: top + CELL });
}
await engine.close();
const rows = Math.ceil(SHEET_PROMPTS.length / COLUMNS);
await mkdir(dirname(options.out), { recursive: true });
await sharp({ create: { width: COLUMNS * CELL, height: rows * (CELL + LABEL), channels: 3, background: '#ffffff' } })
  .composite(layers)
  .png()
  .toFile(options.out);
console.log(`${options.out}: ${SHEET_PROMPTS.length} prompts, seed ${SEED}, ${engine.info.model.name} at its default settings`);
