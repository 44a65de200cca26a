// A client of GLM-TTS's reward server (grpo/reward_server.py, started by grpo/run_server.sh on
// ports 8080–8087 next to the teacher). One `POST /reward` per WAV, no batching:
//   request  {"audio_path": str, "uttid": str, "target_audio": str (a path, or "None"), "ref_text": str, "emotion": int}
//   answer   {"reward": float, "reward_info": {"sim_reward", "cer_reward", "nll_reward", "emo_reward",
//             "emo_neg_reward", "token_cer_reward": [int], "laughter_reward"}}
// with sim_reward = (1 + cos) / 2 (WavLM-ECAPA against target_audio, 0 when it is "None"),
// cer_reward = exp(-2.5 · CER) (Paraformer ASR against ref_text), emo_reward = emotion2vec's score
// of class `emotion` (1 − P(neutral) for -1). The server reads the files itself: the paths are
// mapped to the server's view (ttsDistill.judges.pathMap). It swallows its own errors and answers
// zeros: an answer with every reward 0 is reported as an error, never as CER ∞.
import { isAbsolute } from 'node:path';
import {
  emotionIndex,
  type Judge,
  type JudgeInput,
  type JudgeRunOptions,
  type JudgeScores,
  JudgeUnavailableError,
  judgeKey,
  pool,
} from './judge';

export interface PathMapping {
  local: string;
  remote: string;
}

export interface RewardServerOptions {
  /** Base URLs (`http://gpu01:8080`); `http://gpu01:8080-8087` stands for the eight ports. Requests go round-robin. */
  urls: readonly string[];
  pathMap?: readonly PathMapping[];
  timeoutSeconds?: number;
  /** Requests in flight at once (default: one per URL). */
  concurrency?: number;
  /** Further attempts after a time-out, a refused connection or a 5xx, each on the next URL. */
  retries?: number;
  /** Largest answer read (default 1 MiB). */
  maxResponseBytes?: number;
  /** Wait before retry k is `retryDelayMs · 2^k` (default 250). */
  retryDelayMs?: number;
}

export interface RewardRequestBody {
  audio_path: string;
  uttid: string;
  target_audio: string;
  ref_text: string;
  emotion: number;
}

export interface RewardInfo {
  sim_reward: number;
  cer_reward: number;
  nll_reward?: number;
  emo_reward: number;
  emo_neg_reward?: number;
  token_cer_reward?: number[];
  laughter_reward?: number;
}

