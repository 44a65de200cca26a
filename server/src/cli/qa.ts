import * as path from 'node:path';
import { latestByName, MANIFEST_FILE, readManifest } from '../core/batch/manifest';
import { reasonCode } from '../core/qa/gates';
import { OVERRIDES_FILE, QaError, readOverrides, runQa, writeOverrides } from '../core/qa/runQa';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';
import { workspaceSettings } from './workspaceSettings';

export const qaCommand: CliCommand = {
  summary: 'signal QA of a teacher run: SNR, clipping, silence, bandwidth, loudness, speaking rate → qa.jsonl',
  usage: `Usage: tts-distill qa <teacher run> [--format text|json] [--strict]
                      [--include NAME]… [--exclude NAME]… [--clear NAME]…

Measures every WAV of the run's manifest (WADA-SNR, clipping, DC offset, leading/trailing
silence, longest pause, silence ratio, effective bandwidth, BS.1770 loudness) and the speaking
rate (seconds per Han syllable against the run's median), applies the ttsDistill.qa.* thresholds
of the workspace's .vscode/settings.json and writes <run>/qa.jsonl: one record a line with the
measures, the verdict "ok" or "excluded" and the reasons. Training, evaluation and export leave
excluded lines out. Only new or changed WAVs are measured again.
--include / --exclude NAME record your decision for a line in <run>/${OVERRIDES_FILE} (it wins
over the gates); --clear NAME forgets it. Prints counts by reason and the excluded lines
(one JSON object with --format json).
Exit code 0; 1 with --strict when any line is excluded; 2 when the run cannot be read.`,
  async run(args, io) {
    const { values, multi, switches, positional } = parseArgs(args, {
      values: ['format'],
      multi: ['include', 'exclude', 'clear'],
      switches: ['strict'],
    });
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    if (positional.length !== 1) throw new UsageError('give one teacher run folder');
    const run = path.resolve(io.cwd, positional[0]!);
    const settings = await workspaceSettings(io.cwd);
    const rel = (p: string) => path.relative(io.cwd, p) || '.';
    let result;
    try {
      const edits = [
        ...(multi.get('include') ?? []).map((n) => [n, 'include'] as const),
        ...(multi.get('exclude') ?? []).map((n) => [n, 'exclude'] as const),
        ...(multi.get('clear') ?? []).map((n) => [n, undefined] as const),
      ];
      if (edits.length) {
        const names = new Set(latestByName(await readManifest(path.join(run, MANIFEST_FILE))).keys());
        const overrides = await readOverrides(run);
        for (const [name, what] of edits) {
          if (!names.has(name) && what !== undefined) throw new QaError(`no line named "${name}" in ${rel(path.join(run, MANIFEST_FILE))}`);
          if (what) overrides.set(name, what);
          else overrides.delete(name);
        }
        await writeOverrides(run, overrides);
      }
      result = await runQa(run, {
        thresholds: settings.qa,
        signal: io.signal,
        onProgress: (done, total) => {
          if (format === 'text' && (done % 200 === 0 || done === total)) io.stderr.write(`measured ${done}/${total}\n`);
        },
      });
    } catch (err) {
      if (err instanceof QaError || ['ENOENT', 'EACCES', 'ENOTDIR', 'EUNSAFE'].includes((err as NodeJS.ErrnoException).code ?? '')) {
        io.stderr.write(`tts-distill qa: ${(err as Error).message}\n`);
        return 2;
      }
      throw err;
    }
    const { summary: s, records } = result;
    const excluded = records.filter((r) => r.verdict === 'excluded');
    const code = switches.has('strict') && s.excluded > 0 ? 1 : 0;
    if (format === 'json') {
      io.stdout.write(
        JSON.stringify(
          {
            file: result.file,
            measured: result.measured,
            summary: s,
            excluded: excluded.map((r) => ({
              name: r.name,
              line: r.line,
              reasons: r.reasons,
              ...(r.override ? { override: r.override } : {}),
            })),
            included: records.filter((r) => r.override === 'include').map((r) => ({ name: r.name, line: r.line, reasons: r.reasons })),
            exitCode: code,
          },
          null,
          2,
        ) + '\n',
      );
      return code;
    }
    const o = s.overrides.include + s.overrides.exclude;
    io.stdout.write(
      `qa        ${s.total} line(s): ${s.ok} ok, ${s.excluded} excluded${o ? ` (${s.overrides.exclude} excluded, ${s.overrides.include} included by hand in ${OVERRIDES_FILE})` : ''}\n`,
    );
    const reasons = Object.entries(s.byReason).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (reasons.length) {
      io.stdout.write(`${'reason'.padEnd(18)} lines\n`);
      for (const [r, n] of reasons) io.stdout.write(`  ${r.padEnd(16)} ${String(n).padStart(5)}\n`);
    }
    if (s.loudness)
      io.stdout.write(
        `loudness  median ${s.loudness.median.toFixed(1)} LUFS, ${s.loudness.min.toFixed(1)} … ${s.loudness.max.toFixed(1)} (10–90 %: ${s.loudness.rangeLu.toFixed(1)} LU)\n`,
      );
    if (s.medianSecondsPerSyllable !== null)
      io.stdout.write(`rate      median ${s.medianSecondsPerSyllable.toFixed(3)} s per Han syllable\n`);
    for (const r of excluded.slice(0, 50)) {
      io.stdout.write(
        `  line ${r.line + 1} ${r.name}: ${r.override === 'exclude' ? `excluded by hand${r.reasons.length ? `; ${r.reasons.join('; ')}` : ''}` : r.reasons.join('; ')}\n`,
      );
    }
    if (excluded.length > 50) io.stdout.write(`  … and ${excluded.length - 50} more (see ${rel(result.file)})\n`);
    const byHand = records.filter((r) => r.override === 'include' && r.reasons.length);
    for (const r of byHand.slice(0, 20))
      io.stdout.write(`  line ${r.line + 1} ${r.name}: included by hand despite ${r.reasons.map(reasonCode).join(', ')}\n`);
    io.stdout.write(`wrote     ${rel(result.file)} (${result.measured} WAV(s) measured, ${s.total - result.measured} unchanged)\n`);
    return code;
  },
};
