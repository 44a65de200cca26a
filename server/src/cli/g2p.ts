import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ReplaceDict } from '../core/pronunciation/dictionary';
import { loadAbleList } from '../core/pronunciation/g2p/ableList';
import { pinyinToTokens } from '../core/formats/notation';
import { type CharReading, formatReadings, teacherReadings } from '../core/pronunciation/teacherReadings';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';
import { workspaceSettings } from './workspaceSettings';

export const g2pCommand: CliCommand = {
  summary: "print the teacher's reading of each character (the G2P dictionary, then the teacher's G2P)",
  usage: `Usage: tts-distill g2p [--dict FILE] [--notation pinyin|tokens] [--format text|json] <text…>
       tts-distill g2p [options] -            (texts from standard input, one per line)
       tts-distill g2p [options] --file FILE  (texts from FILE, one per line)

Prints the teacher's reading of each character, space-separated: one token per character,
tone-numbered pinyin (ü as v, neutral tone 5) for Chinese characters, other characters as they
are. The dictionary (either dialect) is applied exactly as GLM-TTS applies it (after its text
normalisation, longest key first). --notation tokens prints readings in the teacher's token
notation (<|H|><|ANG2|>). Several arguments are joined with spaces. With - or --file, each
input line gives one output line (an empty line for an empty one).

--format json prints one JSON object per text: {"text", "chars": [{"char", "reading", "token",
"source", "rule", "candidates"}]}, one entry per character. source says who decides the reading
when GLM-TTS runs with --use_phoneme: "dictionary" (a rule of --dict; rule is {"key", "line"},
line 1-based), "g2p" (the teacher's G2P writes its tokens), "model" (the character is in GLM-TTS's
G2P_able_1word.json, or a dictionary value keeps it as text: it is left to the language model, and
reading is only the G2P's hint; token is then null), "none" (not a Chinese character). The able
list is the checkout's (ttsDistill.teacher.glmttsPath in .vscode/settings.json) when it has one,
otherwise the copy bundled from GLM-TTS.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, { values: ['dict', 'notation', 'format', 'file'] });
    const notation = values.get('notation') ?? 'pinyin';
    if (notation !== 'pinyin' && notation !== 'tokens') throw new UsageError('--notation is pinyin or tokens');
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    const file = values.get('file');
    const fromStdin = positional.length === 1 && positional[0] === '-';
    if (file !== undefined && positional.length) throw new UsageError('give texts either as arguments or with --file, not both');
    if (!positional.length && file === undefined) throw new UsageError('no text given');
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
    const settings = await workspaceSettings(io.cwd);
    const able = await loadAbleList(settings.teacher.glmttsPath || undefined, io.cwd);
    if (able.problem) io.stderr.write(`tts-distill g2p: ${able.problem}\n`);
    /** Writes the line for one text; false when the output wants a pause (drain). */
    const print = (text: string): boolean => {
      const readings = teacherReadings(text, dict, able.list);
      if (format === 'json')
        return io.stdout.write(JSON.stringify({ text, chars: readings.filter((r) => r.char !== '').map(charJson) }) + '\n');
      if (notation === 'pinyin') return io.stdout.write(formatReadings(readings) + '\n');
      return io.stdout.write(
        readings
          .filter((r) => r.char !== '' && !/^\s$/.test(r.char))
          .map((r) => (r.reading ? pinyinToTokens(r.reading) : r.char))
          .join(' ') + '\n',
      );
    };
    if (file === undefined && !fromStdin) {
      print(positional.join(' '));
      return 0;
    }
    let input: NodeJS.ReadableStream;
    if (file !== undefined) {
      const abs = path.resolve(io.cwd, file);
      const stream = createReadStream(abs, 'utf8');
      const opened = await new Promise<Error | undefined>((resolve) => {
        stream.once('readable', () => resolve(undefined));
        stream.once('error', (err) => resolve(err));
      });
      if (opened) {
        io.stderr.write(`${file}: cannot read: ${opened.message}\n`);
        return 2;
      }
      input = stream;
    } else input = io.stdin ?? process.stdin;
    let first = true;
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      if (io.signal.aborted) return 130;
      // A byte-order mark at the start of the input is not text.
      const line = first ? raw.replace(/^\uFEFF/, '') : raw;
      first = false;
      if (!print(line)) await once(io.stdout, 'drain');
    }
    return 0;
  },
};

function charJson(r: CharReading) {
  let token: string | null = null;
  if (r.reading && r.source !== 'model') {
    try {
      token = pinyinToTokens(r.reading);
    } catch {
      /* not a reading the tokens can spell */
    }
  }
  return {
    char: r.char,
    reading: r.reading,
    token,
    source: r.source,
    rule: r.rule ? { key: r.rule.key, line: r.rule.line === undefined ? null : r.rule.line + 1 } : null,
    candidates: r.candidates,
  };
}
