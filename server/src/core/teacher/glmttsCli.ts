/**
 * The glmtts-cli teacher: a GLM-TTS checkout run as upstream runs it (docs/FORMATS.md §1). A chunk
 * of tasks becomes `examples/<name>.jsonl` in the upstream dialect (uttid = `L<line>`, so odd
 * output names never reach GLM-TTS's file system), `glmtts_inference.py` runs from the checkout
 * root, and each `outputs/pretrain<exp>/<name>/<uttid>.wav` is picked up as soon as it is
 * complete, with its phonemes from `text_compare.jsonl`. A missing WAV means that line failed.
 * Before the first run the workspace dictionary is installed as the checkout's
 * `configs/G2P_replace_dict.jsonl` (dictionaryInstall.ts): GLM-TTS reads no other.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { decodeWav, encodeWav, mixDown, resample } from '../audio/wav';
import { parseWavHeader } from '../audio/wavHeader';
import { parseTextCompare, type TextCompareRecord } from '../batch/manifest';
import { parseReplacement } from '../formats/notation';
import { embeddedG2P } from './embeddedG2P';
import { loadReplaceDict, type ReplaceDict } from '../pronunciation/dictionary';
import { shq } from './dictionaryInstall';
import {
  CHECKOUT_DICT,
  type CheckoutFiles,
  sha256Hex,
  type InstallResult,
  installDictionary,
  localCheckoutFiles,
  prefixedArgv,
  prefixedCheckoutFiles,
} from './dictionaryInstall';
import { AbleList, loadAbleList } from '../pronunciation/g2p/ableList';
import type { ReadingSource } from '../pronunciation/teacherReadings';
import {
  type ManyResult,
  type SynthesisResult,
  type SynthesizeOptions,
  type Teacher,
  TeacherError,
  type TeacherG2P,
  type TeacherHealth,
  type TeacherTask,
} from './types';

export interface GlmttsCliOptions {
  /** Root of the GLM-TTS checkout (where glmtts_inference.py is). */
  root: string;
  python?: string;
  /** e.g. ['ssh', 'gpu01', '--']: the checkout path must then be valid on that host and the file system shared. */
  prefix?: string[];
  usePhoneme?: boolean;
  expName?: string;
  /** Tasks per glmtts_inference.py run (the model is loaded once per run). */
  chunkSize?: number;
  /** No new output or log line for this long: the run is considered hung and ended. */
  stallTimeoutMs?: number;
  /** How often the output folder is looked at. */
  pollMs?: number;
  log?(message: string): void;
  env?: NodeJS.ProcessEnv;
  /** The workspace G2P dictionary (either dialect), installed in the checkout before the first run; absent or missing: the checkout's own is used. */
  dictionaryFile?: string;
  /** The checkout's dictionary differs and was not written by tts-distill: replace it (a backup is kept)? Absent: refuse. */
  confirmDictionaryReplace?(question: { file: string; message: string }): Promise<boolean>;
}

let runCounter = 0;

export class GlmttsCliTeacher implements Teacher {
  readonly kind = 'glmtts-cli' as const;
  readonly chunkSize: number;
  /** glmtts_inference.py has no seed option: it seeds every chunk of text with 0. */
  readonly fixedSeed = 0;
  /** sha256 of the dictionary GLM-TTS reads in this teacher's runs (an empty one without --use_phoneme); null before the first run. */
  dictionarySha256: string | null = null;

  constructor(private readonly opts: GlmttsCliOptions) {
    this.chunkSize = opts.chunkSize ?? 200;
  }

  private installing: Promise<InstallResult> | undefined;

  /** The checkout's files, directly or through the command prefix. */
  private files(): CheckoutFiles {
    return this.opts.prefix?.length
      ? prefixedCheckoutFiles(this.opts.root, this.opts.prefix, this.opts.env)
      : localCheckoutFiles(this.opts.root);
  }

