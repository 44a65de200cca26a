import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeWav, encodeWav } from '../../server/src/core/audio/wav';
import { exportDataset } from '../../server/src/core/dataset/export';
import { applyGates, type QaInput } from '../../server/src/core/qa/gates';
import { excludedLines, type RunQaResult } from '../../server/src/core/qa/runQa';
import type { SignalMeasures } from '../../server/src/core/qa/signal';
import { defaultSettings } from '../../server/src/core/settings';
import { runCli } from './runCli';

const REPO = path.join(__dirname, '..', '..');
const TEXTS = [
  '他在银行工作了很多年。',
  '今天我们步行去公园散步。',
  '这个问题的答案很简单。',
  '长城是中国的名胜古迹。',
  '音乐会在晚上八点开始。',
  '我们明天一起去图书馆吧。',
];
const task = (text: string, name: string) =>
  JSON.stringify({ prompt_audio: 'a.wav', prompt_text: '你好，今天天气很好。', input_text: text, output_name: name });

type QaJson = {
  file: string;
  measured: number;
  summary: RunQaResult['summary'];
  excluded: Array<{ name: string; reasons: string[]; override?: string }>;
  included: Array<{ name: string }>;
  exitCode: number;
};
const qaJson = async (dir: string, ...args: string[]) => {
  const r = await runCli(['qa', 'out', '--format', 'json', ...args], dir);
  return { code: r.code, err: r.err, json: r.out ? (JSON.parse(r.out) as QaJson) : undefined };
};
const codes = (reasons: string[]) => reasons.map((r) => r.slice(0, r.indexOf(':')));

/** Rewrites a WAV of the run through `f` (16-bit PCM, as the teacher writes). */
function damage(file: string, f: (samples: Float32Array) => Float32Array): void {
  const w = decodeWav(readFileSync(file));
  writeFileSync(file, encodeWav(f(w.channels[0]!), w.sampleRate));
}

