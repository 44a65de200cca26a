import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './runCli';
import { globToRegExp } from '../../server/src/core/formats/documentKind';

const REPO = path.join(__dirname, '..', '..');
const task = (text: string, name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ prompt_audio: 'a.wav', prompt_text: '你好，今天天气很好。', input_text: text, output_name: name, ...extra });

function workspace(settings?: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-vscode-'));
  copyFileSync(path.join(REPO, 'sample-workspace', 'prompts', 'speaker_b.wav'), path.join(dir, 'a.wav'));
  if (settings) {
    mkdirSync(path.join(dir, '.vscode'));
    writeFileSync(path.join(dir, '.vscode', 'settings.json'), `// as VS Code writes it\n${JSON.stringify(settings, null, 2)}\n`);
  }
  return dir;
}

describe('tts-distill in VS Code: the problem matcher, stdin, workspace globs, JSON summaries', () => {
  it('the $tts-distill problem matcher of package.json matches every line validate prints', async () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const matcher = pkg.contributes.problemMatchers.find((m: { name: string }) => m.name === 'tts-distill');
    const re = new RegExp(matcher.pattern.regexp);
    const dir = workspace();
    writeFileSync(
      path.join(dir, 'x.tasks.jsonl'),
      [task('他在银行工作', 'a'), '{"prompt_audio": "a.wav"', task('我们去 shopping 吧', 'a')].join('\n') + '\n',
    );
    const r = await runCli(['validate', 'x.tasks.jsonl'], dir);
    const lines = r.out.trim().split('\n');
    assert.ok(lines.length >= 3, r.out);
    const severities = new Set<string>();
    for (const line of lines) {
      const m = re.exec(line);
      assert.ok(m, `not matched: ${line}`);
      assert.equal(m[matcher.pattern.file], 'x.tasks.jsonl');
      assert.ok(Number(m[matcher.pattern.line]) >= 1 && Number(m[matcher.pattern.column]) >= 1);
      severities.add(m[matcher.pattern.severity]!);
    }
    // VS Code knows error, warning, info and hint (information is read as info by the pattern).
    for (const s of severities) assert.ok(['error', 'warning', 'info', 'hint'].includes(s), s);
    assert.ok(severities.has('error') && severities.has('info'), [...severities].join());
  });

  it('validate - reads stdin; --stdin-name names it and decides its kind and folder', async () => {
    const dir = workspace();
    const text = [task('你好', 'a'), '{"prompt_audio": "a.wav"'].join('\n') + '\n';
    const r = await runCli(['validate', '-'], dir, undefined, text);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /^<stdin>:2:25: error: invalid JSON/m);
    const named = await runCli(['validate', '--stdin-name', 'sub/x.tasks.jsonl', '-'], dir, undefined, task('你好', 'a') + '\n');
    // Relative to sub/, the prompt audio a.wav does not exist.
    assert.match(named.out, /^sub\/x\.tasks\.jsonl:1:\d+: error: .*a\.wav/m);
    const dict = await runCli(['validate', '-'], dir, undefined, '{"word": "行", "context": "银行", "phoneme": "hang2"}\n{"word": 1}\n');
    assert.match(dict.out, /^<stdin>:2:/m);
    assert.equal((await runCli(['validate', '--stdin-name', 'x.jsonl', 'x.tasks.jsonl'], dir)).code, 64);
  });

  it('honours taskFiles.globs and dictionary.globs of .vscode/settings.json; without files, validates the workspace', async () => {
    const dir = workspace({ 'ttsDistill.taskFiles.globs': ['**/batches/*.jsonl'], 'ttsDistill.dictionary.globs': ['dicts/*.jsonl'] });
    mkdirSync(path.join(dir, 'data', 'batches'), { recursive: true });
    mkdirSync(path.join(dir, 'dicts'));
    // The first line does not look like a task: only the glob makes it one.
    writeFileSync(path.join(dir, 'data', 'batches', 'b.jsonl'), '{"note": 1}\n');
    writeFileSync(path.join(dir, 'dicts', 'mine.jsonl'), '{"note": 1}\n');
    writeFileSync(path.join(dir, 'ok.tasks.jsonl'), task('你好', 'a', { prompt_audio: 'a.wav' }) + '\n');
    writeFileSync(path.join(dir, 'notes.jsonl'), '{"note": 1}\n');
    const one = await runCli(['validate', 'data/batches/b.jsonl'], dir);
    assert.equal(one.code, 1);
    assert.match(one.out, /^data\/batches\/b\.jsonl:1:\d+: error: /m);
    const all = await runCli(['validate', '--format', 'json'], dir);
    const files = new Set((JSON.parse(all.out) as Array<{ file: string; kind: string }>).map((f) => `${f.file} ${f.kind}`));
    assert.ok(files.has('data/batches/b.jsonl tasks') && files.has('dicts/mine.jsonl dictionary'), [...files].join());
    assert.ok(![...files].some((f) => f.startsWith('notes.jsonl')));
    assert.match(all.err, /^3 file\(s\): /m, 'b.jsonl, mine.jsonl and ok.tasks.jsonl, not notes.jsonl');
  });

  it('globs match as VS Code does', () => {
    assert.ok(globToRegExp('**/examples/*.jsonl').test('a/b/examples/x.jsonl'));
    assert.ok(globToRegExp('**/examples/*.jsonl').test('examples/x.jsonl'));
    assert.ok(!globToRegExp('examples/*.jsonl').test('a/examples/x.jsonl'));
    assert.ok(globToRegExp('*.{jsonl,json}').test('x.json'));
    assert.ok(!globToRegExp('*.jsonl').test('a/x.jsonl'));
    assert.ok(globToRegExp('data/[ab]?.jsonl').test('data/b1.jsonl'));
  });

  it('submit, train and eval print one JSON summary with --format json', async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, 'b.tasks.jsonl'), [task('他在银行工作。', 'one'), task('今天步行上班。', 'two')].join('\n') + '\n');
    const s = await runCli(['submit', 'b.tasks.jsonl', '--out', 'out', '--format', 'json', '--quiet'], dir);
    assert.equal(s.code, 0, s.err);
    const sub = JSON.parse(s.out);
    assert.equal(sub.status, 'finished');
    assert.equal(sub.total, 2);
    assert.equal(sub.done, 2);
    assert.equal(sub.failed, 0);
    assert.equal(sub.exitCode, 0);
    assert.equal(sub.manifest, path.join(dir, 'out', 'manifest.jsonl'));
    const again = JSON.parse((await runCli(['submit', 'b.tasks.jsonl', '--out', 'out', '--format', 'json', '--quiet'], dir)).out);
    assert.equal(again.skipped, 2, 'resumed: nothing to do');

    // The teacher run's manifest is the labels: its 2 lines hold 4 polyphones (在 行 步 行… as the teacher reads them).
    const t = await runCli(
      ['train', 'out/manifest.jsonl', '--out', 'g2p.json', '--epochs', '1', '--heldout', '0', '--format', 'json'],
      dir,
    );
    assert.equal(t.code, 0, t.err);
    const tr = JSON.parse(t.out);
    assert.equal(tr.model, path.join(dir, 'g2p.json'));
    assert.equal(tr.epochs, 1);
    assert.deepEqual(
      tr.sources.map((x: { kind: string; examples: number }) => [x.kind, x.examples > 0]),
      [['manifest', true]],
    );
    assert.equal(tr.metrics.heldOutExamples, 0);
    assert.equal(tr.metrics.heldOutAccuracy, null);
    assert.ok(tr.metrics.trainExamples > 0);

    const e = await runCli(['eval', '--model', 'g2p.json', '--teacher', 'out', '--out', 'report', '--format', 'json'], dir);
    assert.equal(e.code, 0, e.err);
    const ev = JSON.parse(e.out);
    assert.equal(ev.tasks, 2);
    assert.ok(ev.summary.characters.total > 0);
    assert.equal(ev.report.json, path.join(dir, 'report', 'eval.json'));
    assert.equal((await runCli(['eval', '--model', 'g2p.json', '--teacher', 'out', '--out', 'r', '--format', 'xml'], dir)).code, 64);
  });
});
