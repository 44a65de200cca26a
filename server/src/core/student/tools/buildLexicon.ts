// Regenerates ../lexicon.json from @pinyin-pro/data's complete dictionary (a devDependency, ISC):
//   node --import tsx server/src/core/student/tools/buildLexicon.ts
// Only the words whose reading there differs from what pinyin-pro's built-in dictionary says for
// the same word are kept: that difference is all the student needs at run time (~16k words,
// instead of the 12 MB dictionary), and it keeps the product free of the devDependency.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinyin } from 'pinyin-pro';
import { markedToNumbered, normalizeReading } from '../readings';

function main(): void {
  // Read as data: type-checking a 19 MB JSON import takes the compiler minutes.
  const complete = JSON.parse(readFileSync(require.resolve('@pinyin-pro/data/complete.json'), 'utf8')) as Record<string, [string, number]>;
  const out: Record<string, string> = {};
  for (const word of Object.keys(complete).sort()) {
    const marked = complete[word]![0];
    // Surrogate pairs would break the one-reading-per-UTF-16-unit alignment; such words are rare.
    if (word.length < 2 || word.length !== [...word].length) continue;
    const syllables = marked.split(' ');
    if (syllables.length !== word.length) continue;
    const builtIn = pinyin(word, { type: 'array' });
    if (syllables.every((s, i) => s === builtIn[i])) continue;
    const numbered = pinyin(word, { type: 'array', toneType: 'num', v: true });
    // Convert the complete dictionary's marks through pinyin-pro itself, one syllable at a time.
    out[word] = syllables.map((s, i) => (s === builtIn[i] ? normalizeReading(numbered[i]!) : markedToNumbered(s) ?? s)).join(' ');
  }
  const file = join(__dirname, '..', 'lexicon.json');
  writeFileSync(file, JSON.stringify(out) + '\n');
  process.stdout.write(`${Object.keys(out).length} words → ${file}\n`);
}

main();
