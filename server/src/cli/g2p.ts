import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ReplaceDict } from '../core/dictEngine';
import { pinyinToTokens } from '../core/notation';
import { formatReadings, teacherReadings } from '../core/teacherG2P';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

export const g2pCommand: CliCommand = {
  summary: "print the teacher's reading of each character (pinyin-pro + the G2P dictionary)",
  usage: `Usage: tts-distill g2p [--dict FILE] [--notation pinyin|tokens] <text…>

Prints the embedded teacher's reading of each character, space-separated: one token per
character, tone-numbered pinyin (ü as v, neutral tone 5) for Chinese characters, other
characters as they are. The dictionary (either dialect) is applied exactly as GLM-TTS applies
it (after its text normalisation, longest key first). --notation tokens prints readings in the
teacher's token notation (<|H|><|ANG2|>). Several arguments are joined with spaces.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, { values: ['dict', 'notation'] });
    const notation = values.get('notation') ?? 'pinyin';
    if (notation !== 'pinyin' && notation !== 'tokens') throw new UsageError('--notation is pinyin or tokens');
    if (!positional.length) throw new UsageError('no text given');
    let dict = ReplaceDict.empty;
    const dictFile = values.get('dict');
    if (dictFile) {
      const abs = path.resolve(io.cwd, dictFile);
      let text: string;
      try {
        text = await readFile(abs, 'utf8');
      } catch (err) {
        io.stderr.write(`${dictFile}: cannot read: ${(err as Error).message}\n`);
        return 2;
      }
      dict = ReplaceDict.fromText(text, abs);
    }
    const readings = teacherReadings(positional.join(' '), dict);
    if (notation === 'pinyin') io.stdout.write(formatReadings(readings) + '\n');
    else io.stdout.write(readings.filter((r) => r.char !== '' && !/^\s$/.test(r.char)).map((r) => (r.reading ? pinyinToTokens(r.reading) : r.char)).join(' ') + '\n');
    return 0;
  },
};