  /**
   * Installs the workspace dictionary as the checkout's configs/G2P_replace_dict.jsonl (once per
   * teacher; see dictionaryInstall.ts). Throws DictionaryInstallError when it must not. Only
   * needed with --use_phoneme: without it GLM-TTS reads neither the dictionary nor the able list.
   */
  prepare(): Promise<InstallResult> {
    this.installing ??= installDictionary({
      files: this.files(),
      ...(this.opts.dictionaryFile ? { dictionaryFile: this.opts.dictionaryFile } : {}),
      ...(this.opts.prefix?.length ? {} : { checkoutFile: path.join(this.opts.root, 'configs', CHECKOUT_DICT) }),
      ...(this.opts.confirmDictionaryReplace ? { confirmReplace: this.opts.confirmDictionaryReplace } : {}),
      ...(this.opts.log ? { log: this.opts.log } : {}),
    });
    return this.installing;
  }

  private async dictionary(): Promise<ReplaceDict | undefined> {
    try {
      // Once installed, the checkout's file is the workspace dictionary; before, the workspace's is what will be.
      return await loadReplaceDict(
        this.opts.dictionaryFile && !this.installing ? this.opts.dictionaryFile : path.join(this.opts.root, 'configs', CHECKOUT_DICT),
      );
    } catch {
      return undefined;
    }
  }

  private ableList: AbleList | undefined;
  private async able(): Promise<AbleList> {
    if (this.opts.prefix?.length) return AbleList.bundled;
    return (this.ableList ??= (await loadAbleList(this.opts.root)).list);
  }

