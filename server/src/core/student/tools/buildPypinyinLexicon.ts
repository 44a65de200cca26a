// Regenerates ../pypinyinLexicon.json from pypinyin 0.55's phrase dictionary (third_party/, MIT),
// the dictionary the teacher's G2P (jieba + pypinyin) reads words with:
//   node --import tsx server/src/core/student/tools/buildPypinyinLexicon.ts
// The words with a polyphonic character are kept (44k of 47k); a model stores only the words of
// its characters.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { candidateReadings, markedToNumbered } from '../readings';

function main(): void {
  const src = join(__dirname, '..', '..', '..', '..', '..', 'third_party', 'pypinyin-0.55', 'pypinyin', 'phrases_dict.json');
  const phrases = JSON.parse(readFileSync(src, 'utf8')) as Record<string, string[][]>;
  const out: Record<string, string> = {};
  for (const word of Object.keys(phrases).sort()) {
    const rs = phrases[word]!;
    // Surrogate pairs would break the one-reading-per-UTF-16-unit alignment; such words are rare.
    if (word.length < 2 || word.length !== [...word].length || rs.length !== word.length) continue;
    if (![...word].some((c) => candidateReadings(c).length > 1)) continue;
    const numbered = rs.map((r) => markedToNumbered(r[0] ?? ''));
    if (numbered.some((r) => r === undefined)) continue;
    out[word] = numbered.join(' ');
  }
  const file = join(__dirname, '..', 'pypinyinLexicon.json');
  writeFileSync(file, JSON.stringify(out) + '\n');
  process.stdout.write(`${Object.keys(out).length} words → ${file}\n`);
}

main();
