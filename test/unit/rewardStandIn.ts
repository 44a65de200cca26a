// A stand-in for GLM-TTS's grpo/reward_server.py over loopback, with its exact request and answer shapes.
import { after } from 'node:test';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What reward_server.py's RewardRequest (pydantic) accepts: these five fields, with these types. */
const FIELDS: Record<string, 'string' | 'int'> = {
  audio_path: 'string',
  uttid: 'string',
  target_audio: 'string',
  ref_text: 'string',
  emotion: 'int',
};

export interface Truth {
  cos: number;
  cer: number;
  emo: number[];
}

/**
 * A stand-in for grpo/reward_server.py: POST /reward, body validated as FastAPI would (422 with
 * `detail`), the rewards computed from known truths per audio path as the server computes them
 * (sim = (1+cos)/2 unless target_audio is "None", cer = exp(-2.5·CER), emo = scores[emotion],
 * 1 − scores[4] for -1), and all zeros when it "cannot read" the file (its except branch).
 */
export async function standIn(
  truths: Record<string, Truth>,
  behave: (body: Record<string, unknown>, n: number) => 'ok' | '503' | 'hang' = () => 'ok',
  keepOpen = false,
) {
  const bodies: Record<string, unknown>[] = [];
  let n = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
    });
    req.on('end', () => {
      const send = (status: number, o: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (req.method !== 'POST' || req.url !== '/reward') return send(404, { detail: 'Not Found' });
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send(422, { detail: [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }] });
      }
      const bad = Object.entries(FIELDS).filter(([k, t]) => (t === 'int' ? !Number.isInteger(body[k]) : typeof body[k] !== 'string'));
      if (bad.length) return send(422, { detail: bad.map(([k]) => ({ type: 'missing', loc: ['body', k], msg: 'Field required' })) });
      bodies.push(body);
      const mode = behave(body, n++);
      if (mode === '503') return send(503, { detail: 'busy' });
      if (mode === 'hang') return;
      const t = truths[body.audio_path as string];
      let sim = 0,
        cer = 0,
        emo = 0,
        emoNeg = 0;
      if (t) {
        if (body.target_audio !== 'None') sim = (1 + t.cos) / 2;
        const e = body.emotion as number;
        emo = e === -1 ? 1 - t.emo[4]! : t.emo[e]!;
        emoNeg = -t.emo[4]!;
        cer = Math.exp(-2.5 * t.cer);
      }
      send(200, {
        reward: cer + sim + emo,
        reward_info: {
          sim_reward: sim,
          cer_reward: cer,
          nll_reward: 0,
          emo_reward: emo,
          emo_neg_reward: emoNeg,
          token_cer_reward: [0],
          laughter_reward: 0,
        },
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  // Closed after the test that started it; one started in a `before` hook is closed by its caller.
  if (!keepOpen) after(close);
  return { url, bodies, close };
}

/** emotion2vec scores with P(happy) = happy and P(neutral) = 0.9 − happy. */
export const emo = (happy: number) => [0.02, 0.01, 0.01, happy, 0.9 - happy, 0.02, 0.02, 0.01, 0.01];
