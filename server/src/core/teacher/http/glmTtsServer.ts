/**
 * Adapter for JerryAZR/GLM-TTS-Server (`ttsDistill.teacher.httpProtocol: "glm-tts-server"`), an
 * OpenAI-style FastAPI server whose voices are registered once and then named by id
 * (docs/http-teachers.md has the citations):
 *
 *   POST <url>/v1/voices          multipart: name, prompt_text, prompt_audio (file), voice_id
 *                                  (admin role) → { voice_id, name, created_at }; 409 when the id exists
 *   GET  <url>/v1/voices/<id>     → { voice_id, name, prompt_text, created_at }
 *   POST <url>/v1/audio/speech    JSON { model, input (≤ 5000 chars), voice, response_format: "wav" }
 *                                  → audio/wav, 16-bit PCM at the server's GLM_TTS_SAMPLE_RATE
 *   GET  <url>/ready, GET <url>/status (auth)
 *   Authorization: Bearer <JWT signed by an enrolled key> when the server has keys; errors {"detail"}.
 *
 * Each prompt (audio sha256 + transcript) becomes one voice with a deterministic id
 * (`ttsd_<hash>`), uploaded once: the ids are kept in the run folder
 * (`glm-tts-server-voices.jsonl`), so a resumed run uploads nothing again, and a 409 for our own
 * id (another run folder, a lost cache) is checked and reused. The server takes no seed (its
 * generate_long seeds with 0), runs one generation at a time and reports no readings: the
 * readings recorded are our G2P port's estimate.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { readJsonLines, writeFileAtomic } from '../../batch/manifest';
import { assertRegularOrAbsent } from '../../util/safeFs';
import type { SynthesisResult, SynthesizeOptions, Teacher, TeacherG2P, TeacherHealth, TeacherTask } from '../types';
import { TeacherError } from '../types';
import {
  callTeacher,
  DEFAULT_MAX_RESPONSE_BYTES,
  errorText,
  httpFailure,
  jsonAnswer,
  localReadings,
  PromptFiles,
  uploadName,
  wavAnswer,
} from './common';

export interface GlmTtsServerOptions {
  url: string;
  model?: string;
  /** A JWT signed with a key enrolled in the server's authorized_keys.json (admin role to upload voices). */
  token?: string;
  maxPromptBytes?: number;
  maxResponseBytes?: number;
  log?(message: string): void;
}

/** The voice ids of a run folder (one JSON object per line). */
export const VOICES_FILE = 'glm-tts-server-voices.jsonl';

/** SpeechRequest.input: `Field(..., min_length=1, max_length=5000)`. */
export const MAX_INPUT_CHARS = 5000;

export interface VoiceRecord {
  /** Base URL of the server the voice lives on. */
  server: string;
  voiceId: string;
  /** The prompt WAV as resolved for the line. */
  promptAudio: string;
  audioSha256: string;
  promptText: string;
  uploadedAt: string;
}

function isVoiceRecord(v: unknown): v is VoiceRecord {
  const r = v as VoiceRecord;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof r.server === 'string' &&
    typeof r.voiceId === 'string' &&
    /^ttsd_[0-9a-f]{24}$/.test(r.voiceId) &&
    typeof r.promptAudio === 'string' &&
    typeof r.audioSha256 === 'string' &&
    typeof r.promptText === 'string'
  );
}

/** The voice id of a prompt: a voice is its audio and its transcript (the server keeps both). */
export function voiceIdFor(audioSha256: string, promptText: string): string {
  return `ttsd_${createHash('sha256').update(`${audioSha256}\n${promptText}`).digest('hex').slice(0, 24)}`;
}

export class GlmTtsServerTeacher implements Teacher {
  readonly kind = 'http' as const;
  readonly protocol = 'glm-tts-server' as const;
  /** generate_long(seed=0): the server passes no seed, so every output is seeded with 0. */
  readonly fixedSeed = 0;
  /** One generation at a time behind an asyncio.Lock: more requests would only queue and time out. */
  readonly maxConcurrency = 1;
  private readonly base: string;
  private readonly prompts: PromptFiles;
  /** prompt key (server, path, sha256, transcript) → voice id. */
  private readonly voices = new Map<string, string>();
  private readonly uploading = new Map<string, Promise<string>>();
  private runFile: string | undefined;
  private records: VoiceRecord[] = [];
  private saving: Promise<void> = Promise.resolve();
  /** Uploads this process made (for the tests and the log). */
  uploads = 0;

  constructor(private readonly opts: GlmTtsServerOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.prompts = new PromptFiles(opts.maxPromptBytes);
  }

  private auth(): Record<string, string> {
    return this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {};
  }

  private key(file: string, sha: string, promptText: string): string {
    return JSON.stringify([this.base, file, sha, promptText]);
  }

