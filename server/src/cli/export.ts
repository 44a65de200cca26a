import * as path from 'node:path';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  ExportError,
  exportDataset,
  parseSplitSpec,
  readExcludeList,
  TEXT_MODES,
  type TextMode,
} from '../core/dataset/export';
import { readVoiceLabels } from '../core/dataset/voices';
import { intOption, parseArgs } from './args';
import { type CliCommand, UsageError } from './types';
import { workspaceSettings } from './workspaceSettings';

export const exportCommand: CliCommand = {
  summary: 'export a teacher run for student trainers: kaldi, hf (audiofolder), ljspeech, cosyvoice',
  usage: `Usage: tts-distill export <teacher run> --format kaldi|hf|ljspeech|cosyvoice --out DIR
         [--text plain|pinyin|tokens] [--split dev=5%,test=5%] [--split-by speaker|random] [--seed N]
         [--force] [--copy] [--no-verify] [--exclude FILE] [--embeddings DIR] [--labels FILE] [--pattern PATTERN] [--json]

Writes one folder per split (train, plus the held-out ones of --split) under DIR:
  kaldi      wav.scp, text, utt2spk, spk2utt (C-sorted; utterance ids start with the speaker id)
  cosyvoice  the same, read by CosyVoice's tools/make_parquet_list.py; --embeddings DIR copies
             DIR/utt2embedding.pt and DIR/spk2embedding.pt into each split
  hf         metadata.jsonl (file_name relative to the split folder, text, speaker_id, labels as columns)
  ljspeech   metadata.csv (id|text|normalized text, the third column in the --text form)
WAVs go to <split>/wavs/<id>.wav, hard-linked (--copy: copied), never moved; each is checked
against the manifest's sha256 first (--no-verify skips that).
--text tokens keeps the teacher's phoneme tokens, so pinned readings reach the student.
Failed lines, lines listed in --exclude (names, or JSON lines with name and reason) and lines the
QA gates marked are left out and listed. Speaker ids: the line's speaker label, else the voice
labels (--labels / --pattern, as tts-distill voices), else the prompt WAV's file name.
An existing non-empty DIR is refused unless --force. Exit code 0; 1 when the export is refused.`,
  async run(args, io) {
    const { values, switches, positional } = parseArgs(args, {
      values: ['format', 'out', 'text', 'split', 'split-by', 'seed', 'exclude', 'embeddings', 'labels', 'pattern'],
      switches: ['force', 'copy', 'json', 'no-verify'],
    });
    if (positional.length !== 1) throw new UsageError('give one teacher run folder');
    const format = values.get('format') as ExportFormat | undefined;
    if (!format || !EXPORT_FORMATS.includes(format)) throw new UsageError(`--format is ${EXPORT_FORMATS.join(', ')}`);
    if (!values.get('out')) throw new UsageError('--out is required');
    const text = (values.get('text') ?? 'plain') as TextMode;
    if (!TEXT_MODES.includes(text)) throw new UsageError(`--text is ${TEXT_MODES.join(', ')}`);
    const splitBy = values.get('split-by') ?? 'speaker';
    if (splitBy !== 'speaker' && splitBy !== 'random') throw new UsageError('--split-by is speaker or random');
    const seed = intOption(values.get('seed'), 'seed', 0, 2 ** 32 - 1) ?? 42;
    const settings = await workspaceSettings(io.cwd);
    const abs = (p: string) => path.resolve(io.cwd, p);
    let summary;
    try {
      const splits = values.has('split') ? parseSplitSpec(values.get('split')!) : [];
      summary = await exportDataset({
        run: abs(positional[0]!),
        format,
        out: abs(values.get('out')!),
        text,
        splits,
        splitBy,
        seed,
        force: switches.has('force'),
        wavMode: switches.has('copy') ? 'copy' : 'link',
        noVerify: switches.has('no-verify'),
        ...(values.has('exclude') ? { exclude: await readExcludeList(abs(values.get('exclude')!)) } : {}),
        ...(values.has('embeddings') ? { embeddingsDir: abs(values.get('embeddings')!) } : {}),
        voices: {
          workspaceFolder: io.cwd,
          sidecar: await readVoiceLabels(abs(values.get('labels') ?? settings.voices?.labelsFile ?? 'voices.jsonl')),
          speakerPattern: values.get('pattern') ?? settings.voices?.speakerPattern ?? '',
        },
      });
    } catch (err) {
      if (err instanceof ExportError || ['ENOENT', 'EACCES', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) {
        io.stderr.write(`tts-distill export: ${(err as Error).message}\n`);
        return 1;
      }
      throw err;
    }
    if (switches.has('json')) {
      const { utterances, ...rest } = summary;
      io.stdout.write(JSON.stringify({ ...rest, utterances: utterances.length }, null, 2) + '\n');
      return 0;
    }
    const rel = (p: string) => path.relative(io.cwd, p) || '.';
    io.stdout.write(`exported ${summary.utterances.length} utterance(s) as ${format} (text: ${text}) to ${rel(summary.out)}\n`);
    for (const [name, s] of Object.entries(summary.splits))
      io.stdout.write(
        `  ${name.padEnd(6)} ${String(s.utterances).padStart(6)} utterances  ${String(s.speakers).padStart(4)} speakers  ${s.seconds.toFixed(1)} s\n`,
      );
    io.stdout.write(`  wavs: ${summary.linked} hard-linked, ${summary.copied} copied\n`);
    if (summary.leftOut.length) {
      io.stdout.write(`left out ${summary.leftOut.length} line(s):\n`);
      for (const l of summary.leftOut) io.stdout.write(`  ${l.line === undefined ? '' : `line ${l.line + 1} `}${l.name}: ${l.reason}\n`);
    }
    for (const w of summary.warnings) io.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};
