import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ReplaceDict } from '../../server/src/core/pronunciation/dictionary';
import {
  createPolyphoneAnalyzer,
  type PolyphoneData,
  type RecordedRuns,
  type SecondOpinion,
} from '../../server/src/core/pronunciation/polyphones';
import { ParsedTaskLine } from '../../server/src/core/formats/taskFile';
import { defaultSettings, type Settings } from '../../server/src/core/settings';
import { PronunciationWorkspace, readingsFromPhonemes } from '../../server/src/core/pronunciation/checks';
import { validateFile } from '../../server/src/core/validate';

const task = (text: string) =>
  new ParsedTaskLine(JSON.stringify({ prompt_audio: 'a.wav', prompt_text: '你好', input_text: text, output_name: 'x' }), 'webui', false);
const base = { dict: ReplaceDict.empty, severity: 'information' as const, ignore: defaultSettings.polyphones.ignore };

describe('polyphone flags on task text', () => {
  it('flags each polyphone with the teacher’s reading and the other candidates, at the character', () => {
    const line = task('他在银行工作');
    const f = createPolyphoneAnalyzer(base).analyze(line);
    const hang = f.find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.match(hang.message, /^行: teacher reads hang2 \(also xing2, hang4, heng2\)/);
    assert.equal(line.text.slice(hang.start, hang.end), '行');
    assert.equal((hang.data as PolyphoneData).index, 3);
  });

  it('says GLM-TTS leaves an able-list polyphone to its language model, the G2P reading only a hint; a pin decides it', () => {
    const line = task('我们开会讨论');
    const hui = createPolyphoneAnalyzer(base)
      .analyze(line)
      .find((x) => (x.data as PolyphoneData).char === '会')!;
    assert.match(
      hui.message,
      /^会: GLM-TTS leaves 会 to its language model; its G2P would read hui4 \(also kuai4\), only a hint; a dictionary rule is the only way to decide it/,
    );
    assert.equal((hui.data as PolyphoneData).source, 'model');
    assert.deepEqual((hui.data as PolyphoneData).candidates, ['hui4', 'kuai4'], 'the pin quick fix has every reading to offer');
    // Not in the able list: the G2P writes tokens, the teacher reads them.
    const hang = createPolyphoneAnalyzer(base)
      .analyze(task('他在银行工作'))
      .find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.equal((hang.data as PolyphoneData).source, 'g2p');
    // Pinned by the dictionary: the rule decides.
    const dict = ReplaceDict.fromText('{"开会": "开<|H|><|UEI4|>"}');
    const pinned = createPolyphoneAnalyzer({ ...base, dict })
      .analyze(line)
      .find((x) => (x.data as PolyphoneData).char === '会')!;
    assert.equal((pinned.data as PolyphoneData).source, 'dictionary');
    assert.match(pinned.message, /^会: teacher reads hui4 .*decided by the dictionary rule "开会"/);
  });

  it("a rule-dialect line in a GLM-TTS checkout's configs/G2P_replace_dict.jsonl is an error (GLM-TTS reads that file as it is)", async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'checkout-dict-'));
    mkdirSync(path.join(ws, 'GLM-TTS', 'configs'), { recursive: true });
    writeFileSync(path.join(ws, 'GLM-TTS', 'glmtts_inference.py'), '');
    const text = '{"银行": "银<|H|><|ANG2|>"}\n{"word": "行", "context": "行长", "phoneme": "hang2"}\n';
    const inCheckout = path.join(ws, 'GLM-TTS', 'configs', 'G2P_replace_dict.jsonl');
    const res = await validateFile(inCheckout, text, defaultSettings, { workspaceFolder: ws, kind: 'dictionary' });
    const bad = res!.findings.filter((f) => f.code === 'dict/rule-dialect-in-checkout');
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.range.start.line, 1);
    assert.equal(bad[0]!.severity, 'error');
    assert.match(bad[0]!.message, /literal keys "word", "context" and "phoneme"/);
    // The same file as the workspace dictionary (tts-distill converts it when it installs it): fine.
    const ws2 = await validateFile(path.join(ws, 'G2P_replace_dict.jsonl'), text, defaultSettings, {
      workspaceFolder: ws,
      kind: 'dictionary',
    });
    assert.ok(!ws2!.findings.some((f) => f.code === 'dict/rule-dialect-in-checkout'));
  });

  it('finds the character behind JSON escapes', () => {
    const line = new ParsedTaskLine(
      '{"prompt_audio": "a.wav", "prompt_text": "你好", "input_text": "他\\"在\\"银\\u884c", "output_name": "x"}',
      'webui',
      false,
    );
    const f = createPolyphoneAnalyzer(base)
      .analyze(line)
      .find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.equal(line.text.slice(f.start, f.end), '\\u884c');
  });

  it('skips the characters the user is not interested in and uses the configured severity', () => {
    const a = createPolyphoneAnalyzer({ ...base, severity: 'hint', ignore: ['的', '行'] });
    const f = a.analyze(task('银行的长城'));
    assert.ok(!f.some((x) => ['的', '行'].includes((x.data as PolyphoneData).char)));
    const chang = f.find((x) => (x.data as PolyphoneData).char === '长')!;
    assert.equal(chang.severity, 'hint');
    assert.equal(chang.code, 'pronunciation/polyphone');
  });

  it('raises to a warning when pinyin-pro alone reads the character differently (no student yet)', () => {
    const f = createPolyphoneAnalyzer(base).analyze(task('他在银行工作'));
    const hang = f.find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.equal(hang.severity, 'warning');
    assert.equal(hang.code, 'pronunciation/ambiguous');
    assert.match(hang.message, /pinyin-pro alone reads xing2: ambiguous/);
    // 个 ge4 / ge5 differ only by the neutral tone: not a disagreement.
    const ge = createPolyphoneAnalyzer(base)
      .analyze(task('一个人'))
      .find((x) => (x.data as PolyphoneData).char === '个');
    if (ge) assert.equal(ge.severity, 'information');
  });

  it('says when a dictionary rule decides, pointing at the rule', () => {
    const dict = ReplaceDict.fromText('{"x": "y"}\n{"word": "行", "context": "银行", "phoneme": "hang2"}', '/ws/G2P_replace_dict.jsonl');
    const a = createPolyphoneAnalyzer({
      ...base,
      dict,
      dictName: 'G2P_replace_dict.jsonl',
      ruleLocation: (key, line) => ({
        file: '/ws/G2P_replace_dict.jsonl',
        range: { start: { line: line!, character: 0 }, end: { line: line!, character: key.length } },
      }),
    });
    const hang = a.analyze(task('他在银行工作')).find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.match(
      hang.message,
      /^行: teacher reads hang2 \(also xing2, hang4, heng2\), decided by the dictionary rule "银行" \(G2P_replace_dict.jsonl:2\)$/,
    );
    assert.equal(hang.severity, 'information');
    assert.equal(hang.related?.[0]?.file, '/ws/G2P_replace_dict.jsonl');
    assert.equal(hang.related?.[0]?.range.start.line, 1);
    assert.equal((hang.data as PolyphoneData).pinned, '银行');
  });

  it('uses the student as the second opinion once there is one', () => {
    const student: SecondOpinion = { version: 's1', label: 'the student', predict: (text, i) => (text[i] === '长' ? 'chang2' : undefined) };
    const f = createPolyphoneAnalyzer({ ...base, student }).analyze(task('孩子长大了，行走'));
    const zhang = f.find((x) => (x.data as PolyphoneData).char === '长')!;
    assert.equal(zhang.severity, 'warning');
    assert.match(zhang.message, /the student reads chang2/);
    // pinyin-pro alone (xing2 for 行) is not asked once the student exists.
    const xing = f.find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.equal(xing.severity, 'information');
  });

  it('recorded teacher phonemes win over the prediction and name their run', () => {
    const text = '他在银行工作';
    const readings = [...text].map((c) => (c === '行' ? 'xing2' : null));
    const recorded: RecordedRuns = { version: 'r1', lookup: (t) => (t === text ? { readings, run: 'run teacher-out (utt1)' } : undefined) };
    const hang = createPolyphoneAnalyzer({ ...base, recorded })
      .analyze(task(text))
      .find((x) => (x.data as PolyphoneData).char === '行')!;
    assert.match(
      hang.message,
      /^行: teacher read xing2 in run teacher-out \(utt1\) \(also hang2, hang4, heng2\); the embedded teacher predicts hang2: ambiguous/,
    );
    assert.equal(hang.severity, 'warning');
    assert.equal((hang.data as PolyphoneData).reading, 'xing2');
  });

  it('the analyzer version changes with its inputs, so cached lines are analysed again', () => {
    const a = createPolyphoneAnalyzer(base).version;
    assert.equal(createPolyphoneAnalyzer(base).version, a);
    assert.notEqual(createPolyphoneAnalyzer({ ...base, dict: ReplaceDict.fromText('{"a": "b"}') }).version, a);
    assert.notEqual(createPolyphoneAnalyzer({ ...base, severity: 'hint' }).version, a);
  });

  it('maps text_compare phonemes back onto the characters of the original text', () => {
    const r = readingsFromPhonemes('他在银行工作，2个', '他在银<|H|><|ANG2|>工作，两<|G|><|E4|>。');
    assert.equal(r?.[3], 'hang2');
    assert.equal(r?.[8], 'ge4');
    assert.equal(r?.[0], null);
  });

  it('reads the workspace: dictionary, earlier runs’ manifests; validate reports it all', async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'poly-ws-'));
    writeFileSync(path.join(ws, 'G2P_replace_dict.jsonl'), '{"word": "行", "context": "银行", "phoneme": "hang2"}\n');
    mkdirSync(path.join(ws, 'teacher-out'));
    const text = '他在银行工作';
    writeFileSync(
      path.join(ws, 'teacher-out', 'manifest.jsonl'),
      JSON.stringify({
        line: 0,
        name: 'a',
        taskHash: 'h',
        text: '长城很长',
        readings: ['chang2', 'cheng2', 'hen3', 'zhang3'],
        phonemes: '',
        audio: 'a.wav',
        durationSeconds: 1,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: '',
        clonedVoice: false,
      }) + '\n',
    );
    const settings: Settings = structuredClone(defaultSettings);
    // validate reports a finding per polyphone (here 行, decided by the rule) only with this setting on.
    settings.polyphones.informationDiagnostics = true;
    const w = new PronunciationWorkspace(ws);
    assert.equal(await w.refresh(settings), true);
    assert.equal(await w.refresh(settings), false);
    const a = w.analyzer(settings)!;
    assert.match(
      a.analyze(task(text)).find((x) => (x.data as PolyphoneData).char === '行')!.message,
      /decided by the dictionary rule "银行"/,
    );
    const long = a.analyze(task('长城很长')).filter((x) => (x.data as PolyphoneData).char === '长');
    assert.match(long[1]!.message, /^长: teacher read zhang3 in run teacher-out \(a\)/);
    const taskFile = path.join(ws, 'demo.tasks.jsonl');
    const content = `${JSON.stringify({ prompt_audio: 'a.wav', prompt_text: '你好', input_text: text, output_name: 'x' })}\n`;
    const res = await validateFile(taskFile, content, settings, { workspaceFolder: ws });
    const hang = res!.findings.find((f) => f.message.startsWith('行:'))!;
    assert.equal(hang.related?.[0]?.file, path.join(ws, 'G2P_replace_dict.jsonl'));
    assert.deepEqual(hang.related?.[0]?.range, { start: { line: 0, character: 25 }, end: { line: 0, character: 29 } });
  });
});