describe('tts-distill qa on a run of the embedded teacher', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tts-qa-'));
    copyFileSync(path.join(REPO, 'sample-workspace', 'prompts', 'speaker_b.wav'), path.join(dir, 'a.wav'));
    writeFileSync(path.join(dir, 'b.tasks.jsonl'), TEXTS.map((t, i) => task(t, `l${i}`)).join('\n') + '\n');
    const s = await runCli(['submit', 'b.tasks.jsonl', '--out', 'out', '--quiet'], dir);
    assert.equal(s.code, 0, s.err);
  });

  it('a clean run: every line ok, one qa.jsonl record per line with the measures; --strict exits 0', async () => {
    const r = await runCli(['qa', 'out', '--strict'], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^qa +6 line\(s\): 6 ok, 0 excluded$/m);
    assert.match(r.out, /^loudness +median -\d+\.\d LUFS/m);
    assert.match(r.out, /^wrote +out\/qa\.jsonl \(6 WAV\(s\) measured, 0 unchanged\)$/m);
    const lines = readFileSync(path.join(dir, 'out', 'qa.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            name: string;
            verdict: string;
            reasons: string[];
            measures: SignalMeasures;
            syllables: number;
            secondsPerSyllable: number;
          },
      );
    assert.deepEqual(
      lines.map((l) => [l.name, l.verdict, l.reasons.length]),
      TEXTS.map((_, i) => [`l${i}`, 'ok', 0]),
    );
    for (const l of lines) {
      assert.equal(l.measures.sampleRate, 24000);
      assert.equal(l.measures.channels, 1);
      assert.ok(l.measures.snrDb! > defaultSettings.qa.minSnrDb, `${l.name}: SNR ${l.measures.snrDb}`);
      assert.ok(l.measures.bandwidthHz! > 5000);
      assert.ok(l.syllables >= 9 && l.secondsPerSyllable > 0.05 && l.secondsPerSyllable < 1);
    }
    assert.equal((await excludedLines(path.join(dir, 'out'))).size, 0);
  });

  it('a clipped, a noisy and a truncated WAV are excluded with their reasons; only those are measured again', async () => {
    const out = path.join(dir, 'out');
    damage(path.join(out, 'l1.wav'), (x) => Float32Array.from(x, (v) => Math.max(-1, Math.min(1, v * 8))));
    let seed = 3;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    damage(path.join(out, 'l2.wav'), (x) => Float32Array.from(x, (v) => 0.5 * v + 0.2 * (rand() + rand() + rand() - 1.5)));
    damage(path.join(out, 'l3.wav'), (x) => x.slice(0, Math.floor(x.length / 3)));
    const { code, json } = await qaJson(dir, '--strict');
    assert.equal(code, 1, '--strict: some lines are excluded');
    assert.equal(json!.exitCode, 1);
    assert.equal(json!.measured, 3, 'the three changed WAVs only');
    const why = new Map(json!.excluded.map((e) => [e.name, codes(e.reasons)]));
    assert.deepEqual([...why.keys()], ['l1', 'l2', 'l3']);
    assert.ok(why.get('l1')!.includes('clipping'), String(why.get('l1')));
    assert.ok(why.get('l2')!.includes('snr'), String(why.get('l2')));
    assert.deepEqual(why.get('l3'), ['speaking-rate']);
    assert.match(json!.excluded[2]!.reasons[0]!, /too fast: truncated/);
    assert.equal(json!.summary.excluded, 3);
    assert.equal(json!.summary.byReason.clipping, 1);
    assert.equal(json!.summary.byReason['speaking-rate'], 1);
    const text = await runCli(['qa', 'out'], dir);
    assert.equal(text.code, 0, 'without --strict');
    assert.match(text.out, /^ {2}clipping +1$/m);
    assert.match(text.out, /^ {2}line 4 l3: speaking-rate: /m);
    assert.match(text.out, /\(0 WAV\(s\) measured, 6 unchanged\)/);
    const ex = await excludedLines(out);
    assert.deepEqual([...ex.keys()].sort(), ['l1', 'l2', 'l3']);
    assert.match(ex.get('l1')!, /^QA: clipping: /);
  });

  it('training, evaluation and export leave the excluded lines out', async () => {
    const t = await runCli(
      ['train', 'out/manifest.jsonl', '--out', 'g2p.json', '--epochs', '1', '--heldout', '0', '--format', 'json'],
      dir,
    );
    assert.equal(t.code, 0, t.err);
    const tr = JSON.parse(t.out) as { sources: Array<{ skipped: number; problems: string[] }> };
    assert.equal(tr.sources[0]!.skipped, 3);
    assert.match(tr.sources[0]!.problems[0]!, /^3 line\(s\) excluded by the QA gates/);
    const e = await runCli(['eval', '--model', 'g2p.json', '--teacher', 'out', '--out', 'report', '--format', 'json'], dir);
    assert.equal(e.code, 0, e.err);
    assert.equal(JSON.parse(e.out).tasks, 3);
    const evalJson = JSON.parse(readFileSync(path.join(dir, 'report', 'eval.json'), 'utf8')) as {
      teacher: { excluded: number };
      items: Array<{ name: string }>;
    };
    assert.equal(evalJson.teacher.excluded, 3);
    assert.deepEqual(
      evalJson.items.map((i) => i.name),
      ['l0', 'l4', 'l5'],
    );
    const x = await exportDataset({ run: path.join(dir, 'out'), format: 'hf', out: path.join(dir, 'export'), noVerify: true });
    assert.deepEqual(x.utterances.map((u) => u.name).sort(), ['l0', 'l4', 'l5']);
    assert.deepEqual(
      x.leftOut.map((l) => [l.name, l.reason.slice(0, 4)]),
      [
        ['l1', 'QA: '],
        ['l2', 'QA: '],
        ['l3', 'QA: '],
      ],
    );
  });

  it('overrides: --include wins over the gates, --clear forgets it, --exclude drops a good line; all honoured by excludedLines', async () => {
    const out = path.join(dir, 'out');
    let r = await qaJson(dir, '--include', 'l3', '--exclude', 'l0');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'qa-overrides.json'), 'utf8')), { l0: 'exclude', l3: 'include' });
    assert.deepEqual(
      r.json!.included.map((i) => i.name),
      ['l3'],
    );
    assert.deepEqual(
      r.json!.excluded.map((e) => [e.name, e.override ?? '']),
      [
        ['l0', 'exclude'],
        ['l1', ''],
        ['l2', ''],
      ],
    );
    assert.deepEqual(r.json!.summary.overrides, { include: 1, exclude: 1 });
    const rec = readFileSync(path.join(out, 'qa.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; verdict: string; reasons: string[]; override?: string })
      .find((x) => x.name === 'l3')!;
    assert.equal(rec.verdict, 'ok');
    assert.equal(rec.override, 'include');
    assert.equal(codes(rec.reasons)[0], 'speaking-rate', "the gate's reason is kept");
    let ex = await excludedLines(out);
    assert.deepEqual([...ex.keys()].sort(), ['l0', 'l1', 'l2']);
    assert.equal(ex.get('l0'), 'excluded by hand (qa-overrides.json)');
    // The overrides file alone decides, even before qa runs again.
    writeFileSync(path.join(out, 'qa-overrides.json'), '{"l1": "include"}');
    ex = await excludedLines(out);
    assert.deepEqual([...ex.keys()].sort(), ['l2', 'l3']);
    r = await qaJson(dir, '--clear', 'l1');
    assert.deepEqual(
      r.json!.excluded.map((e) => e.name),
      ['l1', 'l2', 'l3'],
    );
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'qa-overrides.json'), 'utf8')), {});
  });

  it('bad input: a name not in the run, a broken overrides file, a folder without a run, bad usage', async () => {
    const unknown = await runCli(['qa', 'out', '--exclude', 'nope'], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no line named "nope"/);
    const out = path.join(dir, 'out');
    writeFileSync(path.join(out, 'qa-overrides.json'), '{"l1": "maybe"}');
    const broken = await runCli(['qa', 'out'], dir);
    assert.equal(broken.code, 2);
    assert.match(broken.err, /"l1" is "maybe"; it must be "include" or "exclude"/);
    await assert.rejects(exportDataset({ run: out, format: 'hf', out: path.join(dir, 'export2') }), /must be "include" or "exclude"/);
    const ev = await runCli(['eval', '--model', 'g2p.json', '--teacher', 'out', '--out', 'report2'], dir);
    assert.equal(ev.code, 2);
    assert.match(ev.err, /qa-overrides\.json/);
    writeFileSync(path.join(out, 'qa-overrides.json'), '{}');
    mkdirSync(path.join(dir, 'empty'));
    const none = await runCli(['qa', 'empty'], dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /has no manifest\.jsonl/);
    assert.equal((await runCli(['qa'], dir)).code, 64);
    assert.equal((await runCli(['qa', 'out', '--format', 'xml'], dir)).code, 64);
  });

  it('reads the thresholds from .vscode/settings.json', async () => {
    mkdirSync(path.join(dir, '.vscode'), { recursive: true });
    writeFileSync(path.join(dir, '.vscode', 'settings.json'), '{ "ttsDistill.qa.minSnrDb": 90 }\n');
    const r = await qaJson(dir);
    assert.equal(r.json!.summary.excluded, 6, 'nothing is 90 dB clean');
    assert.equal(r.json!.summary.byReason.snr, 6);
    writeFileSync(path.join(dir, '.vscode', 'settings.json'), '{}\n');
  });
});

