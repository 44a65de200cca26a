import * as path from 'node:path';
import { EvalInputError, evaluate, writeReport } from '../core/evaluation/evaluate';
import { createJudge } from '../core/evaluation/judges';
import type { JudgeBackend } from '../core/evaluation/judges/types';
import { loadStudent } from '../core/student/model';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';
import { workspaceSettings } from './workspaceSettings';

const fmt = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const pct = (r: { rate: number | null; agree: number; total: number }) =>
  r.rate === null ? '—' : `${(r.rate * 100).toFixed(2)} % (${r.agree}/${r.total})`;

export const evalCommand: CliCommand = {
  summary: 'compare the student with the teacher on a teacher run; writes eval.json + eval.html',
  usage: `Usage: tts-distill eval --model <model.json> --teacher <teacher out dir> [--student-audio DIR] --out <dir> [--format text|json]
                        [--judge reward|command|none] [--judge-url URL]... [--no-synth]

Reads <teacher out dir>/manifest.jsonl, reads every character with the G2P student, and
compares: per-character and per-sentence reading agreement and a per-polyphone table
(accuracy, support, top confusions). Where DIR/<name>.wav exists for a task, also the
duration ratio, the mel-cepstral distortion (DTW-aligned) and the F0 RMSE against the
teacher's WAV. Writes <dir>/eval.json and a self-contained <dir>/eval.html and prints a
summary (one JSON object with --format json). Exit code 0, 2 when an input cannot be read.

Judges (ttsDistill.judges.* in .vscode/settings.json; flags win): --judge reward asks GLM-TTS's
reward server (--judge-url, e.g. http://gpu01:8080-8087, repeatable) for the CER, the speaker
similarity and the emotion score of every teacher and student WAV; --judge command runs
ttsDistill.judges.command. The teacher's scores also go to <teacher out dir>/judges.jsonl.
A judge that cannot run leaves its columns out; the evaluation still completes.
RTF: when ttsDistill.student.synthCommand is set (and not --no-synth), it synthesizes the set
into DIR (default <dir>/student-out), timed: real-time factor per line and overall.`,
  async run(args, io) {
    const { values, multi, switches, positional } = parseArgs(args, {
      values: ['model', 'teacher', 'student-audio', 'out', 'format', 'judge'],
      multi: ['judge-url'],
      switches: ['no-synth'],
    });
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
    for (const k of ['model', 'teacher', 'out']) if (!values.get(k)) throw new UsageError(`--${k} is required`);
    const abs = (k: string) => (values.has(k) ? path.resolve(io.cwd, values.get(k)!) : undefined);
    const settings = await workspaceSettings(io.cwd);
    const urls = multi.get('judge-url') ?? [];
    const backend = (values.get('judge') ?? (urls.length ? 'reward' : settings.judges.backend)) as JudgeBackend;
    if (!['reward', 'command', 'none'].includes(backend)) throw new UsageError('--judge is reward, command or none');
    let judge;
    try {
      judge = createJudge(settings.judges, backend, { workDir: abs('out')!, cwd: io.cwd, urls });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const synthCommand = switches.has('no-synth') ? [] : settings.student.synthCommand;
    const synth = synthCommand.length
      ? { command: synthCommand, outDir: abs('student-audio') ?? path.join(abs('out')!, 'student-out'), workDir: abs('out')!, cwd: io.cwd }
      : undefined;
    let report;
    try {
      const student = await loadStudent(abs('model')!);
      report = await evaluate({
        teacherDir: abs('teacher')!,
        student,
        modelFile: abs('model'),
        studentAudioDir: abs('student-audio'),
        signal: io.signal,
        ...(judge ? { judge } : {}),
        ...(synth ? { synth } : {}),
        onLog: (l) => {
          if (!/^judged \d+\/\d+$/.test(l) || /^judged (\d+)\/\1$/.test(l)) io.stderr.write(`${l}\n`);
        },
        onProgress: (done, total) => {
          if (done % 200 === 0 || done === total) io.stderr.write(`evaluated ${done}/${total}\n`);
        },
      });
    } catch (err) {
      if (
        err instanceof EvalInputError ||
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as Error).name === 'StudentFormatError'
      ) {
        io.stderr.write(`tts-distill eval: ${(err as Error).message}\n`);
        return 2;
      }
      throw err;
    }
    const files = await writeReport(report, abs('out')!);
    const s = report.summary;
    if (format === 'json') {
      io.stdout.write(
        JSON.stringify(
          {
            tasks: report.teacher.records,
            summary: s,
            weakest: report.polyphones
              .filter((p) => p.agree < p.support)
              .slice(0, 5)
              .map((p) => ({ char: p.char, accuracy: p.accuracy, support: p.support, confusions: p.confusions.slice(0, 3) })),
            report: { json: files.json, html: files.html },
          },
          null,
          2,
        ) + '\n',
      );
      return 0;
    }
    io.stdout.write(
      `tasks              ${report.teacher.records}${report.teacher.excluded ? ` (${report.teacher.excluded} excluded by the QA gates)` : ''}\n`,
    );
    io.stdout.write(`characters agree   ${pct(s.characters)}\n`);
    io.stdout.write(`polyphones agree   ${pct(s.polyphones)}\n`);
    io.stdout.write(`sentences agree    ${pct(s.sentences)}\n`);
    // Only dictionary and g2p readings are the teacher's: model readings are the G2P's hint for what GLM-TTS's language model read.
    const src = (['dictionary', 'g2p', 'model', 'unknown'] as const).filter((k) => s.bySource[k].total);
    if (src.length)
      io.stdout.write(
        `by source          ${src.map((k) => `${k} ${pct(s.bySource[k])}${k === 'model' ? ' (a hint: the language model read these)' : ''}`).join(' · ')}\n`,
      );
    const weak = report.polyphones.filter((p) => p.agree < p.support).slice(0, 5);
    if (weak.length)
      io.stdout.write(
        `weakest polyphones ${weak.map((p) => `${p.char} ${(p.accuracy * 100).toFixed(0)} % of ${p.support}${p.confusions[0] ? ` (${p.confusions[0].teacher}→${p.confusions[0].student})` : ''}`).join(', ')}\n`,
      );
    if (s.acoustic) {
      io.stdout.write(
        `audio compared     ${s.acoustic.items} items: duration ratio ${s.acoustic.meanDurationRatio.toFixed(3)}, MCD ${s.acoustic.meanMcd.toFixed(2)} dB, F0 RMSE ${s.acoustic.meanF0Rmse === null ? '—' : `${s.acoustic.meanF0Rmse.toFixed(1)} Hz`}\n`,
      );
    }
    if (s.judges) {
      const j = s.judges;
      const m = (role: string, x: typeof j.teacher) =>
        x ? `${role}: CER ${fmt(x.meanCer)}, similarity ${fmt(x.meanSimilarity)}, emotion ${fmt(x.meanEmotion)} (${x.items} WAVs)` : '';
      io.stdout.write(
        `${`judges (${j.backend})`.padEnd(19)}${j.error ? `none: ${j.error}` : [m('teacher', j.teacher), m('student', j.student)].filter(Boolean).join(' · ') + (j.failed ? ` · ${j.failed} WAV(s) not judged` : '')}\n`,
      );
      if (j.judgesFile) io.stdout.write(`judges file        ${path.relative(io.cwd, j.judgesFile) || j.judgesFile}\n`);
      if (j.judgesFileError) io.stderr.write(`tts-distill eval: ${j.judgesFileError}\n`);
    }
    if (s.rtf)
      io.stdout.write(
        `student RTF        ${fmt(s.rtf.rtf)} (${s.rtf.wallSeconds.toFixed(2)} s for ${s.rtf.audioSeconds.toFixed(2)} s of audio, ${s.rtf.items} lines${s.rtf.meanLineRtf !== null ? `; mean per line ${fmt(s.rtf.meanLineRtf)}` : ''})${s.rtf.error ? `: ${s.rtf.error}` : ''}\n`,
      );
    io.stdout.write(
      `wrote              ${path.relative(io.cwd, files.json) || files.json}, ${path.relative(io.cwd, files.html) || files.html}\n`,
    );
    return 0;
  },
};
