import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sniffKind } from '../../server/src/core/formats/documentKind';
import {
  detectDialect,
  TaskFileModel,
  unsafeNameProblem,
  resolvePromptAudio,
  type PromptAudioStatus,
} from '../../server/src/core/formats/taskFile';
import { capFindings, countBySeverity, type Finding } from '../../server/src/core/findings';
import { findSyntaxError, stringOffsetMapper } from '../../server/src/core/formats/jsonl';

const W = (o: Record<string, unknown>) => JSON.stringify(o);
const task = (over: Record<string, unknown> = {}) =>
  W({ prompt_audio: 'p.wav', prompt_text: '你好', input_text: '今天天气很好', output_name: 'a', ...over });
const up = (over: Record<string, unknown> = {}) =>
  W({ uttid: 'u', prompt_text: '你好', prompt_speech: 'p.wav', syn_text: '今天天气很好', ...over });

async function check(text: string, opts: { status?: PromptAudioStatus; max?: number } = {}): Promise<Finding[]> {
  const model = new TaskFileModel(text);
  return model.validate({
    maxPerFile: opts.max ?? 5000,
    promptAudio: { minSeconds: 3, maxSeconds: 10 },
    promptAudioStatus: opts.status ? () => opts.status! : undefined,
  });
}
const only = (fs: Finding[], code: string) => {
  const hits = fs.filter((f) => f.code === code);
  assert.equal(hits.length, 1, `expected one ${code}, got ${JSON.stringify(fs.map((f) => f.code))}`);
  return hits[0]!;
};

describe('task files: dialects', () => {
  it('detects each dialect from the keys, and falls back to the setting', () => {
    assert.deepEqual(detectDialect([task()], 'auto'), { dialect: 'webui', source: 'file' });
    assert.deepEqual(detectDialect(['', up()], 'webui'), { dialect: 'upstream', source: 'file' });
    assert.deepEqual(detectDialect(['{"x": 1}'], 'upstream'), { dialect: 'upstream', source: 'setting' });
    assert.deepEqual(detectDialect(['not json'], 'auto'), { dialect: 'webui', source: 'setting' });
  });

  it('sniffs task files by their first non-blank line', () => {
    assert.equal(sniffKind(`\n\n${up()}`), 'tasks');
    assert.equal(sniffKind('{"word": "行"}'), 'dictionary');
  });

  it('a clean file in either dialect has no findings', async () => {
    assert.deepEqual(await check(`${task()}\n${task({ output_name: 'b' })}\n`), []);
    assert.deepEqual(await check(`${up()}\n${up({ uttid: 'v' })}\n`), []);
  });
});

