const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The first banned word or phrase that appears in `text` as a whole word, ignoring case. Letters,
 * digits and underscores around a match make it part of a longer word ("class" does not match "ass").
 */
export function findBannedWord(text: string, bannedWords: readonly string[]): string | undefined {
  for (const word of bannedWords) {
    const trimmed = word.trim();
    if (trimmed === '') continue;
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(trimmed).replace(/\s+/g, '\\s+')}(?![\\p{L}\\p{N}_])`, 'iu');
    if (pattern.test(text)) return trimmed;
  }
  return undefined;
}

/** "a, b ,c" → ['a', 'b', 'c'], without blanks or duplicates (case-insensitively). */
export function parseWordList(text: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const part of text.split(',')) {
    const word = part.trim().replace(/\s+/g, ' ');
    if (word === '' || seen.has(word.toLowerCase())) continue;
    seen.add(word.toLowerCase());
    words.push(word);
  }
  return words;
}
