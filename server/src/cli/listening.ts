import * as path from 'node:path';
import {
  type ListeningKinds,
  ListeningInputError,
  listTests,
  openTest,
  readAnswers,
  readPlan,
  summarize,
  updateReport,
} from '../core/evaluation/listening';
import { summaryLines } from '../core/evaluation/listeningHtml';
import { intOption, parseArgs } from './args';
import { type CliCommand, UsageError } from './types';

const KINDS: ListeningKinds[] = ['ab', 'mos', 'both'];

export const listeningCommand: CliCommand = {
  summary: 'blind listening tests on an evaluation run: plan (or resume) a test, summarise its answers',
  usage: `Usage: tts-distill listening plan <run> [--test NAME] [--seed N] [--count N] [--kind ab|mos|both] [--format text|json]
       tts-distill listening summary <run> [--test NAME] [--format text|json]

<run> is an evaluation folder (eval.json, written by \`tts-distill eval --student-audio DIR\`).
plan: draws --count lines (default 20) that have both a teacher and a student WAV with the seeded
PRNG (--seed, default 42) and writes <run>/listening/<NAME>.plan.json (--test, default "default"):
A/B items (teacher vs student, order drawn from the seed: the listener hears A and B only), then
MOS items (1–5, both systems' takes shuffled together). An existing plan is resumed as it is. The
text listing is blind (kind and line only); --format json gives the clips and their systems. Answers go to <run>/listening/<NAME>.jsonl, one line each
(VS Code: TTS Distill: Start Listening Test).
summary: the share of A/B answers preferring the student (95 % Wilson interval) and the MOS of
each system (95 % t interval), per test (every test of the run without --test); also writes the
summaries into the run's eval.json and eval.html.
Exit code 0; 2 when the run, the test or its plan cannot be used; 64 for bad usage.`,
  async run(args, io) {
    const { values, positional } = parseArgs(args, { values: ['test', 'seed', 'count', 'kind', 'format'] });
    const [action, run, ...extra] = positional;
    if (action !== 'plan' && action !== 'summary')
      throw new UsageError(action ? `unknown action ${action} (plan or summary)` : 'plan or summary?');
    if (!run) throw new UsageError('the evaluation run folder is missing');
    if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
    const format = values.get('format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
    const kinds = (values.get('kind') ?? 'both') as ListeningKinds;
    if (!KINDS.includes(kinds)) throw new UsageError('--kind is ab, mos or both');
    const seed = intOption(values.get('seed'), 'seed', 0, 0xffffffff) ?? 42;
    const count = intOption(values.get('count'), 'count', 1, 100000) ?? 20;
    const runDir = path.resolve(io.cwd, run);
    try {
      if (action === 'plan') {
        const test = values.get('test') ?? 'default';
        const t = await openTest(runDir, { test, seed, count, kinds });
        if (format === 'json') {
          io.stdout.write(
            JSON.stringify(
              { ...t.plan, run: runDir, resumed: t.resumed, answered: t.plan.items.length - countUnanswered(t), next: t.next },
              null,
              2,
            ) + '\n',
          );
          return 0;
        }
        const answered = t.plan.items.length - countUnanswered(t);
        io.stdout.write(
          `${t.resumed ? 'resumed' : 'planned'} test ${t.plan.test}: ${answered} / ${t.plan.items.length} answered, next item ${Math.min(t.next + 1, t.plan.items.length)}` +
            ` (seed ${t.plan.seed}, ${t.plan.count} of ${t.plan.candidates} lines, ${t.plan.kinds})\n`,
        );
        if (
          t.resumed &&
          (t.plan.seed !== seed || t.plan.count !== count || t.plan.kinds !== kinds) &&
          (values.has('seed') || values.has('count') || values.has('kind'))
        ) {
          io.stderr.write(
            `tts-distill listening: test ${t.plan.test} already exists: its plan is kept (seed ${t.plan.seed}, count ${t.plan.count}, ${t.plan.kinds}); use another --test for a new one\n`,
          );
        }
        // Kind and line only: the clips' paths would tell teacher from student (--format json has them).
        t.plan.items.forEach((item, k) =>
          io.stdout.write(`${String(k + 1).padStart(4)}. ${item.kind === 'ab' ? 'A/B' : 'MOS'} ${item.name}\n`),
        );
        io.stdout.write(`answers: ${path.relative(io.cwd, path.join(runDir, 'listening', `${t.plan.test}.jsonl`))}\n`);
        return 0;
      }
      const tests = values.has('test') ? [values.get('test')!] : await listTests(runDir);
      const summaries = [];
      for (const test of tests) {
        const { answers, invalidLines } = await readAnswers(runDir, test);
        if (!answers.length) {
          if (values.has('test')) {
            io.stderr.write(`tts-distill listening: test ${test} of ${runDir} has no answers yet\n`);
            return 2;
          }
          continue;
        }
        summaries.push(summarize(test, answers, invalidLines, await readPlan(runDir, test).catch(() => undefined)));
      }
      const report = await updateReport(runDir);
      if (format === 'json') {
        io.stdout.write(
          JSON.stringify({ run: runDir, tests: summaries, report: report ? { json: report.json, html: report.html } : null }, null, 2) +
            '\n',
        );
        return 0;
      }
      if (!summaries.length) io.stdout.write(`no listening test of ${runDir} has answers yet\n`);
      for (const s of summaries) io.stdout.write(summaryLines(s).join('\n') + '\n');
      if (report && summaries.length) io.stdout.write(`report             ${rel(io.cwd, report.json)}, ${rel(io.cwd, report.html)}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ListeningInputError || (err as NodeJS.ErrnoException).code === 'EUNSAFE') {
        io.stderr.write(`tts-distill listening: ${(err as Error).message}\n`);
        return 2;
      }
      throw err;
    }
  },
};

function countUnanswered(t: { plan: { items: Array<{ id: string }> }; answers: Array<{ item: string }> }): number {
  const done = new Set(t.answers.map((a) => a.item));
  return t.plan.items.filter((i) => !done.has(i.id)).length;
}

const rel = (cwd: string, file: string) => path.relative(cwd, file) || file;