  async useRunFolder(outDir: string): Promise<void> {
    const file = path.join(outDir, VOICES_FILE);
    // A cloned repository may ship the file as a symbolic link or a FIFO: refused, like the manifest.
    await assertRegularOrAbsent(file);
    this.runFile = file;
    this.records = await readJsonLines(file, isVoiceRecord);
    for (const r of this.records)
      if (r.server === this.base) this.voices.set(this.key(r.promptAudio, r.audioSha256, r.promptText), r.voiceId);
  }

  private explain(status: number, detail: string): string | undefined {
    if (status === 401)
      return 'GLM-TTS-Server wants a JWT signed with a key enrolled in its authorized_keys.json: set the HTTP teacher token to one from its scripts/make_token.py (they expire after an hour by default)';
    if (status === 403 && /admin/.test(detail)) return 'uploading a voice (POST /v1/voices) needs a key with the admin role';
    if (status === 413) return "the prompt audio is larger than the server's GLM_TTS_MAX_UPLOAD_BYTES";
    return undefined;
  }

  /** The server's voice for this prompt: from the cache, or uploaded (once, even when many lines ask at the same time). */
  private async voiceFor(
    file: string,
    prompt: { data: Buffer; sha256: string },
    promptText: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const key = this.key(file, prompt.sha256, promptText);
    const known = this.voices.get(key);
    if (known) return known;
    let p = this.uploading.get(key);
    if (!p) {
      p = this.upload(file, prompt, promptText, signal).finally(() => this.uploading.delete(key));
      this.uploading.set(key, p);
    }
    const id = await p;
    this.voices.set(key, id);
    return id;
  }

  private async upload(file: string, prompt: { data: Buffer; sha256: string }, promptText: string, signal?: AbortSignal): Promise<string> {
    const voiceId = voiceIdFor(prompt.sha256, promptText);
    const form = new FormData();
    form.set('name', `${path.basename(file)} (tts-distill)`);
    form.set('prompt_text', promptText);
    form.set('prompt_audio', new Blob([prompt.data], { type: 'audio/wav' }), uploadName(file));
    form.set('voice_id', voiceId);
    const res = await callTeacher(this.base, '/v1/voices', {
      method: 'POST',
      body: form,
      headers: this.auth(),
      ...(signal ? { signal } : {}),
    });
    if (res.status === 409) {
      // Our id is derived from the audio and the transcript: an existing one is this voice, uploaded before (another run folder).
      await res.body?.cancel().catch(() => undefined);
      const got = await callTeacher(this.base, `/v1/voices/${voiceId}`, {
        method: 'GET',
        headers: this.auth(),
        ...(signal ? { signal } : {}),
      });
      if (!got.ok) throw await httpFailure(got, (s, d) => this.explain(s, d));
      const meta = (await jsonAnswer(got)) as { prompt_text?: unknown };
      if (meta.prompt_text !== promptText)
        throw new TeacherError(
          `GLM-TTS-Server already has a voice ${voiceId} with another transcript: delete it (DELETE /v1/voices/${voiceId}) and run again`,
          false,
        );
    } else if (!res.ok) {
      throw await httpFailure(res, (s, d) => this.explain(s, d));
    } else {
      const j = (await jsonAnswer(res)) as { voice_id?: unknown };
      if (j.voice_id !== voiceId)
        throw new TeacherError(
          `GLM-TTS-Server registered the prompt as ${JSON.stringify(j.voice_id)}, not as the voice id asked for (${voiceId})`,
          true,
        );
      this.uploads++;
      this.opts.log?.(`GLM-TTS-Server: uploaded ${file} as voice ${voiceId}`);
    }
    await this.remember({
      server: this.base,
      voiceId,
      promptAudio: file,
      audioSha256: prompt.sha256,
      promptText,
      uploadedAt: new Date().toISOString(),
    });
    return voiceId;
  }

  /** Adds a voice to the run folder's list (rewritten whole and atomically: a handful of lines). */
  private remember(rec: VoiceRecord): Promise<void> {
    this.records.push(rec);
    const file = this.runFile;
    if (!file) return Promise.resolve();
    const text = this.records.map((r) => JSON.stringify(r) + '\n').join('');
    const write = this.saving.then(() => writeFileAtomic(file, text));
    // A lost list only costs a 409 and a GET next time: the line goes on.
    this.saving = write.catch((err: unknown) => this.opts.log?.(`GLM-TTS-Server: cannot write ${file}: ${(err as Error).message}`));
    return this.saving;
  }

  private forget(voiceId: string): void {
    for (const [k, v] of this.voices) if (v === voiceId) this.voices.delete(k);
  }

