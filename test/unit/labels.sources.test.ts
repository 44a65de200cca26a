// Labels the student can trust: only readings GLM-TTS really wrote as phoneme tokens (dictionary, g2p).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromManifest } from '../../server/src/core/student/labels';
import { agreement } from '../../server/src/core/evaluation/agreement';

const rec = (line: number, text: string, readings: (string | null)[], sources?: (string | null)[]) =>
  JSON.stringify({
    line,
    name: `n${line}`,
    taskHash: 'h',
    text,
    readings,
    phonemes: '',
    audio: `n${line}.wav`,
    durationSeconds: 1,
    sampleRate: 24000,
    backend: 'glmtts-cli',
    seed: 0,
    wavSha256: 'x',
    clonedVoice: true,
    ...(sources ? { sources, dictionarySha256: 'a'.repeat(64) } : {}),
  });

describe('student labels and evaluation by source', () => {
  it('learns from dictionary and g2p readings, never from model-read characters or local estimates', () => {
    // 会 (able list: model), 长 (g2p), 行 (dictionary), 重 (an estimate: null).
    const text = '会长行重';
    const m = fromManifest(
      'manifest.jsonl',
      rec(0, text, ['hui4', 'zhang3', 'hang2', 'zhong4'], ['model', 'g2p', 'dictionary', null]) + '\n',
    );
    assert.deepEqual(
      m.examples.map((e) => [text[e.index], e.reading]),
      [
        ['长', 'zhang3'],
        ['行', 'hang2'],
      ],
    );
    assert.ok(
      m.problems.some((p) => /2 polyphone reading\(s\) left out/.test(p)),
      m.problems.join('; '),
    );
  });

  it("an older record without sources gives only the characters outside GLM-TTS's able list", () => {
    const text = '会长';
    const m = fromManifest('manifest.jsonl', rec(0, text, ['hui4', 'zhang3']) + '\n');
    assert.deepEqual(
      m.examples.map((e) => [text[e.index], e.reading]),
      [['长', 'zhang3']],
    );
    assert.ok(m.problems.some((p) => /without sources/.test(p)));
  });

  it('eval reports agreement per source', () => {
    const s = agreement([
      {
        text: '会长行重',
        teacher: ['hui4', 'zhang3', 'hang2', 'zhong4'],
        student: ['kuai4', 'zhang3', 'hang2', 'chong2'],
        sources: ['model', 'g2p', 'dictionary', null],
      },
      { text: '长', teacher: ['chang2'], student: ['zhang3'], sources: ['g2p'] },
    ]);
    assert.deepEqual(s.bySource.g2p, { agree: 1, total: 2, rate: 0.5 });
    assert.deepEqual(s.bySource.dictionary, { agree: 1, total: 1, rate: 1 });
    assert.deepEqual(s.bySource.model, { agree: 0, total: 1, rate: 0 });
    assert.deepEqual(s.bySource.unknown, { agree: 0, total: 1, rate: 0 });
    assert.equal(s.characters.total, 5);
  });
});