describe('task files: one fixture per diagnostic', () => {
  it('JSON syntax error, with the column and the exact place', async () => {
    const line = '{"prompt_audio": "p.wav" "input_text": "x", "output_name": "a"}';
    const f = only(await check(line), 'task/json-syntax');
    assert.equal(f.severity, 'error');
    assert.equal(f.range.start.character, line.indexOf('"input_text"'));
    assert.match(f.message, /column 26/);
    assert.match(f.message, /','/);
  });

  it('upstream: a syntax error says the whole run aborts', async () => {
    const f = only(await check(`${up()}\n{"uttid": "x",\n`), 'task/json-syntax');
    assert.match(f.message, /aborts the whole run/);
    assert.equal(f.range.start.line, 1);
  });

  it('a BOM: error in the upstream dialect, warning in the web UI dialect, and the line is still checked', async () => {
    const u = only(await check(`\uFEFF${up()}\n`), 'task/bom');
    assert.equal(u.severity, 'error');
    assert.deepEqual(u.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } });
    const w = await check(`\uFEFF${task({ output_name: 'a/b' })}\n`);
    assert.equal(only(w, 'task/bom').severity, 'warning');
    const name = only(w, 'task/unsafe-name');
    assert.equal(name.range.start.character, `\uFEFF${task({ output_name: 'a/b' })}`.indexOf('"a/b"'));
  });

  it('blank lines abort upstream runs; the final newline is not a blank line', async () => {
    const fs = await check(`${up()}\n\n${up({ uttid: 'v' })}\n`);
    const f = only(fs, 'task/blank-line');
    assert.equal(f.range.start.line, 1);
    assert.equal(f.severity, 'error');
    assert.match(f.message, /aborts the entire run/);
    assert.equal((await check(`${task()}\n   \n`)).filter((x) => x.code === 'task/blank-line').length, 1);
    assert.deepEqual(await check(`${task()}\n`), []);
  });

  it('missing keys are errors on the opening brace; upstream says the run aborts', async () => {
    const f = only(await check(W({ uttid: 'u', prompt_text: 'x', syn_text: '好' })), 'task/missing-key');
    assert.match(f.message, /"prompt_speech"/);
    assert.match(f.message, /aborts the whole run/);
    assert.deepEqual(f.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } });
  });

  it('a key of the other dialect is named as such', async () => {
    const fs = await check(`${up()}\n${W({ uttid: 'v', prompt_text: 'x', prompt_audio: 'p.wav', syn_text: '好' })}\n`);
    assert.match(only(fs, 'task/missing-key').message, /"prompt_audio", which is the webui dialect's key/);
    assert.match(only(fs, 'task/unknown-key').message, /belongs to the webui dialect/);
  });

  it('unknown keys: a warning on the key itself', async () => {
    const line = task({ speaker: 'x' });
    const f = only(await check(line), 'task/unknown-key');
    assert.equal(f.severity, 'warning');
    assert.equal(f.range.start.character, line.indexOf('"speaker"'));
    assert.equal(f.range.end.character, line.indexOf('"speaker"') + '"speaker"'.length);
  });

  it('wrong types: an error on the value', async () => {
    const line = task({ input_text: 12 });
    const f = only(await check(line), 'task/wrong-type');
    assert.equal(f.range.start.character, line.indexOf('12'));
    assert.match(f.message, /must be string, not number/);
  });

  it('upstream messages say what glmtts_inference.py really does: a wrong type fails that line only, a non-object line aborts the run, a separator makes a sub-folder', async () => {
    const wrong = only(await check(up() + '\n' + up({ uttid: 'v', syn_text: 12 })), 'task/wrong-type');
    assert.match(wrong.message, /fails this line only .* the rest of the run goes on/);
    assert.doesNotMatch(wrong.message, /aborts/);
    assert.match(
      only(await check(up() + '\n[1, 2]'), 'task/not-object').message,
      /an array; glmtts_inference.py aborts the whole run on it/,
    );
    assert.doesNotMatch(
      only(await check(task() + '\n[1, 2]'), 'task/not-object').message,
      /glmtts/,
      'the web UI dialect does not run glmtts_inference.py',
    );
    assert.equal(
      unsafeNameProblem('spk1/utt1', 'upstream')?.message,
      '"uttid" contains a path separator: GLM-TTS creates the sub-folder and writes <uttid>.wav into it.',
    );
  });

  it('not an object', async () => {
    assert.equal(only(await check('[1, 2]'), 'task/not-object').severity, 'error');
    assert.match(only(await check('"text"'), 'task/not-object').message, /a string/);
  });

  it('empty text', async () => {
    assert.equal(only(await check(task({ input_text: '   ' })), 'task/empty-text').severity, 'error');
  });

  it('duplicate names: every occurrence, with related information to the others', async () => {
    const fs = await check([task(), task({ output_name: 'b' }), task()].join('\n'));
    const dups = fs.filter((f) => f.code === 'task/duplicate-name');
    assert.equal(dups.length, 2);
    assert.deepEqual(dups.map((d) => d.range.start.line).sort(), [0, 2]);
    assert.equal(dups.find((d) => d.range.start.line === 0)!.related![0]!.range.start.line, 2);
    assert.match(dups[0]!.message, /Duplicate output_name "a"/);
  });

  it('names that differ only in case collide on some file systems', async () => {
    const fs = await check([task({ output_name: 'Take' }), task({ output_name: 'take' })].join('\n'));
    assert.equal(fs.filter((f) => f.code === 'task/case-collision').length, 2);
  });

  it('unsafe names', () => {
    assert.equal(unsafeNameProblem('../x', 'upstream')?.severity, 'error');
    assert.equal(unsafeNameProblem('a/b', 'upstream')?.severity, 'warning');
    assert.equal(unsafeNameProblem('a/b', 'webui')?.severity, 'error');
    assert.equal(unsafeNameProblem('/etc/x', 'webui')?.severity, 'error');
    assert.equal(unsafeNameProblem('a\tb', 'webui')?.severity, 'error');
    assert.equal(unsafeNameProblem('a:b', 'webui')?.severity, 'warning');
    assert.equal(unsafeNameProblem('CON', 'webui')?.severity, 'warning');
    assert.equal(unsafeNameProblem('', 'webui')?.severity, 'error');
    assert.equal(unsafeNameProblem('utt_001-a.b', 'webui'), undefined);
  });

  it('a missing or empty prompt_text is a warning (cloning is better with it)', async () => {
    const line = W({ prompt_audio: 'p.wav', input_text: '好', output_name: 'a' });
    assert.equal(only(await check(line), 'task/missing-prompt-text').severity, 'warning');
    assert.equal(only(await check(task({ prompt_text: '' })), 'task/missing-prompt-text').severity, 'warning');
  });

  it('text mixing Chinese and English: the range covers the English word, across escapes', async () => {
    const line = '{"prompt_audio": "p.wav", "prompt_text": "x", "input_text": "\\u4eca天 OK好的", "output_name": "a"}';
    const f = only(await check(line), 'task/mixed-language');
    assert.equal(line.slice(f.range.start.character, f.range.end.character), 'OK');
  });

  it('prompt audio: missing, unreadable, stereo, too short, too long', async () => {
    const path = '/x/p.wav';
    assert.equal(only(await check(task(), { status: { state: 'missing', path } }), 'task/prompt-audio-missing').severity, 'error');
    assert.match(
      only(await check(task(), { status: { state: 'unreadable', path, reason: 'not a WAV file' } }), 'task/prompt-audio-unreadable')
        .message,
      /not a WAV file/,
    );
    const ok = { state: 'ok' as const, path, sampleRate: 16000, truncated: false };
    assert.match(
      only(await check(task(), { status: { ...ok, channels: 2, durationSeconds: 4 } }), 'task/prompt-audio-quality').message,
      /2 channels/,
    );
    assert.match(
      only(await check(task(), { status: { ...ok, channels: 1, durationSeconds: 1.5 } }), 'task/prompt-audio-quality').message,
      /1\.50 s/,
    );
    assert.match(
      only(await check(task(), { status: { ...ok, channels: 1, durationSeconds: 12 } }), 'task/prompt-audio-quality').message,
      /3–10 s/,
    );
    assert.deepEqual(await check(task(), { status: { ...ok, channels: 1, durationSeconds: 5 } }), []);
    const f = only(await check(task(), { status: { state: 'missing', path } }), 'task/prompt-audio-missing');
    assert.equal(f.range.start.character, task().indexOf('"p.wav"'));
  });

  it('resolves prompt audio as the teacher does', () => {
    assert.equal(resolvePromptAudio('examples/p.wav', 'upstream', '/ws/t.tasks.jsonl', '/glm', '/ws'), '/glm/examples/p.wav');
    assert.equal(resolvePromptAudio('examples/p.wav', 'upstream', '/ws/sub/t.tasks.jsonl', '', '/ws'), '/ws/examples/p.wav');
    assert.equal(resolvePromptAudio('p.wav', 'webui', '/ws/sub/t.tasks.jsonl', '/glm', '/ws'), '/ws/sub/p.wav');
    assert.equal(resolvePromptAudio('/abs/p.wav', 'webui', '/ws/t.tasks.jsonl', '', '/ws'), '/abs/p.wav');
  });
});