/** `http://h:8080-8087` → eight URLs; trailing slashes dropped; a bad URL is an error that names it. */
export function expandUrls(urls: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of urls) {
    const u = raw.trim().replace(/\/+$/, '');
    if (!u) continue;
    const range = /^(https?:\/\/[^/:]+):(\d+)-(\d+)(\/.*)?$/i.exec(u);
    if (range) {
      const from = Number(range[2]),
        to = Number(range[3]);
      if (!(from <= to && to - from < 64 && to < 65536))
        throw new RangeError(`reward server URL ${raw}: the port range must go up, by at most 64 ports`);
      for (let p = from; p <= to; p++) out.push(`${range[1]}:${p}${range[4] ?? ''}`);
      continue;
    }
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new RangeError(`reward server URL ${raw} is not a URL (e.g. http://gpu01:8080 or http://gpu01:8080-8087)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`reward server URL ${raw}: only http and https`);
    out.push(u);
  }
  return out;
}

/**
 * A local path as the server sees it: the longest `local` prefix that matches at a path boundary
 * is replaced by its `remote`; a path no mapping covers is sent as it is.
 */
export function mapPath(file: string, pathMap: readonly PathMapping[] = []): string {
  let best: PathMapping | undefined;
  for (const m of pathMap) {
    if (!m || typeof m.local !== 'string' || typeof m.remote !== 'string' || !m.local) continue;
    const local = m.local.replace(/[\\/]+$/, '');
    const hit = local === '' ? file.startsWith('/') : file === local || file.startsWith(local + '/') || file.startsWith(local + '\\');
    if (hit && (!best || local.length > best.local.replace(/[\\/]+$/, '').length)) best = m;
  }
  if (!best) return file;
  const local = best.local.replace(/[\\/]+$/, '');
  const rest = file.slice(local.length).replace(/\\/g, '/').replace(/^\/+/, '');
  const remote = best.remote.replace(/\/+$/, '');
  return rest ? `${remote}/${rest}` : remote || '/';
}

/** Checks a pathMap setting: a list of {local, remote}; returns the problems (empty when it is fine). */
export function pathMapProblems(pathMap: unknown): string[] {
  if (!Array.isArray(pathMap)) return ['ttsDistill.judges.pathMap must be a list of {"local": …, "remote": …}'];
  return pathMap.flatMap((m, i) => {
    const o = m as Partial<PathMapping> | null;
    if (!o || typeof o.local !== 'string' || typeof o.remote !== 'string' || !o.local || !o.remote)
      return [`ttsDistill.judges.pathMap[${i}] needs "local" and "remote" folders`];
    return isAbsolute(o.local) ? [] : [`ttsDistill.judges.pathMap[${i}].local must be an absolute folder (${o.local})`];
  });
}

/** The request body for one WAV (exactly reward_server.py's RewardRequest). */
export function rewardRequest(input: JudgeInput, pathMap: readonly PathMapping[] = []): RewardRequestBody {
  return {
    audio_path: mapPath(input.audio, pathMap),
    uttid: input.name,
    target_audio: input.promptAudio ? mapPath(input.promptAudio, pathMap) : 'None',
    ref_text: input.text,
    emotion: emotionIndex(input.emotion).index,
  };
}

/**
 * Rewards back to measures: cos = 2·sim − 1, CER = −ln(cer_reward) / 2.5, the emotion score as it
 * is. A reward of exactly 0 is what the server answers when it did not compute that measure (no
 * model, no target, an error it swallowed): that measure is null.
 */
export function invertRewards(info: RewardInfo, opts: { hadTarget: boolean; emotion?: string | number }): JudgeScores {
  const emo = emotionIndex(opts.emotion);
  const allZero = info.sim_reward === 0 && info.cer_reward === 0 && info.emo_reward === 0 && !info.emo_neg_reward;
  const scores: JudgeScores = {
    cer: info.cer_reward > 0 ? Math.max(0, -Math.log(Math.min(1, info.cer_reward)) / 2.5) : null,
    similarity: opts.hadTarget && info.sim_reward > 0 ? Math.max(-1, Math.min(1, 2 * info.sim_reward - 1)) : null,
    emotion: emo.known && !(info.emo_reward === 0 && !info.emo_neg_reward) ? info.emo_reward : null,
    emotionLabel: emo.label,
  };
  if (allZero)
    scores.error =
      'the reward server scored nothing (it answers zeros when it cannot read a file or has no models: check that it sees the WAV at the path sent, ttsDistill.judges.pathMap)';
  return scores;
}

function isRewardAnswer(v: unknown): v is { reward: number; reward_info: RewardInfo } {
  const o = v as { reward_info?: Record<string, unknown> } | null;
  const info = o?.reward_info;
  return (
    !!info &&
    typeof info === 'object' &&
    ['sim_reward', 'cer_reward', 'emo_reward'].every((k) => typeof info[k] === 'number' && Number.isFinite(info[k]))
  );
}

class AttemptError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly connection = false,
  ) {
    super(message);
  }
}

export class RewardServerJudge implements Judge {
  readonly backend = 'reward' as const;
  readonly where: string;
  private readonly urls: string[];
  private next = 0;
  private succeeded = false;

  constructor(private readonly opts: RewardServerOptions) {
    this.urls = expandUrls(opts.urls);
    if (!this.urls.length) throw new RangeError('no reward server URL is configured (ttsDistill.judges.rewardUrls, or --judge-url)');
    const problems = pathMapProblems(opts.pathMap ?? []);
    if (problems.length) throw new RangeError(problems.join('; '));
    this.where = opts.urls.join(', ');
  }

  async judge(inputs: readonly JudgeInput[], run: JudgeRunOptions = {}): Promise<Map<string, JudgeScores>> {
    const out = new Map<string, JudgeScores>();
    let down: JudgeUnavailableError | undefined,
      done = 0;
    await pool(inputs, this.opts.concurrency ?? this.urls.length, async (input) => {
      if (down || run.signal?.aborted) return;
      try {
        out.set(judgeKey(input.role, input.name), await this.judgeOne(input, run.signal));
      } catch (err) {
        const e = err as AttemptError;
        // Nothing answered yet and every attempt failed to connect: the server is down, stop here.
        if (e.connection && !this.succeeded) down ??= new JudgeUnavailableError(e.message);
        out.set(judgeKey(input.role, input.name), { error: e.message });
      }
      run.onProgress?.(++done, inputs.length);
    });
    if (run.signal?.aborted) throw new Error('evaluation cancelled');
    if (down) throw down;
    return out;
  }

  /** One WAV, with retries on the next URL. */
  async judgeOne(input: JudgeInput, signal?: AbortSignal): Promise<JudgeScores> {
    const body = JSON.stringify(rewardRequest(input, this.opts.pathMap));
    const retries = this.opts.retries ?? 2;
    let last: AttemptError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt) await sleep((this.opts.retryDelayMs ?? 250) * 2 ** (attempt - 1), signal);
      const url = this.urls[this.next++ % this.urls.length]!;
      try {
        const info = await this.post(url, body, signal);
        this.succeeded = true;
        return invertRewards(info, { hadTarget: !!input.promptAudio, emotion: input.emotion });
      } catch (err) {
        if (signal?.aborted) throw new AttemptError('evaluation cancelled', false);
        last = err instanceof AttemptError ? err : new AttemptError((err as Error).message, false);
        if (!last.transient) break;
      }
    }
    throw last!;
  }

  private async post(url: string, body: string, signal?: AbortSignal): Promise<RewardInfo> {
    const seconds = this.opts.timeoutSeconds ?? 120;
    const timeout = AbortSignal.timeout(seconds * 1000);
    const endpoint = `${url}/reward`;
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        redirect: 'error',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (timeout.aborted)
        throw new AttemptError(`the reward server ${endpoint} did not answer within ${seconds} s (ttsDistill.judges.timeoutSeconds)`, true);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new AttemptError(
        `cannot reach the reward server at ${url} (${why}): start GLM-TTS's grpo/run_server.sh there, or set ttsDistill.judges.rewardUrls`,
        true,
        true,
      );
    }
    let text: string;
    try {
      text = await readCapped(res, this.opts.maxResponseBytes ?? 1 << 20);
    } catch (err) {
      throw new AttemptError(`the reward server ${endpoint}: ${(err as Error).message}`, !timeout.aborted);
    }
    if (!res.ok) {
      const detail = text.trim().slice(0, 300);
      throw new AttemptError(
        `the reward server ${endpoint} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
        res.status >= 500 || res.status === 429,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AttemptError(`the answer of ${endpoint} is not JSON: ${text.slice(0, 120)}`, false);
    }
    if (!isRewardAnswer(json))
      throw new AttemptError(
        `the answer of ${endpoint} is not a reward server's ({"reward", "reward_info": {"sim_reward", "cer_reward", "emo_reward", …}}): ${text.slice(0, 160)}`,
        false,
      );
    return json.reward_info;
  }
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += chunk.length;
    if (n > max) throw new Error(`the answer is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
