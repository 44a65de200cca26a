import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { convertDictionaryText } from '../core/pronunciation/dictionary';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

export const dictCommand: CliCommand = {
  summary: 'convert a G2P dictionary between the rule and upstream dialects',
  usage: `Usage: tts-distill dict convert --to rule|upstream <file>

Prints the dictionary converted to the other dialect on stdout, line by line (blank lines and
the order of keys kept, so "a later key wins" still holds). A rule {"word","context","phoneme"}
becomes the upstream key "context" with the word's tokens in place; an upstream entry becomes
a rule when one means exactly the same. What cannot be converted is kept as it is and listed
on stderr. Exit code 0, or 3 when some lines could not be converted.`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'convert') throw new UsageError(sub ? `unknown subcommand '${sub}'` : 'missing subcommand (convert)');
    const { values, positional } = parseArgs(rest, { values: ['to'] });
    const to = values.get('to');
    if (to !== 'rule' && to !== 'upstream') throw new UsageError('--to is rule or upstream');
    if (positional.length !== 1) throw new UsageError('give exactly one dictionary file');
    const file = positional[0]!;
    let text: string;
    try {
      text = await readFile(path.resolve(io.cwd, file), 'utf8');
    } catch (err) {
      io.stderr.write(`${file}: cannot read: ${(err as Error).message}\n`);
      return 2;
    }
    const res = convertDictionaryText(text, to);
    io.stdout.write(res.text.endsWith('\n') || res.text === '' ? res.text : res.text + '\n');
    for (const n of res.notes) io.stderr.write(`${file}:${n.line + 1}: ${n.message}\n`);
    return res.notes.length ? 3 : 0;
  },
};