describe('task files: the incremental model', () => {
  it('an incremental edit re-parses only the touched line and gives the same result as a fresh parse', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => task({ output_name: `n${i}` }));
    const model = new TaskFileModel(lines.join('\n') + '\n');
    const opts = { maxPerFile: 5000, promptAudio: { minSeconds: 3, maxSeconds: 10 } };
    assert.deepEqual(await model.validate(opts), []);
    const untouched = model.line(10);
    // Make line 20 a duplicate of line 3 by editing inside the name.
    const l20 = lines[20]!;
    const at = l20.indexOf('"n20"') + 1;
    model.applyChanges([{ range: { start: { line: 20, character: at }, end: { line: 20, character: at + 3 } }, text: 'n3' }]);
    const fs = await model.validate(opts);
    assert.equal(model.line(10), untouched, 'cached parse of an untouched line is kept');
    assert.deepEqual(
      fs
        .filter((f) => f.code === 'task/duplicate-name')
        .map((f) => f.range.start.line)
        .sort((a, b) => a - b),
      [3, 20],
    );
    // Insert two lines and delete one in a single multi-line change.
    model.applyChanges([{ range: { start: { line: 5, character: 0 }, end: { line: 6, character: 0 } }, text: 'garbage\n\n' }]);
    const text = Array.from({ length: model.lineCount }, (_, i) => model.lineText(i)).join('\n');
    const fresh = await new TaskFileModel(text).validate(opts);
    assert.deepEqual(await model.validate(opts), fresh);
  });

  it('a checked line lets go of its parsed object and parses it again when asked', async () => {
    const model = new TaskFileModel(`${task()}\n`);
    await model.validate({ maxPerFile: 10, promptAudio: { minSeconds: 3, maxSeconds: 10 } });
    const line = model.line(0)!;
    assert.equal(line.get('text'), '今天天气很好');
    assert.deepEqual(line.value, JSON.parse(task()));
    assert.equal(line.field('name')?.value, 'a');
  });

  it('a whole-text change replaces the model', async () => {
    const model = new TaskFileModel(task());
    model.applyChanges([{ text: `${up()}\n` }]);
    assert.equal(model.dialect.dialect, 'upstream');
    assert.equal(model.tasks().length, 1);
  });

  it('gives tasks in both dialects the same shape', () => {
    const a = new TaskFileModel(`${task()}\n`).tasks();
    const b = new TaskFileModel(`${up()}\n`).tasks();
    assert.deepEqual(a, [{ line: 0, name: 'a', text: '今天天气很好', promptText: '你好', promptAudio: 'p.wav' }]);
    assert.deepEqual(b, [{ line: 0, name: 'u', text: '今天天气很好', promptText: '你好', promptAudio: 'p.wav' }]);
  });

  it('stops when cancelled between chunks', async () => {
    const model = new TaskFileModel(Array.from({ length: 100 }, (_, i) => task({ output_name: `n${i}` })).join('\n'));
    await assert.rejects(
      model.validate({ maxPerFile: 10, promptAudio: { minSeconds: 3, maxSeconds: 10 }, chunkLines: 10, isCancelled: () => true }),
      /cancelled/,
    );
  });
});

