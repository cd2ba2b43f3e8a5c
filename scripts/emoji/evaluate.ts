// Figures for emoji-sd: images for the 100 evaluation prompts (training/eval-prompts.json), drawn by
// OUR engine at its default settings, with and without guidance, named by the independent judge.
// Usage: npm run models:evaluate [-- --model DIR --report FILE]; writes training/logs/evaluation.json.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createEngine, DEFAULTS } from '../../src/engine/index.ts';
import { defaultModelDir } from '../../src/models/default-model.ts';
import { EmojiJudge } from './judge.ts';

interface EvalPrompt {
  prompt: string;
  subcategory: string;
  emoji: number;
}

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const options = new Command('evaluate')
  .option('--model <dir>', 'model folder (default: models/emoji-sd)')
  .option('--report <file>', 'where to write the figures', root('training/logs/evaluation.json'))
  .parse()
  .opts<{ model?: string; report: string }>();
const prompts = JSON.parse(await readFile(root('training/eval-prompts.json'), 'utf8')) as EvalPrompt[];
const judge = await EmojiJudge.load();
const heldOut = new Set((JSON.parse(await readFile(root('models/emoji-judge/judge.json'), 'utf8')) as { heldout_emoji_ids: number[] }).heldout_emoji_ids);
const engine = await createEngine({ modelDir: options.model ?? defaultModelDir(), provider: 'cpu', backend: 'in-thread' });

const settings = [
  { name: 'guidance 7.5 (default)', guidance: DEFAULTS.guidance },
  { name: 'no guidance (1.0)', guidance: 1 },
];
const report: Record<string, unknown> = { model: engine.info.model.name, steps: DEFAULTS.steps, prompts: prompts.length, judge: judge.figures };
for (const setting of settings) {
  let top1 = 0;
  let top5 = 0;
  const rows = [];
  for (const [index, item] of prompts.entries()) {
    const result = await engine.generate({ prompt: item.prompt, seed: 1000 + index, guidance: setting.guidance });
    const ranked = await judge.rank(result.images[0]!.rgb);
    const rank = ranked.indexOf(item.subcategory);
    if (rank === 0) top1++;
    if (rank >= 0 && rank < 5) top5++;
    rows.push({ prompt: item.prompt, expected: item.subcategory, judged: ranked[0], rank: rank + 1, judgeSawEmoji: !heldOut.has(item.emoji) });
  }
  report[setting.name] = { top1: top1 / prompts.length, top5: top5 / prompts.length, scheduler: engine.info.model.defaultScheduler, rows };
  console.log(`${setting.name}: top-1 ${top1}/${prompts.length}, top-5 ${top5}/${prompts.length}`);
}
console.log(`chance: top-1 ${(1 / judge.labels.length).toFixed(3)}; judge on held-out real emoji: top-1 ${judge.figures.heldout_top1.toFixed(3)}, top-5 ${judge.figures.heldout_top5.toFixed(3)}`);
await writeFile(options.report, `${JSON.stringify(report, null, 1)}\n`);
await engine.close();
await judge.close();
