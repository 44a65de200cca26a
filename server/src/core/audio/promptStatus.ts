// What a prompt recording is, read in one place for the editor (core of the server's prompt cache)
// and for `tts-distill validate`: never opens a FIFO or a device (stat first), a size cap, the WAV header.
import { stat } from 'node:fs/promises';
import type { PromptAudioStatus } from '../formats/taskFile';
import { readWavHeader } from './wavHeader';

/** The prompt's status with the file's mtime and size (-1 when it could not be stat'ed), the key of a cache. */
export async function readPromptStatus(
  absolute: string,
  maxBytes = Infinity,
): Promise<{ status: PromptAudioStatus; mtimeMs: number; size: number }> {
  let mtimeMs = -1,
    size = -1;
  try {
    const st = await stat(absolute);
    mtimeMs = st.mtimeMs;
    size = st.size;
    if (!st.isFile())
      return {
        status: {
          state: 'unreadable',
          path: absolute,
          reason: `not a regular file${st.isFIFO() ? ' (a FIFO)' : st.isCharacterDevice() || st.isBlockDevice() ? ' (a device)' : ''}: it is never read`,
        },
        mtimeMs,
        size,
      };
    if (st.size > maxBytes)
      return {
        status: {
          state: 'unreadable',
          path: absolute,
          reason: `the file is larger than the limit of ${Math.round(maxBytes / 1048576)} MB (ttsDistill.promptAudio.maxMegabytes)`,
        },
        mtimeMs,
        size,
      };
    // readWavHeader refuses FIFOs and devices too: a file swapped for one after the stat cannot hang us.
    const h = await readWavHeader(absolute);
    return {
      status: {
        state: 'ok',
        path: absolute,
        channels: h.channels,
        sampleRate: h.sampleRate,
        durationSeconds: h.durationSeconds,
        truncated: h.truncated,
      },
      mtimeMs,
      size,
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const status: PromptAudioStatus =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? { state: 'missing', path: absolute }
        : { state: 'unreadable', path: absolute, reason: err instanceof Error ? err.message : String(err) };
    return { status, mtimeMs, size };
  }
}
