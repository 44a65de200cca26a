// A worker thread of the embedded teacher: renders audio for G2P results (see SynthPool in embedded.ts).
import { parentPort } from 'node:worker_threads';
import { engineInfo, type PoolReply, type PoolRequest, renderAudio } from './embedded';
import { TeacherError } from './types';

parentPort!.on('message', (req: PoolRequest) => {
  void (async () => {
    try {
      if (req.kind === 'engine') {
        parentPort!.postMessage({ id: req.id, ok: true, value: await engineInfo(req.mode) } satisfies PoolReply);
        return;
      }
      const audio = await renderAudio(req.g, req.seed, req.sampleRate, req.mode);
      parentPort!.postMessage({ id: req.id, ok: true, value: audio } satisfies PoolReply, [audio.wav.buffer as ArrayBuffer]);
    } catch (err) {
      parentPort!.postMessage({
        id: req.id,
        ok: false,
        message: err instanceof Error ? err.message : String(err),
        transient: err instanceof TeacherError ? err.transient : true,
      } satisfies PoolReply);
    }
  })();
});
