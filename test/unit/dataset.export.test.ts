import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../server/src/core/audio/wav';
import type { ManifestRecord } from '../../server/src/core/batch/manifest';
import { assignSplits, exportDataset, ExportError, parseSplitSpec, pinyinText } from '../../server/src/core/dataset/export';
import { runCli } from './runCli';

/** A teacher run folder written by hand: `n` lines over speakers, one failed line, one line whose WAV was edited afterwards. */
async function makeRun(n = 30): Promise<{ dir: string; run: string; records: ManifestRecord[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dataset-export-'));
  const run = path.join(dir, 'run');
  await mkdir(run);
  const speakers = ['anna', 'bo', 'chen', 'dai', 'eve'];
  const records: ManifestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const wav = encodeWav(
      Float32Array.from({ length: 800 + i }, (_, k) => 0.1 * Math.sin(k / (3 + i))),
      16000,
    );
    const name = `utt${String(i).padStart(3, '0')}`;
    await writeFile(path.join(run, `${name}.wav`), wav);
    const text = i % 3 === 0 ? '他在银行工作。' : i % 3 === 1 ? '我们用 Python 写代码。' : '长江|很长';
    const readings =
      i % 3 === 0
        ? ['ta1', 'zai4', 'yin2', 'hang2', 'gong1', 'zuo4', null]
        : i % 3 === 1
          ? ['wo3', 'men5', 'yong4', null, null, null, null, null, null, null, null, 'xie3', 'dai4', 'ma3', null]
          : ['chang2', 'jiang1', null, 'hen3', 'chang2'];
    const phonemes =
      i % 3 === 0 ? '他在银<|H|><|ANG2|>工作。' : i % 3 === 1 ? '我们用 python 写代码。' : '<|CH|><|ANG2|>江，很<|CH|><|ANG2|>';
    const rec: ManifestRecord = {
      line: i,
      name,
      taskHash: 'h' + i,
      text,
      readings,
      phonemes,
      audio: `${name}.wav`,
      durationSeconds: (800 + i) / 16000,
      sampleRate: 16000,
      backend: 'embedded',
      seed: 42,
      wavSha256: createHash('sha256').update(wav).digest('hex'),
      clonedVoice: false,
      promptAudio: path.join(dir, 'voices', `${speakers[i % speakers.length]}.wav`),
      ...(i % 5 === 4 ? {} : { speaker: speakers[i % speakers.length]! }),
      labels: { emotion: i % 2 ? 'happy' : 'neutral', ...(i % 5 === 4 ? {} : { speaker: speakers[i % speakers.length]! }) },
    };
    records.push(rec);
  }
  // Line n: failed; the last record's WAV changed after the teacher wrote it.
  await writeFile(path.join(run, 'manifest.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  await writeFile(
    path.join(run, 'failures.jsonl'),
    JSON.stringify({ line: n, name: 'broken', taskHash: 'x', reason: 'the teacher timed out', attempts: 4, transient: true }) + '\n',
  );
  await writeFile(path.join(run, `${records[n - 1]!.name}.wav`), encodeWav(new Float32Array(100), 16000));
  return { dir, run, records };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const cSorted = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
/** Kaldi's and CosyVoice's reading of a `key value…` file: split on white space. */
const table = (text: string) =>
  new Map(
    lines(text).map((l) => {
      const p = l.split(/\s+/);
      return [p[0]!, p.slice(1)] as const;
    }),
  );

test('export kaldi: four C-sorted files per split with the same ids, spk2utt the inverse of utt2spk, ids prefixed by the speaker, WAVs hard-linked', async () => {
  const { dir, run, records } = await makeRun();
  const out = path.join(dir, 'kaldi');
  const s = await exportDataset({
    run,
    format: 'kaldi',
    out,
    splits: parseSplitSpec('dev=20%,test=3'),
    splitBy: 'speaker',
    seed: 7,
    text: 'tokens',
  });
  assert.deepEqual(Object.keys(s.splits).sort(), ['dev', 'test', 'train']);
  assert.deepEqual(
    s.leftOut.map((l) => l.name),
    [records.at(-1)!.name, 'broken'],
  );
  assert.match(s.leftOut[0]!.reason, /changed since the teacher wrote it/);
  assert.match(s.leftOut[1]!.reason, /failed: the teacher timed out/);
  const speakersBySplit = new Map<string, Set<string>>();
  let total = 0;
  for (const split of Object.keys(s.splits)) {
    const f = (name: string) => readFile(path.join(out, split, name), 'utf8');
    const [wavScp, text, utt2spk, spk2utt] = await Promise.all([f('wav.scp'), f('text'), f('utt2spk'), f('spk2utt')]);
    for (const content of [wavScp, text, utt2spk, spk2utt]) assert.deepEqual(lines(content), cSorted(lines(content)), 'C-sorted');
    const ids = [...table(wavScp).keys()];
    total += ids.length;
    assert.deepEqual([...table(text).keys()], ids);
    assert.deepEqual([...table(utt2spk).keys()], ids);
    // validate_data_dir.sh: utt2spk sorted by utterance is also sorted by speaker.
    const spks = [...table(utt2spk).values()].map((v) => v[0]!);
    assert.deepEqual(spks, cSorted(spks));
    const inverse = new Map<string, string[]>();
    for (const [u, [spk]] of table(utt2spk)) {
      assert.ok(u.startsWith(`${spk}-`), `${u} starts with ${spk}-`);
      inverse.set(spk!, [...(inverse.get(spk!) ?? []), u]);
    }
    assert.deepEqual(new Map([...table(spk2utt)]), inverse);
    speakersBySplit.set(split, new Set(inverse.keys()));
    for (const [id, [wav]] of table(wavScp)) {
      assert.ok(path.isAbsolute(wav!) && wav!.startsWith(path.join(out, split) + path.sep), wav);
      const name = id.slice(id.indexOf('-') + 1);
      const src = await stat(path.join(run, `${name}.wav`));
      assert.equal((await stat(wav!)).ino, src.ino, 'hard link to the teacher WAV');
      const rec = records.find((r) => r.name === name)!;
      assert.equal(table(text).get(id)!.join(' '), rec.phonemes.replace(/\s+/g, ' '), 'tokens text keeps the pins');
    }
  }
  assert.equal(total, records.length - 1);
  // Whole speakers per split.
  const all = [...speakersBySplit.values()].flatMap((x) => [...x]);
  assert.equal(all.length, new Set(all).size, 'no speaker in two splits');
  // The teacher run is untouched (nothing moved).
  assert.equal((await readdir(run)).filter((f) => f.endsWith('.wav')).length, records.length);
  await rm(dir, { recursive: true, force: true });
});

test('export cosyvoice: what tools/make_parquet_list.py reads (wav.scp, text, utt2spk keys agree); embeddings copied only when given', async () => {
  const { dir, run } = await makeRun(12);
  const out = path.join(dir, 'cv');
  const s = await exportDataset({ run, format: 'cosyvoice', out });
  assert.deepEqual(Object.keys(s.splits), ['train']);
  const src = path.join(out, 'train');
  // As make_parquet_list.py: utt2wav[l[0]] = l[1]; utt2text[l[0]] = ' '.join(l[1:]); utt2spk[l[0]] = l[1].
  const utt2wav = new Map(
    lines(await readFile(path.join(src, 'wav.scp'), 'utf8')).map((l) => {
      const p = l.split(/\s+/);
      return [p[0], p[1]];
    }),
  );
  const utt2text = new Map(
    lines(await readFile(path.join(src, 'text'), 'utf8')).map((l) => {
      const p = l.split(/\s+/);
      return [p[0], p.slice(1).join(' ')];
    }),
  );
  const utt2spk = new Map(
    lines(await readFile(path.join(src, 'utt2spk'), 'utf8')).map((l) => {
      const p = l.split(/\s+/);
      return [p[0], p[1]];
    }),
  );
  assert.deepEqual([...utt2text.keys()], [...utt2wav.keys()]);
  assert.deepEqual([...utt2spk.keys()], [...utt2wav.keys()]);
  for (const w of utt2wav.values()) assert.ok((await readFile(w!)).subarray(0, 4).toString() === 'RIFF');
  assert.ok(!(await readdir(src)).some((f) => f.endsWith('.pt')));
  assert.ok(s.warnings.some((w) => /utt2embedding\.pt/.test(w)));
  // With embeddings.
  const emb = path.join(dir, 'emb');
  await mkdir(emb);
  await writeFile(path.join(emb, 'utt2embedding.pt'), 'u');
  await writeFile(path.join(emb, 'spk2embedding.pt'), 's');
  await exportDataset({ run, format: 'cosyvoice', out, embeddingsDir: emb, force: true });
  assert.equal(await readFile(path.join(src, 'utt2embedding.pt'), 'utf8'), 'u');
  assert.equal(await readFile(path.join(src, 'spk2embedding.pt'), 'utf8'), 's');
  await rm(dir, { recursive: true, force: true });
});

test('export hf: an audiofolder whose metadata.jsonl names files relative to the folder, labels as columns on every row', async () => {
  const { dir, run, records } = await makeRun(10);
  const out = path.join(dir, 'hf');
  await exportDataset({ run, format: 'hf', out, text: 'pinyin', splits: parseSplitSpec('test=2'), splitBy: 'random', seed: 1 });
  let rows = 0;
  for (const split of ['train', 'test']) {
    const meta = lines(await readFile(path.join(out, split, 'metadata.jsonl'), 'utf8')).map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    rows += meta.length;
    for (const m of meta) {
      assert.deepEqual(Object.keys(m).sort(), ['emotion', 'file_name', 'id', 'name', 'speaker_id', 'text', 'transcription']);
      assert.ok(!path.isAbsolute(m.file_name as string));
      assert.ok((await stat(path.join(out, split, m.file_name as string))).isFile());
      const rec = records.find((r) => r.name === m.name)!;
      assert.equal(m.transcription, rec.text);
      assert.equal(m.text, pinyinText(rec.text, rec.readings));
      assert.equal(m.emotion, rec.labels!.emotion);
    }
  }
  assert.equal(rows, 9);
  assert.equal(
    pinyinText('我们用 Python 写。', ['wo3', 'men5', 'yong4', null, null, null, null, null, null, null, null, 'xie3', null]),
    'wo3 men5 yong4 Python xie3 。',
  );
  // Model-read characters (the teacher's language model decides) stay characters.
  assert.equal(pinyinText('他在银行', ['ta1', 'zai4', 'yin2', 'hang2'], ['model', 'model', 'model', 'dictionary']), '他在银 hang2');
  await rm(dir, { recursive: true, force: true });
});

test('export ljspeech: metadata.csv with three |-separated columns and wavs/<id>.wav; a | in the text cannot break a row', async () => {
  const { dir, run } = await makeRun(6);
  const out = path.join(dir, 'lj');
  const s = await exportDataset({ run, format: 'ljspeech', out, text: 'tokens' });
  const rows = lines(await readFile(path.join(out, 'train', 'metadata.csv'), 'utf8'));
  assert.equal(rows.length, 5);
  for (const r of rows) {
    const cols = r.split('|');
    assert.equal(cols.length, 3, r);
    assert.ok((await stat(path.join(out, 'train', 'wavs', `${cols[0]}.wav`))).isFile());
  }
  assert.ok(rows.some((r) => r.split('|')[1] === '长江 很长'));
  assert.equal(s.utterances.length, 5);
  await rm(dir, { recursive: true, force: true });
});

test('export: an existing export is refused without --force; a symlinked folder is refused; a planted link is replaced, never written through', async () => {
  const { dir, run } = await makeRun(6);
  const out = path.join(dir, 'out');
  await mkdir(out);
  await writeFile(path.join(out, 'mine.txt'), 'keep');
  await assert.rejects(exportDataset({ run, format: 'kaldi', out }), (e: Error) => e instanceof ExportError && /not empty/.test(e.message));
  const linkOut = path.join(dir, 'linked');
  await symlink(out, linkOut);
  await assert.rejects(exportDataset({ run, format: 'kaldi', out: linkOut, force: true }), /symbolic link/);
  // A WAV reached through a symbolic-link folder of the run is left out, not exported.
  const outside = path.join(dir, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'x.wav'), "not the teacher's");
  await symlink(outside, path.join(run, 'sub'));
  const recs = (await readFile(path.join(run, 'manifest.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestRecord);
  recs[0] = { ...recs[0]!, audio: 'sub/x.wav', wavSha256: createHash('sha256').update("not the teacher's").digest('hex') };
  await writeFile(path.join(run, 'manifest.jsonl'), recs.map((r) => JSON.stringify(r) + '\n').join(''));
  const viaLink = await exportDataset({ run, format: 'kaldi', out: path.join(dir, 'via-link') });
  assert.ok(
    viaLink.leftOut.some((l) => l.name === recs[0]!.name && /outside the run folder/.test(l.reason)),
    JSON.stringify(viaLink.leftOut),
  );
  // --force writes; a file the user had there stays.
  await exportDataset({ run, format: 'kaldi', out, force: true });
  assert.equal(await readFile(path.join(out, 'mine.txt'), 'utf8'), 'keep');
  // A link planted where a WAV goes, and one where a split folder goes: replaced / refused, the targets untouched.
  const victim = path.join(dir, 'victim.txt');
  await writeFile(victim, 'secret');
  const wavs = path.join(out, 'train', 'wavs');
  const first = (await readdir(wavs))[0]!;
  await rm(path.join(wavs, first));
  await symlink(victim, path.join(wavs, first));
  await exportDataset({ run, format: 'kaldi', out, force: true });
  assert.equal(await readFile(victim, 'utf8'), 'secret');
  const away = path.join(dir, 'away');
  await mkdir(away);
  await rm(path.join(out, 'train'), { recursive: true });
  await symlink(away, path.join(out, 'train'));
  await writeFile(path.join(out, 'tts-distill-export.json'), '{}');
  await assert.rejects(exportDataset({ run, format: 'kaldi', out, force: true }), /symbolic link/);
  assert.deepEqual(await readdir(away), []);
  await rm(dir, { recursive: true, force: true });
});

test('splits: shares and counts parse; random splits are the same for a seed and differ across seeds; by speaker keeps speakers whole', () => {
  assert.deepEqual(parseSplitSpec('dev=5%,test=10'), [
    { name: 'dev', share: 0.05 },
    { name: 'test', count: 10 },
  ]);
  for (const bad of ['dev', 'dev=0%', 'train=5%', 'dev=60%,test=50%', 'dev=5%,dev=5%', 'dev=1.5'])
    assert.throws(() => parseSplitSpec(bad), ExportError, bad);
  const items = Array.from({ length: 200 }, (_, i) => ({ id: `s${i % 10}-u${i}`, speaker: `s${i % 10}` }));
  const a = assignSplits(items, parseSplitSpec('dev=10%'), 'random', 3).split;
  const b = assignSplits([...items].reverse(), parseSplitSpec('dev=10%'), 'random', 3).split;
  const c = assignSplits(items, parseSplitSpec('dev=10%'), 'random', 4).split;
  const dev = (m: Map<{ id: string }, string>) =>
    [...m]
      .filter(([, s]) => s === 'dev')
      .map(([x]) => x.id)
      .sort();
  assert.equal(dev(a).length, 20);
  assert.deepEqual(dev(a), dev(b), 'input order does not matter');
  assert.notDeepEqual(dev(a), dev(c));
  const bySpk = assignSplits(items, parseSplitSpec('dev=10%,test=10%'), 'speaker', 3).split;
  const splitOf = new Map<string, Set<string>>();
  for (const [x, s] of bySpk) splitOf.set(x.speaker, (splitOf.get(x.speaker) ?? new Set()).add(s));
  assert.ok([...splitOf.values()].every((s) => s.size === 1));
  assert.equal(dev(bySpk).length, 20);
});

test('tts-distill export: prints the splits and what was left out; exit 1 and one line when refused', async () => {
  const { dir, run } = await makeRun(8);
  const first = await runCli(
    ['export', run, '--format', 'kaldi', '--out', path.join(dir, 'k'), '--split', 'dev=2', '--split-by', 'random'],
    dir,
  );
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /exported 7 utterance\(s\) as kaldi/);
  assert.match(first.out, /train +5 utterances/);
  assert.match(first.out, /dev +2 utterances/);
  assert.match(first.out, /left out 2 line\(s\)/);
  const again = await runCli(['export', run, '--format', 'kaldi', '--out', path.join(dir, 'k')], dir);
  assert.equal(again.code, 1);
  assert.match(again.err, /not empty/);
  const usage = await runCli(['export', run, '--format', 'wav', '--out', 'x'], dir);
  assert.equal(usage.code, 64);
  await rm(dir, { recursive: true, force: true });
});
