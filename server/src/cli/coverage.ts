import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { loadReplaceDict } from '../core/pronunciation/dictionary';
import { loadAbleList } from '../core/pronunciation/g2p/ableList';
import { computeCoverage, type CoverageLine, type CoverageReport, suggestFromCorpus } from '../core/dataset/coverage';
import { findTaskFiles, readTaskFiles } from '../core/dataset/taskLines';
import { intOption, parseArgs } from './args';
import { type CliCommand, UsageError } from './types';
import { workspaceSettings } from './workspaceSettings';
import { kindByGlobs } from '../core/formats/documentKind';

export const coverageCommand: CliCommand = {
  summary: 'reading coverage of task files: every polyphone reading, syllables, tones, phoneme tokens',
  usage: `Usage: tts-distill coverage [<task files…>] [--format text|json] [--min N] [--dict FILE] [--glmtts PATH]
                            [--corpus FILE [--suggest N]]

For every polyphone of the task text, each reading with its count of lines and who decides it
(the teacher's G2P, a dictionary pin, or the teacher's language model for able-list characters);
readings with fewer than --min lines (default ttsDistill.coverage.minExamples, 3) are thin. Then
syllable, tone and phoneme-token coverage (the teacher's 204 tokens, counted where the teacher
writes tokens) and the share of mixed-language lines.
Without files: every *.tasks.jsonl under the current folder, and the files of ttsDistill.taskFiles.globs.
  --corpus FILE   one sentence a line: suggests the sentences that add most (thin readings
                  first, then missing phoneme tokens and syllables), --suggest N of them (20).
Exit code 0; 2 when a file cannot be read.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, { values: ['format', 'min', 'dict', 'glmtts', 'corpus', 'suggest'] });
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    const settings = await workspaceSettings(io.cwd);
    const minExamples = intOption(values.get('min'), 'min', 1) ?? settings.coverage?.minExamples ?? 3;
    const limit = intOption(values.get('suggest'), 'suggest', 1, 10000) ?? 20;
    if (values.has('suggest') && !values.has('corpus')) throw new UsageError('--suggest goes with --corpus');
    if (values.has('glmtts')) settings.teacher.glmttsPath = path.resolve(io.cwd, values.get('glmtts')!);
    const dictFile = path.resolve(io.cwd, values.get('dict') ?? settings.dictionary.path);
    const files = positional.length
      ? positional.map((f) => path.resolve(io.cwd, f))
      : await findTaskFiles(io.cwd, 1000, (f) => kindByGlobs(f, io.cwd, settings) === 'tasks');
    let parsed;
    let corpus: string[] | undefined;
    try {
      parsed = await readTaskFiles(files, settings, io.cwd);
      if (values.has('corpus')) corpus = (await readFile(path.resolve(io.cwd, values.get('corpus')!), 'utf8')).split(/\r?\n/);
    } catch (err) {
      io.stderr.write(`tts-distill coverage: ${(err as Error).message}\n`);
      return 2;
    }
    const dict = await loadReplaceDict(dictFile);
    const able = (await loadAbleList(settings.teacher.glmttsPath || undefined, io.cwd)).list;
    const lines: CoverageLine[] = parsed.flatMap((f) => f.tasks.map((t) => ({ file: f.file, line: t.line, text: t.text })));
    const report = computeCoverage(lines, { dict, able, minExamples });
    const suggestions = corpus ? suggestFromCorpus(report, corpus, { dict, able, limit }) : undefined;
    const rel = (f: string) => path.relative(io.cwd, f) || f;
    if (format === 'json') {
      io.stdout.write(
        JSON.stringify(
          { files: files.map(rel), ...report, ...(suggestions ? { suggestions } : {}) },
          (k, v: unknown) => (k === 'file' && typeof v === 'string' ? rel(v) : v),
          2,
        ) + '\n',
      );
      return 0;
    }
    io.stdout.write(formatCoverage(report, files.length));
    if (suggestions) {
      const corpusName = values.get('corpus')!;
      io.stdout.write(`\nsuggestions from ${corpusName} (${suggestions.length}, best first):\n`);
      for (const s of suggestions) {
        const what = [...s.adds, ...s.newPhonemes.map((p) => `<|${p}|>`)].join(' ');
        io.stdout.write(`  ${corpusName}:${s.line + 1}  +${s.gain.toFixed(2)}  ${what}  ${s.text}\n`);
      }
    }
    return 0;
  },
};

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');

export function formatCoverage(r: CoverageReport, files: number): string {
  const out: string[] = [];
  out.push(`task lines         ${r.lines} (${files} file${files === 1 ? '' : 's'}), ${r.hanCharacters} Han characters`);
  out.push(`polyphones         ${r.polyphones.length} characters, ${r.thin.length} thin readings (fewer than ${r.minExamples} lines)`);
  for (const p of r.polyphones.slice(0, 40)) {
    const cells = p.readings.map((x) => {
      const src = (['dictionary', 'g2p', 'model'] as const)
        .filter((s) => x.sources[s])
        .map((s) => `${s === 'dictionary' ? 'dict' : s} ${x.sources[s]}`)
        .join(', ');
      return `${x.reading} ${x.lines}${src && x.lines ? ` (${src})` : ''}${x.thin ? ' THIN' : ''}`;
    });
    out.push(`  ${p.char}  ${cells.join(' · ')}`);
  }
  if (r.polyphones.length > 40) out.push(`  … ${r.polyphones.length - 40} more (--format json lists all)`);
  out.push(
    `syllables          ${r.syllables.covered}/${r.syllables.total} (${pct(r.syllables.covered, r.syllables.total)}), with tones ${r.tonalSyllables.covered}/${r.tonalSyllables.total} (${pct(r.tonalSyllables.covered, r.tonalSyllables.total)})`,
  );
  const toneTotal = Object.values(r.tones).reduce((a, b) => a + b, 0);
  out.push(`tones              ${(['1', '2', '3', '4', '5'] as const).map((t) => `${t}: ${pct(r.tones[t], toneTotal)}`).join('  ')}`);
  out.push(
    `phoneme tokens     ${r.phonemes.covered}/${r.phonemes.total} (${pct(r.phonemes.covered, r.phonemes.total)})${r.phonemes.missing.length ? `; missing ${r.phonemes.missing.slice(0, 24).join(' ')}${r.phonemes.missing.length > 24 ? ' …' : ''}` : ''}`,
  );
  out.push(`mixed language     ${r.mixedLanguage.lines} lines (${pct(r.mixedLanguage.lines, r.lines)})`);
  return out.join('\n') + '\n';
}