  private speech(text: string, voice: string | undefined, signal?: AbortSignal): Promise<Response> {
    const body = { model: this.opts.model ?? 'glm-tts', input: text, ...(voice ? { voice } : {}), response_format: 'wav' };
    return callTeacher(this.base, '/v1/audio/speech', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...this.auth() },
      ...(signal ? { signal } : {}),
    });
  }

  async g2p(text: string): Promise<TeacherG2P> {
    return localReadings(text, 'estimate');
  }

  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    if ([...task.text].length > MAX_INPUT_CHARS)
      throw new TeacherError(
        `GLM-TTS-Server takes at most ${MAX_INPUT_CHARS} characters of text; this line has ${[...task.text].length}: split it`,
        false,
      );
    let voice: string | undefined;
    let prompt: { data: Buffer; sha256: string } | undefined;
    if (task.promptAudio) {
      if (!task.promptText?.trim()) {
        throw new TeacherError(
          'GLM-TTS-Server registers a voice from a prompt audio and its transcript (POST /v1/voices requires prompt_text): give this line a prompt_text',
          false,
        );
      }
      prompt = await this.prompts.read(task.promptAudio);
      voice = await this.voiceFor(task.promptAudio, prompt, task.promptText, opts.signal);
    }
    let res = await this.speech(task.text, voice, opts.signal);
    if (res.status === 404 && voice && prompt) {
      // The voice was deleted on the server since it was uploaded: upload it again, once.
      const detail = await errorText(res);
      if (!detail.includes(`'${voice}'`)) throw new TeacherError(`HTTP 404 from the teacher: ${detail}`, false);
      this.opts.log?.(`GLM-TTS-Server: voice ${voice} is gone (${detail}); uploading ${task.promptAudio} again`);
      this.forget(voice);
      voice = await this.voiceFor(task.promptAudio!, prompt, task.promptText!, opts.signal);
      res = await this.speech(task.text, voice, opts.signal);
    }
    if (!res.ok) throw await httpFailure(res, (s, d) => this.explain(s, d));
    const { wav, header, converted } = await wavAnswer(res, opts.sampleRate, this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    const notes = [
      "GLM-TTS-Server reports no readings: readings and phonemes are tts-distill's port of GLM-TTS's G2P, an estimate (the server reads phonemes only when started with GLM_TTS_USE_PHONEME=1)",
      voice
        ? `voice ${voice}`
        : 'no prompt audio: the server\'s default voice spoke (GLM_TTS_DEFAULT_VOICE, else a voice named "default", else its only voice)',
    ];
    if (converted) notes.push(`the server's WAV was ${converted}`);
    return {
      ...localReadings(task.text, 'estimate'),
      readingsFrom: 'local-g2p',
      wav,
      sampleRate: header.sampleRate,
      durationSeconds: header.durationSeconds,
      clonedVoice: !!voice,
      engine: `GLM-TTS-Server (${this.opts.model ?? 'glm-tts'}) @ ${this.base}`,
      dictionarySha256: null,
      note: notes.join('; '),
    };
  }

  async health(): Promise<TeacherHealth> {
    const where = `GLM-TTS-Server at ${this.base}`;
    try {
      const ready = await callTeacher(this.base, '/ready', { method: 'GET', signal: AbortSignal.timeout(5000) });
      if (!ready.ok)
        return {
          ok: false,
          backend: 'http',
          detail: `${where}: GET /ready gave HTTP ${ready.status} ${await errorText(ready)} (is it a GLM-TTS-Server?)`,
        };
      const r = (await jsonAnswer(ready)) as { ready?: unknown; mock?: unknown; error?: unknown };
      if (r.ready !== true)
        return {
          ok: false,
          backend: 'http',
          detail: `${where}: the model is not loaded${typeof r.error === 'string' ? `: ${r.error}` : ' yet'}`,
        };
      const status = await callTeacher(this.base, '/status', { method: 'GET', headers: this.auth(), signal: AbortSignal.timeout(5000) });
      if (!status.ok) {
        const e = await httpFailure(status, (s, d) => this.explain(s, d));
        return { ok: false, backend: 'http', detail: `${where}: ${e.message}` };
      }
      const s = (await jsonAnswer(status)) as { sample_rate?: unknown; voices?: unknown; version?: unknown };
      const mock = r.mock === true ? '; MOCK inference (a 440 Hz tone, not speech)' : '';
      return {
        ok: true,
        backend: 'http',
        engine: `GLM-TTS-Server ${typeof s.version === 'string' ? s.version : ''}`.trim(),
        detail: `${where}: ready, ${String(s.sample_rate ?? '?')} Hz, ${String(s.voices ?? '?')} voice(s)${mock}`,
      };
    } catch (err) {
      return { ok: false, backend: 'http', detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    await this.saving;
  }
}
