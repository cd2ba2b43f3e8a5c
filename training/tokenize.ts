// Tokenizes training captions with the engine's own CLIP tokenizer (the one that will read the
// prompts at inference), so the text encoder trains on exactly the ids it will later see.
// Usage: tsx training/tokenize.ts <tokenizer dir> <captions.json> <out.json>
import { readFile, writeFile } from 'node:fs/promises';
import { loadClipTokenizer } from '../src/engine/index.ts';

const [tokenizerDir, captionsPath, outPath] = process.argv.slice(2);
if (!tokenizerDir || !captionsPath || !outPath) {
  console.error('usage: tsx training/tokenize.ts <tokenizer dir> <captions.json> <out.json>');
  process.exit(2);
}
const captions = JSON.parse(await readFile(captionsPath, 'utf8')) as string[];
const tokenizer = await loadClipTokenizer(tokenizerDir);
const endId = tokenizer.encode('')[1]!;
// Ids up to and including the first end token; the rest of the 77 is padding the model ignores.
const ids = captions.map((caption) => {
  const all = tokenizer.encode(caption);
  return all.slice(0, all.indexOf(endId) + 1);
});
await writeFile(outPath, JSON.stringify({ endId, maxLength: tokenizer.maxLength, ids }));
