import * as path from 'node:path';
import { trainInWorker } from '../core/student/trainInWorker';
import { DEFAULT_EPOCHS, DEFAULT_HELDOUT, DEFAULT_SEED } from '../core/student/defaults';
import { intOption, parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`);

export const trainCommand: CliCommand = {
  summary: 'train the G2P student from teacher labels',
  usage: `Usage: tts-distill train <labels…> --out <model.json> [--seed N] [--epochs N] [--heldout FRACTION] [--format text|json]

Labels: a teacher run's manifest.jsonl, an upstream text_compare.jsonl, or a CPP-style
X.sent (target character wrapped in U+2581) with X.lb beside it; several may be given.
A share of the examples (--heldout, default ${DEFAULT_HELDOUT}; 0 to train on all) is kept out by a
seeded shuffle (--seed, default ${DEFAULT_SEED}) to measure accuracy; the same labels and seed give
the same model file, byte for byte. Progress goes to stderr, the final metrics to stdout
(one JSON object with --format json).
Exit code 0 when the model was written, 65 when the labels hold nothing to learn from,
130 when interrupted.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, { values: ['out', 'seed', 'epochs', 'heldout', 'format'] });
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    if (!positional.length) throw new UsageError('no label files given');
    const out = values.get('out');
    if (!out) throw new UsageError('--out <model.json> is required');
    const heldout = values.has('heldout') ? Number(values.get('heldout')) : DEFAULT_HELDOUT;
    if (!(heldout >= 0 && heldout <= 0.9)) throw new UsageError('--heldout must be a fraction from 0 to 0.9');
    const request = {
      labels: positional.map((f) => path.resolve(io.cwd, f)),
      out: path.resolve(io.cwd, out),
      seed: intOption(values.get('seed'), 'seed', 0, 2 ** 32 - 1) ?? DEFAULT_SEED,
      epochs: intOption(values.get('epochs'), 'epochs', 1, 1000) ?? DEFAULT_EPOCHS,
      heldOutFraction: heldout,
    };
    let result;
    try {
      result = await trainInWorker(request, {
        signal: io.signal,
        onProgress: (p) => {
          if (p.phase === 'features') io.stderr.write(`features ${p.step}/${p.total}\n`);
          else if (p.phase === 'epoch') io.stderr.write(`epoch ${p.step}/${p.total}  training errors ${pct(p.errorRate ?? 0)}\n`);
          else if (p.step === 0) io.stderr.write('measuring accuracy…\n');
        },
      });
    } catch (err) {
      // Errors cross the worker boundary as messages: the data errors are told by their words.
      if (err instanceof Error && /no labelled polyphones|not beside it|labels$|ENOENT|qa-overrides\.json/.test(err.message)) {
        io.stderr.write(`tts-distill train: ${err.message}\n`);
        return 65;
      }
      throw err;
    }
    if (!result) {
      io.stderr.write('tts-distill train: interrupted; no model written\n');
      return 130;
    }
    const m = result.metrics;
    if (format === 'json') {
      io.stdout.write(
        JSON.stringify(
          {
            model: result.out,
            bytes: result.bytes,
            characters: result.characters,
            seed: request.seed,
            epochs: request.epochs,
            sha256: result.sha256,
            sources: result.sources.map((s) => ({
              file: s.file,
              kind: s.kind,
              examples: s.examples,
              skipped: s.skipped,
              problems: s.problems,
            })),
            metrics: m,
            seconds: result.seconds,
          },
          null,
          2,
        ) + '\n',
      );
      return 0;
    }
    for (const s of result.sources) {
      io.stdout.write(
        `labels  ${path.relative(io.cwd, s.file) || s.file}  (${s.kind}): ${s.examples} polyphone examples${s.skipped ? `, ${s.skipped} records skipped` : ''}\n`,
      );
      for (const p of s.problems) io.stdout.write(`        skipped: ${p}\n`);
    }
    io.stdout.write(
      `model   ${path.relative(io.cwd, result.out) || result.out}  (${(result.bytes / 1024).toFixed(0)} KiB, ${result.characters} characters, seed ${request.seed}, data sha256 ${result.sha256.slice(0, 12)}…)\n`,
    );
    io.stdout.write(`examples          ${m.trainExamples} train / ${m.heldOutExamples} held out\n`);
    io.stdout.write(`train accuracy    ${pct(m.trainAccuracy)}\n`);
    io.stdout.write(`held-out accuracy ${pct(m.heldOutAccuracy)}   (pinyin-pro alone: ${pct(m.heldOutPinyinProAccuracy)})\n`);
    io.stdout.write(`time              ${result.seconds.toFixed(1)} s\n`);
    return 0;
  },
};