describe('QA gates: run-level rules', () => {
  const measures = (over: Partial<SignalMeasures> = {}): SignalMeasures => ({
    durationSeconds: 3,
    sampleRate: 24000,
    channels: 1,
    snrDb: 30,
    clipRatio: 0,
    dcOffset: 0,
    peakDbfs: -1,
    leadingSilenceSeconds: 0.1,
    trailingSilenceSeconds: 0.1,
    longestPauseSeconds: 0.2,
    silenceRatio: 0.1,
    bandwidthHz: 9000,
    loudnessLufs: -20,
    ...over,
  });
  const input = (name: string, line: number, over: Partial<SignalMeasures> = {}, text = '一二三四五六七八九十'): QaInput => ({
    name,
    line,
    audio: `${name}.wav`,
    text,
    measures: measures(over),
  });

  it('loudness far from the run median and a slow speaking rate are excluded; short lines get no rate; unreadable WAVs are excluded', () => {
    const { records, summary } = applyGates(
      [
        input('a', 0),
        input('b', 1),
        input('c', 2, { loudnessLufs: -33 }),
        input('d', 3, { durationSeconds: 9 }),
        input('e', 4, { durationSeconds: 20 }, '好'),
        { name: 'f', line: 5, audio: 'f.wav', text: '你好', measures: null, error: 'f.wav is missing' },
      ],
      defaultSettings.qa,
    );
    assert.deepEqual(
      records.map((r) => [r.name, r.verdict, codes(r.reasons)]),
      [
        ['a', 'ok', []],
        ['b', 'ok', []],
        ['c', 'excluded', ['loudness-spread']],
        ['d', 'excluded', ['speaking-rate']],
        ['e', 'ok', []],
        ['f', 'excluded', ['unreadable']],
      ],
    );
    assert.equal(records[4]!.secondsPerSyllable, null);
    assert.match(records[3]!.reasons[0]!, /too slow/);
    assert.ok(Math.abs(summary.medianSecondsPerSyllable! - 0.28) < 1e-9);
    assert.equal(summary.loudness!.median, -20);
    assert.deepEqual(summary.byReason, { 'loudness-spread': 1, 'speaking-rate': 1, unreadable: 1 });
  });
});
