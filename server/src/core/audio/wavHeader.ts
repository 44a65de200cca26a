import { open } from 'node:fs/promises';

/** What the RIFF header of a WAV file says, read without loading the samples. */
export interface WavHeader {
  /** 1 = PCM integer, 3 = IEEE float, 6/7 = A-law/µ-law, 0xFFFE resolved to the sub-format's code. */
  formatCode: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  /** Byte offset of the first sample and the number of sample bytes actually present in the file. */
  dataOffset: number;
  dataBytes: number;
  /** The data chunk claims more bytes than the file holds. */
  truncated: boolean;
  durationSeconds: number;
}

export class WavFormatError extends Error {}

const HEADER_PROBE_BYTES = 64 * 1024;

/**
 * Parses the header of a WAV file from its first bytes. `fileSize` is the size of the whole file
 * (the data chunk is usually not in `buf`). Throws WavFormatError with a message a user can act on.
 */
export function parseWavHeader(buf: Uint8Array, fileSize: number): WavHeader {
  if (fileSize === 0) throw new WavFormatError('the file is empty (0 bytes)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => (o + 4 <= buf.length ? String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!) : '');
  if (buf.length < 12) throw new WavFormatError(`the file is too short to be a WAV file (${fileSize} bytes)`);
  const riff = tag(0);
  if (riff === 'RIFX') throw new WavFormatError('big-endian RIFX files are not supported; convert to a little-endian WAV');
  if (riff === 'RF64') throw new WavFormatError('RF64 (64-bit WAV) is not supported');
  if (riff !== 'RIFF' || tag(8) !== 'WAVE') throw new WavFormatError('not a WAV file (no RIFF/WAVE header)');
  let offset = 12;
  let fmt: Omit<WavHeader, 'dataOffset' | 'dataBytes' | 'truncated' | 'durationSeconds'> | undefined;
  while (offset + 8 <= buf.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError('the fmt chunk is truncated');
      let formatCode = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (formatCode === 0xfffe && size >= 40 && body + 26 <= buf.length) formatCode = view.getUint16(body + 24, true);
      if (channels === 0) throw new WavFormatError('the fmt chunk says 0 channels');
      if (sampleRate === 0) throw new WavFormatError('the fmt chunk says a sample rate of 0 Hz');
      if (blockAlign === 0) throw new WavFormatError('the fmt chunk says a block size of 0');
      fmt = { formatCode, channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('the data chunk comes before the fmt chunk');
      const present = Math.max(0, fileSize - body);
      const claimed = size === 0xffffffff ? present : size;
      const dataBytes = Math.min(claimed, present);
      const frames = Math.floor(dataBytes / fmt.blockAlign);
      return { ...fmt, dataOffset: body, dataBytes, truncated: claimed > present, durationSeconds: frames / fmt.sampleRate };
    }
    offset = body + size + (size & 1);
  }
  const where = buf.length < fileSize ? ' in the first 64 KiB' : '';
  if (!fmt) throw new WavFormatError(`no fmt chunk${where}`);
  throw new WavFormatError(`no data chunk${where} (truncated file?)`);
}

/** Reads only the first 64 KiB of the file. */
export async function readWavHeader(path: string): Promise<WavHeader> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buf = new Uint8Array(Math.min(size, HEADER_PROBE_BYTES));
    await handle.read(buf, 0, buf.length, 0);
    return parseWavHeader(buf, size);
  } finally {
    await handle.close();
  }
}
