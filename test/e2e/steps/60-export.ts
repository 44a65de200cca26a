import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Step } from '../harness';
import { encodeWav } from '../../../server/src/core/audio/wav';

/**
 * A teacher run of the workspace's demo.tasks.jsonl in sample-run/teacher/ (what `tts-distill
 * submit` writes: a manifest record per line with the prompt audio and labels, the WAVs), one
 * line failed. Built here so the step does not depend on another step's batch.
 */
function sampleRun(root: string): { names: string[] } {
  const lines = readFileSync(path.join(root, 'demo.tasks.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'));
  const dir = path.join(root, 'sample-run', 'teacher');
  mkdirSync(dir, { recursive: true });
  const records: string[] = [];
  const names: string[] = [];
  lines.forEach((l, i) => {
    let task: Record<string, string>;
    try {
      task = JSON.parse(l) as Record<string, string>;
    } catch {
      return;
    }
    if (!task.output_name || !task.input_text) return;
    if (i === 1) return; // failed below
    if (names.includes(task.output_name)) return; // a duplicate name: one WAV, as the teacher writes it
    const wav = encodeWav(
      Float32Array.from({ length: 12000 }, (_, k) => 0.2 * Math.sin((2 * Math.PI * (150 + 10 * i) * k) / 24000)),
      24000,
    );
    writeFileSync(path.join(dir, `${task.output_name}.wav`), wav);
    const text = task.input_text;
    records.push(
      JSON.stringify({
        line: i,
        name: task.output_name,
        taskHash: 'h' + i,
        text,
        readings: Array.from(text, () => null),
        phonemes: text,
        audio: `${task.output_name}.wav`,
        durationSeconds: 0.5,
        sampleRate: 24000,
        backend: 'embedded',
        seed: 42,
        wavSha256: createHash('sha256').update(wav).digest('hex'),
        clonedVoice: false,
        promptAudio: path.join(root, task.prompt_audio ?? 'prompts/speaker_a.wav'),
        labels: { emotion: i % 2 ? 'happy' : 'neutral' },
      }),
    );
    names.push(task.output_name);
  });
  writeFileSync(path.join(dir, 'manifest.jsonl'), records.join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'failures.jsonl'),
    JSON.stringify({ line: 1, name: 'failed_line', taskHash: 'x', reason: 'the teacher timed out', attempts: 4, transient: true }) + '\n',
  );
  return { names };
}

export default {
  name: 'Export Dataset… writes a Kaldi folder from the sample run (C-sorted, spk2utt the inverse of utt2spk, failed line left out)',
  timeoutMs: 120_000,
  async run(h) {
    const { names } = sampleRun(h.workspace);
    h.expect(names.length >= 3, `the sample run has lines (${names.length})`);

    // The extension is active (its palette entries are gated by ttsDistill.active) once a task file shows its status.
    await h.openFile('demo.tasks.jsonl');
    await h.statusBarItem(/Tasks: webui/, 60_000);
    await h.runCommand('TTS Distill: Export Dataset…');
    await h.pickQuickInputRow('the sample run', (label) => label.startsWith('sample-run/teacher'));
    await h.pickQuickInputRow('the kaldi format', (label) => label.startsWith('kaldi'));
    await h.pickQuickInputRow('phoneme tokens', (label) => label.startsWith('tokens'));
    const input = h.page.locator('.quick-input-widget input.input');
    // Splits: train only.
    await h.until('the split input', async () => (await input.inputValue().catch(() => '')) === 'dev=5%,test=5%');
    await input.fill('');
    await h.page.keyboard.press('Enter');
    await h.until('the export folder input', async () => (await input.inputValue().catch(() => '')).endsWith(path.join('export', 'kaldi')));
    await h.page.keyboard.press('Enter');
    const done = await h.notification(/Exported \d+ utterance\(s\) as kaldi/, 60_000);
    h.log(done);
    h.expect(
      done.includes(`Exported ${names.length} utterance(s) as kaldi (train ${names.length})`),
      `the notification counts the lines: ${done}`,
    );
    h.expect(/1 left out/.test(done), `the failed line is left out: ${done}`);

    const read = (name: string) => h.readFile(`export/kaldi/train/${name}`).split('\n').filter(Boolean);
    const cSorted = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const f of ['wav.scp', 'text', 'utt2spk', 'spk2utt'])
      h.expect(JSON.stringify(read(f)) === JSON.stringify(cSorted(read(f))), `${f} is C-sorted`);
    const utt2spk = read('utt2spk').map((l) => l.split(' ') as [string, string]);
    h.expect(utt2spk.length === names.length, `one utterance per finished line (${utt2spk.length})`);
    h.expect(
      utt2spk.every(([u, s]) => u.startsWith(`${s}-`)),
      'utterance ids start with the speaker id',
    );
    const inverse = new Map<string, string[]>();
    for (const [u, s] of utt2spk) inverse.set(s, [...(inverse.get(s) ?? []), u]);
    const spk2utt = new Map(
      read('spk2utt').map((l) => {
        const [s, ...us] = l.split(' ');
        return [s!, us];
      }),
    );
    h.expect(JSON.stringify([...spk2utt]) === JSON.stringify([...inverse]), 'spk2utt is the inverse of utt2spk');
    for (const l of read('wav.scp')) {
      const wav = l.slice(l.indexOf(' ') + 1);
      h.expect(existsSync(wav) && statSync(wav).size > 44, `${wav} exists`);
    }
    h.expect(
      existsSync(path.join(h.workspace, 'sample-run', 'teacher', `${names[0]}.wav`)),
      'the teacher WAVs are still there (linked, not moved)',
    );
    await h.screenshot('exported');
  },
} satisfies Step;
