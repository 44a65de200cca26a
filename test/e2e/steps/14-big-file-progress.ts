import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Step } from '../harness';

const REPO = path.resolve(__dirname, '..', '..', '..');
/** Enough lines that the readings workers take seconds over them, as a user's big file does. */
const LINES = 20_000;

export default {
  name: 'a big task file: the status bar says whose polyphones are still being read, down to none',
  timeoutMs: 180_000,
  async run(h) {
    // Ordinary Chinese text (the CPP corpus the default student was trained on), every line distinct.
    const sents = readFileSync(path.join(REPO, 'data', 'cpp', 'dev.sent'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((s) => s.replace(/\u2581/g, ''));
    const lines: string[] = [];
    for (let i = 0; i < LINES; i++) {
      const a = sents[i % sents.length]!;
      const b = i < sents.length ? '' : `，${sents[(i * 7 + 3) % sents.length]!.slice(0, 12)}`;
      lines.push(
        JSON.stringify({
          prompt_audio: `prompts/${i % 2 ? 'speaker_b' : 'speaker_a'}.wav`,
          prompt_text: '今天天气很好，我们去银行办事。',
          input_text: a + b,
          output_name: `big_${String(i).padStart(6, '0')}`,
        }),
      );
    }
    mkdirSync(path.join(h.workspace, 'big', 'prompts'), { recursive: true });
    const prompts = path.join(REPO, 'sample-workspace', 'prompts');
    for (const f of readdirSync(prompts)) copyFileSync(path.join(prompts, f), path.join(h.workspace, 'big', 'prompts', f));
    h.writeFile('big/big.tasks.jsonl', lines.join('\n') + '\n');

    const opened = Date.now();
    await h.openFile('big/big.tasks.jsonl');
    h.log(`${((Date.now() - opened) / 1000).toFixed(1)} s: the file's text shown`);
    // While the workers read the file: a spinner and the count of lines left, read out by screen readers too.
    const reading = await h.statusBarItem(/polyphones of [\d,]+ lines still being read/, 60_000);
    h.log(`${((Date.now() - opened) / 1000).toFixed(1)} s after opening: "${reading.text}" | ${reading.label}`);
    const left = Number(/polyphones of ([\d,]+) lines/.exec(reading.label)![1]!.replace(/,/g, ''));
    h.expect(left > 0 && left <= LINES, `the lines left are some of the file's ${LINES}: ${left}`);
    h.expect(reading.text.includes(left.toLocaleString('en-US')), `the status bar shows the count: ${reading.text}`);

    // Then every line is read: the spinner goes, and the warnings are all counted.
    const done = await h.statusBarItem(/^Tasks, \w+ dialect, \d+ errors, \d+ warnings$/, 120_000);
    h.log(`${((Date.now() - opened) / 1000).toFixed(1)} s after opening: "${done.text}" | ${done.label}`);
    const warnings = Number(/(\d+) warnings$/.exec(done.label)![1]);
    h.expect(warnings > 0, `the student's warnings of the whole file are counted: ${warnings}`);
    h.expect(!/still being read/.test(done.label), `nothing left to read: ${done.label}`);
    // Chinese punctuation (，：) is not flagged as ambiguous Unicode in task files (configurationDefaults).
    const banner = await h.page.getByText(/contains many ambiguous unicode characters/i).count();
    h.expect(banner === 0, 'no "ambiguous unicode characters" banner over a Chinese task file');
    await h.screenshot('big-file-read');

    // Gone again: later steps must not carry its 1,000 problems in Problems, nor the validate task its 20,000 lines
    // (with them, step 72's look through Problems took 44 s to over 90 s).
    await h.runCommand('View: Close All Editors');
    rmSync(path.join(h.workspace, 'big'), { recursive: true, force: true });
  },
} satisfies Step;
