import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { shellQuote } from '../core/util/shell';
import { parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

interface Stage {
  name: string;
  argv: string[];
  /** Exit codes that let the pipeline go on (submit: 2 = some lines failed, the rest is usable). */
  okCodes: number[];
}

interface StageResult {
  name: string;
  command: string;
  exitCode: number;
  seconds: number;
  output: string;
}

/**
 * `tts-distill pipeline`: the main job, run exactly as the editor's commands run it — validate,
 * submit to the teacher, train the student, evaluate it against the teacher, write a report.
 * Each stage is the corresponding subcommand, called in-process.
 */
export const pipelineCommand: CliCommand = {
  summary: 'run the whole workflow on a workspace: validate, submit, QA, train, evaluate, report',
  usage: `Usage: tts-distill pipeline <workspace> [--out DIR] [--tasks FILE] [--dict FILE] [--teacher embedded|http|glmtts-cli]
       [--url U] [--http-protocol tts-distill|glm-tts-server|fastapi-gateway] [--concurrency N] [--seed N]

Runs, in order and in this process:
  1. validate  the task file(s) and the G2P dictionary (stops on errors)
  2. submit    the tasks to the teacher (resumes an earlier run in --out)
  3. qa        signal QA of the teacher's WAVs (<out>/teacher/qa.jsonl): excluded lines are left out below
  4. train     the G2P student on the teacher's manifest
  5. eval      the student against the teacher
  6. report    <out>/report.md and <out>/report.json
Defaults: --out <workspace>/distill-run, the workspace's *.tasks.jsonl and G2P_replace_dict.jsonl.
Exit code 0 when every stage succeeded, 2 when some teacher lines failed, 1 otherwise.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, {
      values: ['out', 'tasks', 'dict', 'teacher', 'url', 'http-protocol', 'concurrency', 'seed'],
    });
    if (positional.length !== 1) throw new UsageError('give one workspace folder');
    const ws = path.resolve(io.cwd, positional[0]!);
    if (!existsSync(ws)) throw new UsageError(`no such folder: ${ws}`);
    const out = path.resolve(io.cwd, values.get('out') ?? path.join(ws, 'distill-run'));
    const tasks = values.has('tasks')
      ? [path.resolve(io.cwd, values.get('tasks')!)]
      : readdirSync(ws)
          .filter((f) => f.endsWith('.tasks.jsonl'))
          .sort()
          .map((f) => path.join(ws, f));
    if (!tasks.length) throw new UsageError(`no *.tasks.jsonl in ${ws}`);
    if (tasks.length > 1)
      io.stderr.write(`pipeline: ${tasks.length} task files; submitting the first, ${path.basename(tasks[0]!)} (use --tasks to choose)\n`);
    const dict = path.resolve(io.cwd, values.get('dict') ?? path.join(ws, 'G2P_replace_dict.jsonl'));
    const teacherDir = path.join(out, 'teacher');
    const model = path.join(out, 'student', 'g2p-student.json');
    const evalDir = path.join(out, 'eval');
    await mkdir(out, { recursive: true });
    const extra = (flag: string) => (values.has(flag) ? [`--${flag}`, values.get(flag)!] : []);
    const stages: Stage[] = [
      {
        name: 'validate',
        argv: ['validate', '--min-severity', 'warning', ...tasks, ...(existsSync(dict) ? [dict, '--dict', dict] : [])],
        okCodes: [0],
      },
      {
        name: 'submit',
        argv: [
          'submit',
          tasks[0]!,
          '--out',
          teacherDir,
          ...(existsSync(dict) ? ['--dict', dict] : []),
          ...extra('teacher'),
          ...extra('url'),
          ...extra('http-protocol'),
          ...extra('concurrency'),
          ...extra('seed'),
        ],
        okCodes: [0, 2],
      },
      { name: 'qa', argv: ['qa', teacherDir], okCodes: [0] },
      { name: 'train', argv: ['train', path.join(teacherDir, 'manifest.jsonl'), '--out', model, ...extra('seed')], okCodes: [0] },
      { name: 'eval', argv: ['eval', '--model', model, '--teacher', teacherDir, '--out', evalDir], okCodes: [0] },
    ];
    const { main } = await import('../cli');
    const results: StageResult[] = [];
    let exit = 0;
    for (const stage of stages) {
      if (io.signal.aborted) break;
      io.stderr.write(`\n▶ ${stage.name}: tts-distill ${stage.argv.map(shellQuote).join(' ')}\n`);
      const t0 = performance.now();
      const captured = tee(io.stdout);
      // Run in the workspace, so that its .vscode/settings.json applies as it does in the editor.
      const code = await main(stage.argv, { stdout: captured.stream, stderr: io.stderr, cwd: ws, env: io.env, signal: io.signal });
      const seconds = (performance.now() - t0) / 1000;
      results.push({
        name: stage.name,
        command: `tts-distill ${stage.argv.map(shellQuote).join(' ')}`,
        exitCode: code,
        seconds,
        output: captured.text(),
      });
      io.stderr.write(`  ${stage.name} finished with exit code ${code} in ${seconds.toFixed(1)} s\n`);
      if (!stage.okCodes.includes(code)) {
        exit = 1;
        io.stderr.write(`pipeline: stopping after ${stage.name} (exit code ${code})\n`);
        break;
      }
      if (code === 2) exit = 2;
    }
    const evalJson = await readFile(path.join(evalDir, 'eval.json'), 'utf8').then(
      (t) => JSON.parse(t) as Record<string, unknown>,
      () => undefined,
    );
    await writeReport(out, results, evalJson, exit);
    io.stdout.write(`\nReport: ${path.join(out, 'report.md')}\n`);
    return exit;
  },
};

/** Passes a stage's stdout through to ours and keeps a copy for the report. */
function tee(target: NodeJS.WritableStream): { stream: NodeJS.WritableStream; text(): string } {
  const chunks: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => {
    chunks.push(d.toString());
    target.write(d);
  });
  return { stream, text: () => chunks.join('') };
}

async function writeReport(
  out: string,
  results: StageResult[],
  evalJson: Record<string, unknown> | undefined,
  exit: number,
): Promise<void> {
  const lines = [
    '# TTS Distill Studio — pipeline report',
    '',
    `Finished ${new Date().toISOString()}; overall ${exit === 0 ? 'success' : exit === 2 ? 'success with some failed teacher lines' : 'FAILED'}.`,
    '',
    '| stage | exit code | seconds | command |',
    '|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.exitCode} | ${r.seconds.toFixed(1)} | \`${r.command.replace(/\|/g, '\\|')}\` |`),
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.name}`, '', '```', r.output.trim().split('\n').slice(0, 40).join('\n') || '(no output)', '```', '');
  }
  if (evalJson)
    lines.push(
      '## Evaluation summary',
      '',
      '```json',
      JSON.stringify(evalJson.summary ?? evalJson, null, 2)
        .split('\n')
        .slice(0, 60)
        .join('\n'),
      '```',
      '',
    );
  lines.push(
    'Files: `teacher/` (WAVs, manifest.jsonl, failures.jsonl, qa.jsonl), `student/g2p-student.json`, `eval/eval.json`, `eval/eval.html`.',
    '',
  );
  await writeFile(path.join(out, 'report.md'), lines.join('\n'));
  await writeFile(
    path.join(out, 'report.json'),
    JSON.stringify({ exitCode: exit, stages: results.map(({ output: _o, ...r }) => r), eval: evalJson ?? null }, null, 2) + '\n',
  );
}
