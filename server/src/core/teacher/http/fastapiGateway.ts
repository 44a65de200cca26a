/**
 * Adapter for DuoHBshuijiao/GLM-TTS-FastAPI_Gateway (`ttsDistill.teacher.httpProtocol:
 * "fastapi-gateway"`), `python -m tools.api_server`, port 8088 by default (docs/http-teachers.md
 * has the citations):
 *
 *   POST <url>/api/v1/tts   multipart/form-data: prompt_text, input_text, prompt_audio (file,
 *                           .wav/.flac), seed (int, 42), sample_rate (24000|32000), use_cache (bool)
 *                           → audio/wav, mono 16-bit PCM at sample_rate; errors {"detail"}: 400 bad
 *                           input, 422 a missing field, 500 anything else
 *   GET  <url>/health       → {"status": "ok", "service": "glm-tts"}
 *
 * No authentication, no voice registry (the prompt goes with every request), the seed is honoured.
 * It synthesises with use_phoneme=False (no G2P dictionary, the language model reads every
 * character) and reports no readings: the readings recorded are our G2P port's hints. It runs
 * each request in its own thread on one shared model with no lock (and the seed is process-wide),
 * so it gets one request at a time.
 */
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

export interface FastapiGatewayOptions {
  url: string;
  /** Sent as a bearer token when set (the gateway has no authentication; a proxy in front of it may). */
  token?: string;
  maxPromptBytes?: number;
  maxResponseBytes?: number;
}

export class FastapiGatewayTeacher implements Teacher {
  readonly kind = 'http' as const;
  readonly protocol = 'fastapi-gateway' as const;
  /** No lock around the shared model, and seed_util.set_seed is process-wide: one request at a time. */
  readonly maxConcurrency = 1;
  private readonly base: string;
  private readonly prompts: PromptFiles;

  constructor(private readonly opts: FastapiGatewayOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.prompts = new PromptFiles(opts.maxPromptBytes);
  }

  async g2p(text: string): Promise<TeacherG2P> {
    return localReadings(text, 'model');
  }

  async synthesize(task: TeacherTask, opts: SynthesizeOptions): Promise<SynthesisResult> {
    if (!task.promptAudio)
      throw new TeacherError(
        'the GLM-TTS FastAPI gateway clones a voice for every line: POST /api/v1/tts requires prompt_audio, and this line has none',
        false,
      );
    // FastAPI reads an empty form value as a missing one: prompt_text is required (422).
    if (!task.promptText?.trim())
      throw new TeacherError(
        "the GLM-TTS FastAPI gateway requires the prompt's transcript (POST /api/v1/tts: prompt_text): give this line a prompt_text",
        false,
      );
    const prompt = await this.prompts.read(task.promptAudio);
    const form = new FormData();
    form.set('prompt_text', task.promptText);
    form.set('input_text', task.text);
    form.set('prompt_audio', new Blob([prompt.data], { type: 'audio/wav' }), uploadName(task.promptAudio));
    form.set('seed', String(opts.seed));
    form.set('sample_rate', String(opts.sampleRate));
    form.set('use_cache', 'true');
    const res = await callTeacher(this.base, '/api/v1/tts', {
      method: 'POST',
      body: form,
      headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {},
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (!res.ok) {
      // 400 is the gateway's ValueError (bad input): permanent; 500 (CUDA out of memory…) is retried.
      throw await httpFailure(res, (s) =>
        s === 500 ? "the gateway's inference failed; if the GPU is out of memory, POST /api/v1/clear_vram frees it" : undefined,
      );
    }
    const { wav, header, converted } = await wavAnswer(res, opts.sampleRate, this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    const notes = [
      "the FastAPI gateway reports no readings and synthesises with use_phoneme=False: GLM-TTS's language model read every character (no G2P dictionary); readings are tts-distill's port of GLM-TTS's G2P, hints only",
    ];
    if (converted) notes.push(`the server's WAV was ${converted}`);
    return {
      ...localReadings(task.text, 'model'),
      readingsFrom: 'local-g2p',
      wav,
      sampleRate: header.sampleRate,
      durationSeconds: header.durationSeconds,
      clonedVoice: true,
      engine: `GLM-TTS FastAPI gateway @ ${this.base}`,
      dictionarySha256: null,
      note: notes.join('; '),
    };
  }

  async health(): Promise<TeacherHealth> {
    const where = `GLM-TTS FastAPI gateway at ${this.base}`;
    try {
      const res = await callTeacher(this.base, '/health', { method: 'GET', signal: AbortSignal.timeout(5000) });
      if (!res.ok) return { ok: false, backend: 'http', detail: `${where}: HTTP ${res.status} ${await errorText(res)}` };
      const j = (await jsonAnswer(res)) as { status?: unknown; service?: unknown };
      return {
        ok: j.status === 'ok',
        backend: 'http',
        detail: `${where}: ${j.status === 'ok' ? 'reachable (the model loads on the first request)' : `unexpected /health answer ${JSON.stringify(j).slice(0, 100)}`}`,
      };
    } catch (err) {
      return { ok: false, backend: 'http', detail: err instanceof Error ? err.message : String(err) };
    }
  }
}