describe('findings cap', () => {
  it('keeps errors first, then warnings, and says how many were left out', () => {
    const mk = (severity: Finding['severity'], line: number): Finding => ({
      severity,
      code: 'x',
      message: 'm',
      range: { start: { line, character: 0 }, end: { line, character: 1 } },
    });
    const fs = [mk('hint', 0), mk('warning', 1), mk('error', 2), mk('information', 3), mk('error', 4)];
    const capped = capFindings(fs, 3);
    assert.deepEqual(
      capped.slice(0, 2).map((f) => `${f.severity}${f.range.start.line}`),
      ['error2', 'error4'],
    );
    // Three in all: the notice takes the place of the warning.
    assert.equal(capped.length, 3);
    assert.match(capped[2]!.message, /^3 more problems not shown \(1 warning, 1 information, 1 hint\)/);
    // The status bar's counts are the file's, those over the cap included.
    assert.deepEqual(countBySeverity(capped), { error: 2, warning: 1, information: 1, hint: 1 });
    assert.deepEqual(countBySeverity(fs), countBySeverity(capped));
  });

  it('applies to a file with many problems', async () => {
    const fs = await check(Array.from({ length: 30 }, () => '{').join('\n'), { max: 10 });
    assert.equal(fs.length, 10);
    assert.equal(fs[9]!.code, 'limit/too-many-findings');
    assert.match(fs[9]!.message, /^21 more problems not shown \(21 error\)/);
  });
});

describe('jsonl helpers', () => {
  it('maps decoded string indexes to raw offsets across escapes', () => {
    const line = '{"t": "a\\nb\\u884cc"}';
    const start = line.indexOf('"a');
    const end = line.lastIndexOf('"') + 1;
    const map = stringOffsetMapper(line, start, end);
    assert.equal(line[map(0)], 'a');
    assert.equal(line.slice(map(1), map(1) + 2), '\\n');
    assert.equal(line[map(2)], 'b');
    assert.equal(line.slice(map(3), map(3) + 6), '\\u884c');
    assert.equal(line[map(4)], 'c');
  });

  it('explains syntax errors', () => {
    assert.match(findSyntaxError('{"a": 1,}').message, /key in double quotes/);
    assert.match(findSyntaxError('{"a": "x').message, /not closed/);
    assert.match(findSyntaxError('{"a" 1}').message, /':'/);
  });
});
