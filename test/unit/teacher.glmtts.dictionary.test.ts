// Pins that reach the teacher: the workspace dictionary is installed as the checkout's
// configs/G2P_replace_dict.jsonl before a glmtts-cli run, and the stand-in (which really reads that
// file, as GLM-TTS does) then writes the pinned phonemes. A real python3 process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readManifest } from '../../server/src/core/batch/manifest';
import { runBatch } from '../../server/src/core/batch/runner';
import { GlmttsCliTeacher } from '../../server/src/core/teacher/glmttsCli';
import { DictionaryInstallError, INSTALL_MARK } from '../../server/src/core/teacher/dictionaryInstall';
import { REPO, writePromptWav } from './teacherHelpers';
import { runCli } from './runCli';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ORIGINAL = '{"银行": "银<|H|><|ANG2|>"}\n{"行长": "<|H|><|ANG2|><|ZH|><|ANG3|>"}\n';

async function setup(): Promise<{ dir: string; root: string; configs: string; tasks: string; dict: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'glmtts-dict-'));
  const root = path.join(dir, 'GLM-TTS');
  await cp(path.join(REPO, 'test', 'fixtures', 'glmtts'), root, { recursive: true });
  await writePromptWav(path.join(dir, 'p.wav'));
  const tasks = path.join(dir, 'batch.tasks.jsonl');
  const line = (name: string, text: string) =>
    JSON.stringify({ prompt_audio: path.join(dir, 'p.wav'), prompt_text: '今天天气很好。', input_text: text, output_name: name });
  await writeFile(tasks, [line('a', '这条路很长。'), line('b', '我们开会。')].join('\n') + '\n');
  return { dir, root, configs: path.join(root, 'configs'), tasks, dict: path.join(dir, 'G2P_replace_dict.jsonl') };
}

