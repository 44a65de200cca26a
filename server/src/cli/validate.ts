import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { validateFile } from '../core/validate';
import { defaultSettings } from '../core/settings';
import { workspaceFiles, workspaceSettings } from './workspaceSettings';
import { kindByGlobs } from '../core/formats/documentKind';
import { comparePos, countBySeverity, LIMIT_CODE, type Finding, type Severity, severityRank } from '../core/findings';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

export const validateCommand: CliCommand = {
  summary: 'check task files and G2P dictionaries as the editor does',
  usage: `Usage: tts-distill validate [--format text|json] [--min-severity error|warning|information|hint] [--dialect auto|webui|upstream] [--dict FILE] [--glmtts PATH] [--max N] [--stdin-name FILE] [<files…> | -]

Prints one line per problem as  file:line:col: severity: message  (1-based), or a JSON
array with --format json. Exit code 1 when any error is found, 0 otherwise, 2 when a file
cannot be read. --min-severity hides less severe problems (they are still counted in the
summary printed to stderr). The kind of file (task file or dictionary) is decided as in the editor:
by the globs taskFiles.globs / dictionary.globs of .vscode/settings.json, by its name, and for
other .jsonl files by its first non-blank line.

Without files: every task file and dictionary of the folder (by name and by those globs).
  -                  read one file from stdin (an editor buffer, a pipe); it is reported as
                     --stdin-name FILE (default <stdin>), and relative prompt-audio paths and
                     the kind of file are decided as if it were that file.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, {
      values: ['format', 'dialect', 'dict', 'glmtts', 'max', 'min-severity', 'stdin-name'],
    });
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    const settings = await workspaceSettings(io.cwd);
    const dialect = values.get('dialect') ?? settings.taskFiles.dialect;
    if (!['auto', 'webui', 'upstream'].includes(dialect)) throw new UsageError('--dialect is auto, webui or upstream');
    const files = positional.length ? positional : await workspaceFiles(io.cwd, settings);
    if (positional.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read once');
    if (values.has('stdin-name') && !positional.includes('-')) throw new UsageError('--stdin-name goes with - (stdin)');
    const stdinName = values.get('stdin-name');
    const minSeverity = (values.get('min-severity') ?? 'hint') as Severity;
    if (!(minSeverity in severityRank)) throw new UsageError('--min-severity is error, warning, information or hint');
    const counts: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
    settings.taskFiles.dialect = dialect as typeof settings.taskFiles.dialect;
    if (values.has('dict')) settings.dictionary.path = path.resolve(io.cwd, values.get('dict')!);
    if (values.has('glmtts')) settings.teacher.glmttsPath = path.resolve(io.cwd, values.get('glmtts')!);
    if (values.has('max'))
      settings.diagnostics.maxPerFile = Math.max(1, Number(values.get('max')) || defaultSettings.diagnostics.maxPerFile);
    let errors = 0;
    let unreadable = 0;
    const json: Array<Finding & { file: string; kind: string }> = [];
    for (const given of files) {
      const file = given === '-' ? (stdinName ?? '<stdin>') : given;
      const abs = path.resolve(io.cwd, given === '-' ? (stdinName ?? 'stdin.jsonl') : given);
      let text: string;
      try {
        text = given === '-' ? await readAll(io.stdin ?? process.stdin) : (await readFile(abs)).toString('utf8');
      } catch (err) {
        io.stderr.write(`${file}: cannot read: ${(err as Error).message}\n`);
        unreadable++;
        continue;
      }
      const kind = kindByGlobs(abs, io.cwd, settings);
      const res = await validateFile(abs, text, settings, { workspaceFolder: io.cwd, ...(kind ? { kind } : {}) });
      if (!res) {
        io.stderr.write(`${file}: not a task file or G2P dictionary (skipped)\n`);
        continue;
      }
      // Editors sort by severity; a terminal reader follows the file, so print in file order.
      const ordered = [...res.findings].sort(
        (a, b) => (a.code === LIMIT_CODE ? 1 : 0) - (b.code === LIMIT_CODE ? 1 : 0) || comparePos(a.range.start, b.range.start),
      );
      // The file's counts, those over the cap (--max) included; the cap's notice is not one of them.
      const found = countBySeverity(res.findings);
      for (const s of Object.keys(counts) as Severity[]) counts[s] += found[s];
      errors += found.error;
      for (const f of ordered) {
        if (severityRank[f.severity] > severityRank[minSeverity]) continue;
        if (format === 'json') json.push({ file, kind: res.kind, ...f });
        else io.stdout.write(`${file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.severity}: ${f.message}\n`);
      }
    }
    if (format === 'json') io.stdout.write(JSON.stringify(json, null, 2) + '\n');
    io.stderr.write(
      `${files.length} file(s): ${counts.error} errors, ${counts.warning} warnings, ${counts.information} information, ${counts.hint} hints\n`,
    );
    return unreadable ? 2 : errors ? 1 : 0;
  },
};

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
