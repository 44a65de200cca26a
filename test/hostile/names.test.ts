// Issue 17, item 7: output names follow one rule in validate and submit (lone surrogates, length in bytes, leading dots),
// and eval.html links only to files of the report's folders, as relative file links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, symlink, writeFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import { readFailures, readManifest } from '../../server/src/core/batch/manifest';
import { evaluate, writeReport } from '../../server/src/core/evaluation/evaluate';
import type { G2PStudent } from '../../server/src/core/student/model';
import { runCliBounded, tempDir } from './helpers';

// JSON.stringify keeps lone surrogates as \ud800 escapes, so the file is valid UTF-8 and the name reaches the tools as written.
const line = (name: string, text = '你好。') =>
  JSON.stringify({ prompt_audio: 'p.wav', prompt_text: '提示', input_text: text, output_name: name });
const CJK80 = '银'.repeat(80),
  CJK60 = '银'.repeat(60);
const NAMES = ['ok', 's\ud800', 's\udbff', CJK80, CJK60, '.hidden', 'sub/.x'];

test(
  'validate and submit agree on every hostile name: errors in validate are the lines submit refuses',
  { timeout: 120_000 },
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, 'n.tasks.jsonl'), NAMES.map((n) => line(n)).join('\n') + '\n');
    const v = await runCliBounded(['validate', '--format', 'json', '--min-severity', 'error', 'n.tasks.jsonl'], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    assert.equal(v.timedOut, false);
    const unsafe = new Set(
      (JSON.parse(v.out) as Array<{ code: string; range: { start: { line: number } } }>)
        .filter((f) => f.code === 'task/unsafe-name')
        .map((f) => f.range.start.line),
    );
    assert.deepEqual([...unsafe].sort(), [1, 2, 3, 5, 6], v.out);
    const s = await runCliBounded(['submit', 'n.tasks.jsonl', '--out', 'out', '--quiet'], { cwd: dir, timeoutMs: 90_000 });
    assert.equal(s.timedOut, false);
    assert.equal(s.code, 2, s.err);
    assert.doesNotMatch(s.err, /ENAMETOOLONG|\n\s+at /);
    assert.deepEqual(
      (await readManifest(path.join(dir, 'out', 'manifest.jsonl'))).map((r) => r.name),
      ['ok', CJK60],
    );
    const failed = await readFailures(path.join(dir, 'out', 'failures.jsonl'));
    assert.deepEqual(
      failed.map((f) => f.line),
      [1, 2, 3, 5, 6],
      'exactly the lines validate flags',
    );
    assert.match(failed.find((f) => f.line === 1)!.reason, /lone UTF-16 surrogate/);
    assert.match(failed.find((f) => f.line === 3)!.reason, /240 bytes long in UTF-8/);
    const files = await readdir(path.join(dir, 'out'));
    assert.ok(!files.some((f) => f.includes('\ufffd')), 'no s\\uFFFD.wav');
  },
);

test(
  'eval.html: a name like javascript:alert(1) is a relative file link, and files outside the report folders get no link',
  { timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    const teacher = path.join(dir, 'teacher-out');
    await mkdir(teacher);
    const wav = encodeWav(new Float32Array(1600).fill(0.1), 16000);
    await writeFile(path.join(teacher, 'javascript:alert(1).wav'), wav);
    await writeFile(path.join(dir, 'outside.wav'), wav);
    await writeFile(
      path.join(teacher, 'manifest.jsonl'),
      [
        { line: 0, name: 'javascript:alert(1)', text: '银行', readings: ['yin2', 'hang2'], audio: 'javascript:alert(1).wav' },
        { line: 1, name: 'x', text: '银行', readings: ['yin2', 'hang2'], audio: '../outside.wav' },
      ]
        .map((r) => JSON.stringify({ taskHash: 'h', wavSha256: 'w', ...r }))
        .join('\n') + '\n',
    );
    const student: G2PStudent = { version: 't', predict: (s, i) => (s[i] === '银' ? 'yin2' : 'hang2') };
    const report = await evaluate({ teacherDir: teacher, student });
    // The report is written into the teacher folder itself, where the relative path alone would be "javascript:alert(1).wav".
    const victim = path.join(dir, 'victim.txt');
    await writeFile(victim, 'keep');
    await symlink(victim, path.join(teacher, 'eval.html'));
    const { html } = await writeReport(report, teacher);
    const page = await readFile(html, 'utf8');
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    assert.deepEqual(hrefs, ['./javascript%3Aalert(1).wav']);
    assert.doesNotMatch(page, /href="javascript:/i);
    assert.doesNotMatch(page, /outside\.wav"/);
    assert.equal(await readFile(victim, 'utf8'), 'keep', 'a symlinked eval.html is replaced, not written through');
  },
);