describe('glmtts-cli: the workspace dictionary reaches the checkout', () => {
  it("a pin made in the editor (rule dialect) changes the teacher's phonemes; the record says which dictionary and who decided each character", async () => {
    const t = await setup();
    // Without the pin the teacher reads 长 with its G2P (the stand-in keeps it as text: no rule matches).
    // The quick fix writes a rule in the workspace dictionary's dialect:
    await writeFile(
      t.dict,
      '{"word": "长", "context": "很长", "phoneme": "zhang3"}\n{"word": "会", "context": "开会", "phoneme": "hui4"}\n',
    );
    const questions: string[] = [];
    const logs: string[] = [];
    const teacher = new GlmttsCliTeacher({
      root: t.root,
      python: 'python3',
      usePhoneme: true,
      dictionaryFile: t.dict,
      log: (m) => logs.push(m),
      confirmDictionaryReplace: async (q) => {
        questions.push(q.message);
        return true;
      },
    });
    const out = path.join(t.dir, 'out');
    const s = await runBatch({ tasksFile: t.tasks, outDir: out, teacher, sampleRate: 24000, backoffMs: 1 });
    assert.deepEqual([s.done, s.failed], [2, 0]);
    const installed = '{"很长": "很<|ZH|><|ANG3|>"}\n{"开会": "开<|H|><|UEI4|>"}\n';
    assert.equal(await readFile(path.join(t.configs, 'G2P_replace_dict.jsonl'), 'utf8'), installed, 'installed in the upstream dialect');
    assert.equal(questions.length, 1, "the checkout's own dictionary differed: the user was asked once");
    assert.match(questions[0]!, /differs from the workspace dictionary .* was not written by tts-distill/);
    const backups = (await readdir(t.configs)).filter((n) => n.endsWith('.bak'));
    assert.equal(backups.length, 1);
    assert.equal(await readFile(path.join(t.configs, backups[0]!), 'utf8'), ORIGINAL, 'the previous file is kept');
    assert.equal((await readFile(path.join(t.configs, INSTALL_MARK), 'utf8')).trim(), sha(installed));
    const m = await readManifest(path.join(out, 'manifest.jsonl'));
    assert.equal(m[0]!.phonemes, '这条路很<|ZH|><|ANG3|>。', 'the stand-in read the pin from configs/');
    assert.equal(m[0]!.readings[4], 'zhang3');
    assert.deepEqual(m[0]!.sources, ['model', 'model', 'model', 'model', 'dictionary', 'none']);
    assert.equal(m[1]!.sources![3], 'dictionary');
    for (const r of m) assert.equal(r.dictionarySha256, sha(installed));
    assert.ok(logs.some((l) => /installed the workspace dictionary/.test(l)));

    // A new pin: the file is ours now, so it is replaced without asking (backup .bak).
    await writeFile(t.dict, '{"word": "长", "context": "很长", "phoneme": "chang2"}\n');
    const again = new GlmttsCliTeacher({ root: t.root, python: 'python3', dictionaryFile: t.dict });
    await runBatch({ tasksFile: t.tasks, outDir: path.join(t.dir, 'out2'), teacher: again, sampleRate: 24000, backoffMs: 1 });
    assert.equal(await readFile(path.join(t.configs, 'G2P_replace_dict.jsonl.bak'), 'utf8'), installed);
    const m2 = await readManifest(path.join(t.dir, 'out2', 'manifest.jsonl'));
    assert.equal(m2[0]!.phonemes, '这条路很<|CH|><|ANG2|>。');
    assert.equal(m2[0]!.dictionarySha256, sha('{"很长": "很<|CH|><|ANG2|>"}\n'));
    await rm(t.dir, { recursive: true, force: true });
  });

  it('refuses to replace a checkout dictionary it did not write unless told to; nothing runs, the file is untouched', async () => {
    const t = await setup();
    await writeFile(t.dict, '{"很长": "很<|ZH|><|ANG3|>"}\n');
    const teacher = new GlmttsCliTeacher({
      root: t.root,
      python: 'python3',
      dictionaryFile: t.dict,
      env: { STANDIN_LOG: path.join(t.dir, 'runs.jsonl') },
    });
    await assert.rejects(
      teacher.prepare(),
      (err: Error) => err instanceof DictionaryInstallError && /was not written by tts-distill.*--install-dictionary/.test(err.message),
    );
    assert.equal(await readFile(path.join(t.configs, 'G2P_replace_dict.jsonl'), 'utf8'), ORIGINAL);
    const s = await runBatch({ tasksFile: t.tasks, outDir: path.join(t.dir, 'out'), teacher, sampleRate: 24000, backoffMs: 1 });
    assert.equal(s.failed, 2);
    await assert.rejects(readFile(path.join(t.dir, 'runs.jsonl')), 'glmtts_inference.py never ran');
    // Asked and declined: the same.
    const declined = new GlmttsCliTeacher({
      root: t.root,
      python: 'python3',
      dictionaryFile: t.dict,
      confirmDictionaryReplace: async () => false,
    });
    await assert.rejects(declined.prepare(), /Not replaced/);
    assert.equal(await readFile(path.join(t.configs, 'G2P_replace_dict.jsonl'), 'utf8'), ORIGINAL);
    await rm(t.dir, { recursive: true, force: true });
  });

  it("a rule-dialect file at the checkout's configs/ path is an error; a workspace dictionary with lines GLM-TTS cannot read is not installed", async () => {
    const t = await setup();
    await writeFile(path.join(t.configs, 'G2P_replace_dict.jsonl'), '{"word": "行", "context": "银行", "phoneme": "hang2"}\n');
    // No workspace dictionary: the checkout's own file is used as it is — and it is in the wrong dialect.
    const own = new GlmttsCliTeacher({ root: t.root, python: 'python3', dictionaryFile: path.join(t.dir, 'missing.jsonl') });
    await assert.rejects(own.prepare(), /is in the rule dialect .*literal keys "word", "context" and "phoneme"/);
    // The workspace dictionary IS that file: the same error, nothing rewritten behind the user's back.
    const same = new GlmttsCliTeacher({ root: t.root, python: 'python3', dictionaryFile: path.join(t.configs, 'G2P_replace_dict.jsonl') });
    await assert.rejects(same.prepare(), /rule dialect/);
    await writeFile(t.dict, '{"很长": "很<|ZH|><|ANG3|>"}\nnot json\n');
    const bad = new GlmttsCliTeacher({
      root: t.root,
      python: 'python3',
      dictionaryFile: t.dict,
      confirmDictionaryReplace: async () => true,
    });
    await assert.rejects(bad.prepare(), /G2P_replace_dict.jsonl:2: not valid JSON/);
    await rm(t.dir, { recursive: true, force: true });
  });

  it('installs through glmttsCommandPrefix for a remote checkout (here: env, a prefix that passes argv on)', async () => {
    const t = await setup();
    await writeFile(t.dict, '{"word": "长", "context": "很长", "phoneme": "zhang3"}\n');
    const teacher = new GlmttsCliTeacher({
      root: t.root,
      python: 'python3',
      prefix: ['env'],
      dictionaryFile: t.dict,
      confirmDictionaryReplace: async () => true,
    });
    const r = await teacher.prepare();
    assert.equal(r.action, 'installed');
    assert.equal(await readFile(path.join(t.configs, 'G2P_replace_dict.jsonl'), 'utf8'), '{"很长": "很<|ZH|><|ANG3|>"}\n');
    assert.equal((await readFile(path.join(t.configs, INSTALL_MARK), 'utf8')).trim(), r.sha256);
    assert.equal(await readFile(path.join(t.configs, r.backup!), 'utf8'), ORIGINAL);
    // The same dictionary again: nothing to write, nothing asked.
    const again = new GlmttsCliTeacher({ root: t.root, python: 'python3', prefix: ['env'], dictionaryFile: t.dict });
    assert.equal((await again.prepare()).action, 'unchanged');
    assert.deepEqual(
      (await readdir(t.configs)).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp file left',
    );
    await rm(t.dir, { recursive: true, force: true });
  });

  it('CLI: submit --teacher glmtts-cli refuses (78) to replace a checkout dictionary it did not write; --install-dictionary replaces it', async () => {
    const t = await setup();
    await writeFile(t.dict, '{"word": "长", "context": "很长", "phoneme": "zhang3"}\n');
    const args = ['submit', t.tasks, '--out', 'out', '--teacher', 'glmtts-cli', '--glmtts', t.root, '--python', 'python3', '--quiet'];
    const refused = await runCli(args, t.dir, {});
    assert.equal(refused.code, 78);
    assert.match(refused.err, /was not written by tts-distill.*pass --install-dictionary/);
    assert.equal(await readFile(path.join(t.configs, 'G2P_replace_dict.jsonl'), 'utf8'), ORIGINAL);
    const ok = await runCli([...args, '--install-dictionary'], t.dir, {});
    assert.equal(ok.code, 0, ok.err);
    const m = await readManifest(path.join(t.dir, 'out', 'manifest.jsonl'));
    assert.equal(m[0]!.phonemes, '这条路很<|ZH|><|ANG3|>。');
    assert.equal(m[0]!.dictionarySha256, sha('{"很长": "很<|ZH|><|ANG3|>"}\n'));
    await rm(t.dir, { recursive: true, force: true });
  });
});