  /** A local estimate: the dictionary over the G2P and the checkout's able list (the real G2P runs inside GLM-TTS). */
  async g2p(text: string): Promise<TeacherG2P> {
    return embeddedG2P(text, await this.dictionary(), await this.able());
  }

  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    let out: ManyResult | undefined;
    await this.synthesizeMany([task], {
      ...opts,
      onResult: (r) => {
        out = r;
      },
    });
    if (!out) throw new TeacherError('glmtts_inference.py gave no answer for the task', true);
    if ('error' in out) throw out.error;
    return out.result;
  }

  async health(): Promise<TeacherHealth> {
    const script = path.join(this.opts.root, 'glmtts_inference.py');
    if (!this.opts.root)
      return { ok: false, backend: 'glmtts-cli', detail: 'No GLM-TTS checkout configured (ttsDistill.teacher.glmttsPath).' };
    if (this.opts.prefix?.length)
      return {
        ok: true,
        backend: 'glmtts-cli',
        detail: `GLM-TTS at ${this.opts.root} via ${this.opts.prefix.join(' ')} (not checked from here).`,
      };
    if (!existsSync(script)) return { ok: false, backend: 'glmtts-cli', detail: `No glmtts_inference.py in ${this.opts.root}.` };
    return { ok: true, backend: 'glmtts-cli', detail: `GLM-TTS checkout at ${this.opts.root} (${this.opts.python ?? 'python'}).` };
  }

  async synthesizeMany(tasks: TeacherTask[], opts: SynthesizeOptions & { onResult(r: ManyResult): void | Promise<void> }): Promise<void> {
    const root = this.opts.root;
    let installed: InstallResult | undefined;
    if (this.opts.usePhoneme ?? true) {
      try {
        installed = await this.prepare();
      } catch (err) {
        throw new TeacherError((err as Error).message, false);
      }
    }
    this.dictionarySha256 = installed?.sha256 ?? sha256Hex('');
    const exp = this.opts.expName ?? '_distill';
    const name = `ttsd_${process.pid}_${Date.now().toString(36)}_${runCounter++}`;
    const examples = path.join(root, 'examples');
    const jsonl = path.join(examples, `${name}.jsonl`);
    const outFolder = path.join(root, 'outputs', `pretrain${exp}`, name);
    const byUttid = new Map<string, TeacherTask>();
    const lines: string[] = [];
    for (const t of tasks) {
      const uttid = `L${t.line}`;
      byUttid.set(uttid, t);
      // All four keys are required upstream; a missing prompt_text would abort the whole run.
      lines.push(JSON.stringify({ uttid, prompt_text: t.promptText ?? '', prompt_speech: t.promptAudio ?? '', syn_text: t.text }));
    }
    await mkdir(examples, { recursive: true });
    await writeFile(jsonl, lines.join('\n') + '\n');
    const delivered = new Set<string>();
    const deliver = async (uttid: string, r: { result: SynthesisResult } | { error: TeacherError }) => {
      if (delivered.has(uttid)) return;
      delivered.add(uttid);
      const task = byUttid.get(uttid)!;
      await opts.onResult('result' in r ? { task, result: r.result } : { task, error: r.error });
    };
    const errors = new Map<string, string>();
    const tail: string[] = [];
    let lastActivity = Date.now();
    const onLine = (line: string) => {
      lastActivity = Date.now();
      const m = /Error processing (\S+?): (.*)$/.exec(line);
      if (m) errors.set(m[1]!, m[2]!);
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (/Error|error|Traceback|Exception/.test(line)) this.opts.log?.(`glmtts: ${line}`);
    };

    const python = this.opts.python ?? 'python';
    const args = [
      'glmtts_inference.py',
      `--data=${name}`,
      `--exp_name=${exp}`,
      ...((this.opts.usePhoneme ?? true) ? ['--use_phoneme'] : []),
      '--sample_rate',
      String(opts.sampleRate),
    ];
    const prefix = this.opts.prefix ?? [];
    let command: string, argv: string[], cwd: string | undefined;
    if (!prefix.length) {
      command = python;
      argv = args;
      cwd = root;
    } else {
      ({ command, argv } = prefixedArgv(prefix, `cd ${shq(root)} && exec ${[python, ...args].map(shq).join(' ')}`));
    }
    this.opts.log?.(`glmtts: running ${[command, ...argv].join(' ')}${cwd ? ` in ${cwd}` : ''} for ${tasks.length} task(s)`);
    const child = spawn(command, argv, {
      cwd,
      env: { ...process.env, ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    for (const s of [child.stdout, child.stderr]) {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        const parts = buf.split(/\r?\n|\r/);
        buf = parts.pop()!;
        for (const p of parts) if (p.trim()) onLine(p);
      });
    }
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    let stopReason: string | undefined;
    const onAbort = () => {
      stopReason ??= 'cancelled';
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const seenSize = new Map<string, number>();
    let compare = new Map<string, TextCompareRecord>();
    let compareSize = -1;
    const readCompare = async () => {
      const file = path.join(outFolder, 'text_compare.jsonl');
      const st = await stat(file).catch(() => undefined);
      if (!st || st.size === compareSize) return;
      compareSize = st.size;
      compare = new Map(parseTextCompare(await readFile(file, 'utf8')).map((r) => [r.uttid, r]));
    };
    const collect = async (final: boolean) => {
      const names = await readdir(outFolder).catch(() => [] as string[]);
      const wavs = names.filter((n) => n.endsWith('.wav'));
      if (wavs.length) await readCompare();
      for (const f of wavs) {
        const uttid = f.slice(0, -4);
        if (!byUttid.has(uttid) || delivered.has(uttid)) continue;
        const file = path.join(outFolder, f);
        const st = await stat(file).catch(() => undefined);
        if (!st) continue;
        // torchaudio writes the file in one go; a size that did not change since the last look is complete.
        if (!final && seenSize.get(uttid) !== st.size) {
          seenSize.set(uttid, st.size);
          lastActivity = Date.now();
          continue;
        }
        const rec = compare.get(uttid);
        if (!final && !rec) continue;
        const r = await this.toResult(byUttid.get(uttid)!, await readFile(file), rec, opts.sampleRate);
        // A WAV cut short by a cancel is not a failure of the line: the next run redoes it.
        if ('error' in r && stopReason === 'cancelled') continue;
        await deliver(uttid, r);
      }
    };
    const stall = this.opts.stallTimeoutMs ?? 0;
    const poll = this.opts.pollMs ?? 300;
    let done: Awaited<typeof exited> | undefined;
    void exited.then((r) => {
      done = r;
    });
    try {
      while (!done) {
        await Promise.race([exited, new Promise((r) => setTimeout(r, poll))]);
        if (done) break;
        await collect(false);
        if (stall > 0 && Date.now() - lastActivity > stall && !stopReason) {
          stopReason = `no progress for ${Math.round(stall / 1000)} s`;
          onAbort();
        }
      }
      await collect(true);
      const exit = done!;
      const why =
        stopReason ??
        (exit.error
          ? `could not start ${command}: ${exit.error.message}`
          : exit.code !== 0
            ? `glmtts_inference.py exited with ${exit.signal ?? `code ${exit.code}`}${tail.length ? `: ${tail.slice(-3).join(' | ')}` : ''}`
            : undefined);
      for (const uttid of byUttid.keys()) {
        if (delivered.has(uttid)) continue;
        if (stopReason === 'cancelled') continue; // not failures: the runner leaves them for the next run
        const logged = errors.get(uttid);
        await deliver(uttid, {
          error: logged
            ? new TeacherError(`GLM-TTS failed on this line: ${logged}`, false)
            : why
              ? new TeacherError(why, true)
              : new TeacherError('glmtts_inference.py wrote no WAV for this line', false),
        });
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!done) killGroup('SIGKILL');
      // The chunk's inputs and outputs are copied out; leaving them would fill the checkout.
      await rm(jsonl, { force: true });
      await rm(outFolder, { recursive: true, force: true });
    }
    if (stopReason === 'cancelled') opts.signal?.throwIfAborted();
  }

  private async toResult(
    task: TeacherTask,
    raw: Uint8Array,
    rec: TextCompareRecord | undefined,
    sampleRate: number,
  ): Promise<{ result: SynthesisResult } | { error: TeacherError }> {
    let samples: Float32Array, rate: number;
    try {
      const h = parseWavHeader(raw, raw.length);
      if (h.truncated) throw new Error('the WAV is truncated');
      const d = decodeWav(raw);
      samples = mixDown(d.channels);
      rate = d.sampleRate;
    } catch (err) {
      return { error: new TeacherError(`GLM-TTS wrote an unreadable WAV: ${(err as Error).message}`, true) };
    }
    const out = rate === sampleRate ? samples : resample(samples, rate, sampleRate);
    const local = embeddedG2P(task.text, await this.dictionary(), await this.able());
    const notes: string[] = [];
    let phonemes: string, readings: (string | null)[], sources: (ReadingSource | null)[];
    if (rec) {
      phonemes = (rec.syn_text_phoneme.length ? rec.syn_text_phoneme : rec.syn_text_tn).join('');
      const aligned = alignReadings(task.text, phonemes, local.readings, local.sources);
      readings = aligned.readings;
      sources = aligned.sources;
      if (!aligned.complete) notes.push('text normalisation changed the text: some readings are the local estimate');
    } else {
      phonemes = local.phonemes;
      readings = local.readings;
      // Nothing the teacher reported: every reading is an estimate (source unknown).
      sources = local.readings.map((_, i) => (local.sources?.[i] === 'none' ? 'none' : null));
      notes.push('text_compare.jsonl had no record for this line: readings and phonemes are the local estimate');
    }
    const result: SynthesisResult = {
      text: task.text,
      readings,
      pinyin: readings.filter((r): r is string => !!r).join(' '),
      phonemes,
      sources,
      wav: encodeWav(out, sampleRate),
      sampleRate,
      durationSeconds: out.length / sampleRate,
      clonedVoice: !!task.promptAudio,
      engine: `GLM-TTS (${this.opts.root})`,
      dictionarySha256: this.dictionarySha256,
    };
    if (notes.length) result.note = notes.join('; ');
    return { result };
  }
}

/**
 * Walks the teacher's phoneme string along the original text: a Han character meets either
 * itself (kept as text: the language model reads it, the local reading is only a hint; source
 * `model`) or a token syllable (the teacher's reading; source `dictionary` where a local
 * dictionary match covers it, else `g2p`). Where the walk loses its way the rest stays the local
 * estimate (source null).
 */
export function alignReadings(
  text: string,
  phonemes: string,
  local: (string | null)[],
  localSources?: ReadonlyArray<ReadingSource | null>,
): { readings: (string | null)[]; sources: (ReadingSource | null)[]; complete: boolean } {
  const parts = parseReplacement(phonemes);
  const readings = local.slice();
  const sources: (ReadingSource | null)[] = local.map((r) => (r ? null : 'none'));
  let u = 0;
  for (let i = 0; i < text.length; i++) {
    const part = parts[u];
    if (!part) return { readings, sources, complete: false };
    const same = part.kind === 'text' && part.text === text[i];
    if (local[i]) {
      if (part.kind === 'syllable') {
        readings[i] = part.pinyin;
        sources[i] = localSources?.[i] === 'dictionary' ? 'dictionary' : 'g2p';
      } else if (!same) return { readings, sources, complete: false };
      else sources[i] = 'model';
      u++;
    } else if (same) {
      u++;
    }
  }
  return { readings, sources, complete: true };
}
