import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWav } from '../../server/src/core/audio/wav';
import { EmbeddedTeacher, espeakInput } from '../../server/src/core/teacher/embedded';
import { embeddedG2P } from '../../server/src/core/teacher/embeddedG2P';
import { ReplaceDict } from '../../server/src/core/pronunciation/dictionary';
import { pinyinToTokens, tokensToPinyin } from '../../server/src/core/formats/notation';

test('embedded G2P: token notation as FORMATS.md §2 spells it, both ways', () => {
  const table: Record<string, string> = {
    hang2: '<|H|><|ANG2|>',
    chong2: '<|CH|><|ONG2|>',
    yi4: '<|I4|>',
    ju2: '<|J|><|V2|>',
    liu2: '<|L|><|IOU2|>',
    gui4: '<|G|><|UEI4|>',
    lun2: '<|L|><|UEN2|>',
    yue4: '<|VE4|>',
    shi4: '<|SH|><|III4|>',
    zi3: '<|Z|><|II3|>',
    lv4: '<|L|><|V4|>',
    le5: '<|L|><|E5|>',
  };
  for (const [p, t] of Object.entries(table)) {
    assert.equal(pinyinToTokens(p), t, p);
    assert.deepEqual(tokensToPinyin(t), [p], t);
  }
});

test('embedded G2P: the dictionary (either dialect) forces readings and appears verbatim in the phonemes', () => {
  const upstream = ReplaceDict.fromText('{"银行": "银<|X|><|ING2|>"}\n');
  const g = embeddedG2P('去银行。', upstream);
  assert.deepEqual(g.readings, ['qu4', 'yin2', 'xing2', null]);
  assert.equal(g.phonemes, '去银<|X|><|ING2|>。');
  assert.equal(g.pinyin, 'qu4 yin2 xing2');
  const rule = ReplaceDict.fromText('{"word": "长", "context": "行长", "phoneme": "zhang3"}');
  assert.equal(embeddedG2P('行长', rule).readings[1], 'zhang3');
  // Without a dictionary the model's reading of a polyphone is written as tokens, the rest stays text.
  const plain = embeddedG2P('长江');
  assert.equal(plain.readings[0], 'chang2');
  assert.equal(plain.phonemes, '<|CH|><|ANG2|>江');
});

test('embedded teacher: 16-bit mono WAV at the task rate, never claims to clone, says which engine spoke', async () => {
  for (const engine of ['auto', 'sketch'] as const) {
    const logs: string[] = [];
    const t = new EmbeddedTeacher({ engine, dict: ReplaceDict.fromText('{"银行": "银<|H|><|ANG2|>"}'), log: (m) => logs.push(m) });
    for (const sampleRate of [24000, 32000]) {
      const r = await t.synthesize({ line: 0, name: 'x', text: '我去银行。', promptAudio: '/nowhere.wav' }, { seed: 42, sampleRate });
      const d = decodeWav(r.wav);
      assert.equal(d.sampleRate, sampleRate);
      assert.equal(d.channels.length, 1);
      assert.equal(d.bitsPerSample, 16);
      assert.ok(d.durationSeconds > 0.3 && d.durationSeconds < 5, `${engine}: ${d.durationSeconds} s`);
      assert.equal(r.clonedVoice, false);
      // espeak-ng is an optionalDependency that npm installs by default; the sketch stands in only without it.
      assert.match(r.engine, engine === 'auto' ? /espeak-ng cmn/ : /tone sketch/);
      assert.match(r.note!, /cannot clone voices/);
      assert.equal(r.phonemes, '我去银<|H|><|ANG2|>。');
      await t.synthesize({ line: 1, name: 'y', text: '长江很长，真的很长。' }, { seed: 42, sampleRate });
      const again = await t.synthesize({ line: 0, name: 'x', text: '我去银行。' }, { seed: 42, sampleRate });
      assert.deepEqual(again.wav, r.wav, 'same task, same seed: same bytes');
    }
    if (engine === 'sketch') {
      assert.match(logs.join('\n'), /tone sketch/);
      assert.equal((await t.health()).engine, 'built-in tone sketch');
    } else {
      assert.equal(logs.length, 1, 'the engine is announced once');
    }
  }
});

test('embedded teacher: espeak-ng is fed the readings as tone-numbered pinyin, so dictionary rules are heard', () => {
  const g = embeddedG2P('去银行，好。', ReplaceDict.fromText('{"银行": "银<|X|><|ING2|>"}'));
  assert.equal(espeakInput(g), 'qu4 yin2 xing2 ， hao3 。');
});

test('embedded teacher: empty text is a permanent failure, not a silent WAV', async () => {
  const t = new EmbeddedTeacher({ engine: 'sketch' });
  await assert.rejects(
    t.synthesize({ line: 0, name: 'x', text: '  ' }, { seed: 42, sampleRate: 24000 }),
    (e: Error & { transient?: boolean }) => e.transient === false,
  );
});

test('embedded teacher: worker threads give the same bytes as this thread, whichever worker speaks', async () => {
  const texts = ['我去银行。', '长江很长。', '他会还钱的。', '这个音乐很好听。', '行不行？', '重新开始。'];
  const here = new EmbeddedTeacher();
  const pooled = new EmbeddedTeacher({ workers: 2 });
  try {
    const opts = { seed: 42, sampleRate: 24000 };
    const a = await Promise.all(texts.map((text, line) => pooled.synthesize({ line, name: `n${line}`, text }, opts)));
    for (let i = 0; i < texts.length; i++) {
      const b = await here.synthesize({ line: i, name: `n${i}`, text: texts[i]! }, opts);
      assert.deepEqual(Buffer.from(a[i]!.wav), Buffer.from(b.wav), texts[i]);
      assert.equal(a[i]!.engine, b.engine);
    }
    assert.equal((await pooled.health()).engine, (await here.health()).engine);
  } finally {
    await pooled.close();
  }
});
