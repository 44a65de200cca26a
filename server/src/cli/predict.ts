import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseCppSentence } from '../core/student/labels';
import { loadStudent, StudentFormatError } from '../core/student/model';
import { toCppReading } from '../core/student/readings';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

export const predictCommand: CliCommand = {
  summary: 'read the marked polyphone of each sentence with the G2P student',
  usage: `Usage: tts-distill predict --model <model.json> <X.sent>

X.sent holds one sentence a line with the target character wrapped in U+2581 (CPP style,
e.g. "银▁行▁卡"). Prints one reading a line, in the format of X.lb (tone numbers, neutral
tone 5, ü written u:), so that the output can be compared with X.lb line by line. A line
without a marked target prints an empty line (and a note on stderr). Exit code 0, 2 when a
file cannot be read or the model is not a student model.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, { values: ['model'] });
    const modelFile = values.get('model');
    if (!modelFile) throw new UsageError('--model <model.json> is required');
    if (positional.length !== 1) throw new UsageError('give one X.sent file');
    let student;
    let text: string;
    try {
      student = await loadStudent(path.resolve(io.cwd, modelFile));
      text = await readFile(path.resolve(io.cwd, positional[0]!), 'utf8');
    } catch (err) {
      io.stderr.write(`tts-distill predict: ${err instanceof StudentFormatError ? err.message : (err as Error).message}\n`);
      return 2;
    }
    const lines = text.split(/\r?\n/);
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const out: string[] = [];
    lines.forEach((line, n) => {
      const t = parseCppSentence(line);
      const r = t && student.predict(t.text, t.index);
      if (!t) io.stderr.write(`${positional[0]}:${n + 1}: no target marked with U+2581\n`);
      out.push(r ? toCppReading(r) : '');
    });
    io.stdout.write(out.length ? out.join('\n') + '\n' : '');
    return 0;
  },
};
