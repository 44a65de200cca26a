import * as path from 'node:path';
import { findTaskFiles, readTaskFiles } from '../core/dataset/taskLines';
import { readVoiceLabels, setVoiceLabels, VOICE_LABEL_KEYS, type VoiceLabels, type VoicePool, voicePool } from '../core/dataset/voices';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';
import { workspaceSettings } from './workspaceSettings';
import { kindByGlobs } from '../core/formats/documentKind';

export const voicesCommand: CliCommand = {
  summary: 'the voice pool: every prompt WAV the task files use, measured, counted and labelled',
  usage: `Usage: tts-distill voices [<task files…>] [--format text|json] [--labels FILE] [--pattern PATTERN]
       tts-distill voices --set <wav> --label key=value [--label key=value…] [--labels FILE]

Every prompt WAV the task files use: duration, sample rate, channels, median F0, speech level,
an SNR estimate, the lines using it, and its labels (speaker, gender, age, accent, emotion) from
the sidecar (--labels, default ttsDistill.voices.labelsFile = voices.jsonl), from a path pattern
(--pattern, default ttsDistill.voices.speakerPattern, e.g. 'voices/{speaker}/*.wav'), or from the
task lines' own labels. Then what is out of balance (one voice in most lines; a label value no
voice in use has). Without files: every *.tasks.jsonl under the current folder, and the files of
ttsDistill.taskFiles.globs.
--set writes labels of one WAV into the sidecar (an empty value removes the label).
Exit code 0; 2 when a file cannot be read.`,
  async run(args, io) {
    const { values, multi, positional } = parseArgs(args, { values: ['format', 'labels', 'pattern', 'set'], multi: ['label'] });
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    const settings = await workspaceSettings(io.cwd);
    const sidecarFile = path.resolve(io.cwd, values.get('labels') ?? settings.voices?.labelsFile ?? 'voices.jsonl');
    if (values.has('set')) {
      const labels: VoiceLabels = {};
      for (const l of multi.get('label') ?? []) {
        const m = /^([a-z]+)=(.*)$/.exec(l);
        if (!m || !(VOICE_LABEL_KEYS as readonly string[]).includes(m[1]!))
          throw new UsageError(`--label ${l}: key=value with key one of ${VOICE_LABEL_KEYS.join(', ')}`);
        labels[m[1] as keyof VoiceLabels] = m[2]!;
      }
      if (!Object.keys(labels).length) throw new UsageError('--set needs at least one --label key=value');
      await setVoiceLabels(sidecarFile, path.resolve(io.cwd, values.get('set')!), labels);
      io.stdout.write(
        `${path.relative(io.cwd, sidecarFile)}: ${values.get('set')} ${Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}\n`,
      );
      return 0;
    }
    if (multi.has('label')) throw new UsageError('--label goes with --set');
    const files = positional.length
      ? positional.map((f) => path.resolve(io.cwd, f))
      : await findTaskFiles(io.cwd, 1000, (f) => kindByGlobs(f, io.cwd, settings) === 'tasks');
    let pool: VoicePool;
    try {
      const parsed = await readTaskFiles(files, settings, io.cwd);
      const uses = parsed.flatMap((f) =>
        f.tasks.map((t, i) => ({ audio: f.promptPaths[i]!, file: f.file, ...(t.labels ? { labels: t.labels } : {}) })),
      );
      pool = await voicePool(uses, {
        workspaceFolder: io.cwd,
        sidecar: await readVoiceLabels(sidecarFile),
        speakerPattern: values.get('pattern') ?? settings.voices?.speakerPattern ?? '',
      });
    } catch (err) {
      io.stderr.write(`tts-distill voices: ${(err as Error).message}\n`);
      return 2;
    }
    if (format === 'json') {
      io.stdout.write(JSON.stringify(pool, null, 2) + '\n');
      return 0;
    }
    io.stdout.write(formatVoices(pool));
    return 0;
  },
};

export function formatVoices(pool: VoicePool): string {
  const rows: string[][] = [['voice', 'lines', 'dur s', 'rate', 'ch', 'F0 Hz', 'speech dBFS', 'SNR dB', 'labels']];
  for (const v of pool.voices) {
    const m = v.measures;
    const labels =
      Object.entries(v.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(' ') || '—';
    rows.push(
      m
        ? [
            v.relative,
            String(v.lines),
            m.durationSeconds.toFixed(2),
            String(m.sampleRate),
            String(m.channels),
            m.medianF0Hz === null ? '—' : m.medianF0Hz.toFixed(0),
            m.speechDbfs.toFixed(1),
            m.snrDb === null ? '—' : m.snrDb.toFixed(1),
            labels,
          ]
        : [v.relative, String(v.lines), '—', '—', '—', '—', '—', '—', `${labels} (${v.problem})`],
    );
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const out = rows.map((r) =>
    r.map((x, c) => (c === r.length - 1 ? x : c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  '),
  );
  out.push(`${pool.voices.length} voice(s), ${pool.totalLines} line(s)`);
  for (const i of pool.imbalance) out.push(`imbalance: ${i}`);
  return out.join('\n') + '\n';
}
