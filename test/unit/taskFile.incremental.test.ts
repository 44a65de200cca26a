import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PENDING_FINDINGS, TaskFileModel, type TaskLineAnalyzer, type TaskValidationOptions } from '../../server/src/core/formats/taskFile';
import type { LineFinding } from '../../server/src/core/findings';
import { seededRandom } from '../../server/src/core/student/prng';

// A validation after in-place edits looks at the edited lines only and patches what the last one
// left (TaskFileModel.validate with `incremental`): it must publish exactly what a complete pass
// over the same text publishes, under the cap, with errors first.

const line = (text: string, name: string, extra = '') =>
  `{"prompt_speech": "p${name.length % 3}.wav", "prompt_text": "你好", "syn_text": "${text}", "uttid": "${name}"${extra}}`;

/** Warnings on 行, pending on 待 until `resolved`, an error on 错. */
function analyzer(resolved: boolean, recheckPending = false): TaskLineAnalyzer {
  return {
    version: 'test-1',
    recheckPending,
    analyze(p) {
      const t = p.get('text') ?? '';
      if (t.includes('待') && !resolved) return PENDING_FINDINGS as LineFinding[];
      const out: LineFinding[] = [];
      for (let i = 0; i < t.length; i++) {
        if (t[i] === '行' || t[i] === '待')
          out.push({ start: i, end: i + 1, severity: 'warning', code: 'test/warn', message: `warn ${t[i]}` });
        if (t[i] === '错') out.push({ start: i, end: i + 1, severity: 'error', code: 'test/err', message: 'err' });
      }
      return out;
    },
  };
}

const options = (a: TaskLineAnalyzer, incremental: boolean, maxPerFile = 40): TaskValidationOptions => ({
  maxPerFile,
  promptAudio: { minSeconds: 2, maxSeconds: 20 },
  promptAudioStatus: (written) =>
    written === 'p0.wav'
      ? { state: 'missing', path: written }
      : { state: 'ok', path: written, channels: 1, sampleRate: 24000, durationSeconds: 4, truncated: false },
  analyzers: [a],
  incremental,
});

const TEXTS = ['银行', '今天很好', '行长', '待定', '错字', '没问题', '还行吧', '等待中'];

function variant(rand: () => number, i: number): string {
  const r = rand();
  if (r < 0.04) return '{"broken": ';
  if (r < 0.08) return line(TEXTS[Math.floor(rand() * TEXTS.length)]!, `dup${Math.floor(rand() * 3)}`);
  if (r < 0.1) return '';
  return line(TEXTS[Math.floor(rand() * TEXTS.length)]!, `u${i}_${Math.floor(rand() * 1000)}`);
}

describe('task file validation after in-place edits', () => {
  for (const cap of [40, 400])
    it(`publishes exactly what a complete pass publishes (cap ${cap}, errors first, duplicates, pending lines)`, async () => {
      const rand = seededRandom(cap);
      const n = 600;
      const lines = Array.from({ length: n }, (_, i) => variant(rand, i));
      const model = new TaskFileModel(lines.join('\n') + '\n');
      await model.validate(options(analyzer(false), false, cap));
      for (let step = 0; step < 120; step++) {
        const at = Math.floor(rand() * n);
        const next = variant(rand, at);
        model.applyChanges([{ range: { start: { line: at, character: 0 }, end: { line: at, character: lines[at]!.length } }, text: next }]);
        lines[at] = next;
        // Now and then the pending lines get their results (the readings workers delivered).
        const resolved = step >= 60;
        const got = await model.validate(options(analyzer(resolved, step === 60), true, cap));
        const fresh = new TaskFileModel(lines.join('\n') + '\n');
        const want = await fresh.validate(options(analyzer(resolved), false, cap));
        assert.deepEqual(got, want, `after edit ${step} of line ${at}`);
        assert.equal(model.pendingLines, fresh.pendingLines, `pending lines after edit ${step}`);
      }
    });

  it('lines added or removed, or another analyzer version: a complete pass again', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(TEXTS[i % TEXTS.length]!, `n${i}`));
    const model = new TaskFileModel(lines.join('\n') + '\n');
    await model.validate(options(analyzer(true), false, 5000));
    model.applyChanges([
      { range: { start: { line: 10, character: 0 }, end: { line: 10, character: 0 } }, text: `${line('行行行', 'extra')}\n` },
    ]);
    lines.splice(10, 0, line('行行行', 'extra'));
    const got = await model.validate(options(analyzer(true), true, 5000));
    const want = await new TaskFileModel(lines.join('\n') + '\n').validate(options(analyzer(true), false, 5000));
    assert.deepEqual(got, want);
    assert.ok(got.some((f) => f.range.start.line === 10 && f.code === 'test/warn'));
    const other = { ...analyzer(true), version: 'test-2', analyze: () => [] };
    const none = await model.validate(options(other, true, 5000));
    assert.ok(!none.some((f) => f.code === 'test/warn'), 'the new analyzer decides every line');
  });
});
