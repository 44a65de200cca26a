// Regenerates ../lexicon.json from @pinyin-pro/data's complete dictionary (a devDependency, ISC):
//   node --import tsx server/src/core/student/tools/buildLexicon.ts
// The words with a polyphonic character are kept (~180k of 349k): a word covering the target
// votes for its reading whether or not pinyin-pro's built-in dictionary agrees (format 2; format 1
// kept only the ~16k disagreements, which measured 0.7 points lower on CPP). The file keeps the
// product free of the devDependency; a model stores only the words of its characters.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { candidateReadings, markedToNumbered } from '../readings';

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
    if (![...word].some((c) => candidateReadings(c).length > 1)) continue;
    const numbered = syllables.map((s) => markedToNumbered(s));
    if (numbered.some((r) => r === undefined)) continue;
    out[word] = numbered.join(' ');
  }
  const file = join(__dirname, '..', 'lexicon.json');
  writeFileSync(file, JSON.stringify(out) + '\n');
  process.stdout.write(`${Object.keys(out).length} words → ${file}\n`);
}

main();
