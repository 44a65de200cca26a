import { openRegularForRead, readRegularFile, UnsafeFileError } from '../util/safeFs';

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
  /** Size of the whole file in bytes. */
  fileSize: number;
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
  let fmt: Omit<WavHeader, 'dataOffset' | 'dataBytes' | 'truncated' | 'durationSeconds' | 'fileSize'> | undefined;
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
      return { ...fmt, dataOffset: body, dataBytes, truncated: claimed > present, durationSeconds: frames / fmt.sampleRate, fileSize };
    }
    offset = body + size + (size & 1);
  }
  const where = buf.length < fileSize ? ' in the first 64 KiB' : '';
  if (!fmt) throw new WavFormatError(`no fmt chunk${where}`);
  throw new WavFormatError(`no data chunk${where} (truncated file?)`);
}

/**
 * Reads only the first 64 KiB of the file. Only a regular file is read: a FIFO is opened
 * non-blocking and refused (it would hang the caller), as are devices such as `/dev/zero`.
 */
export async function readWavHeader(path: string): Promise<WavHeader> {
  const handle = await openRegularForRead(path);
  try {
    const { size } = await handle.stat();
    const buf = new Uint8Array(Math.min(size, HEADER_PROBE_BYTES));
    await handle.read(buf, 0, buf.length, 0);
    return parseWavHeader(buf, size);
  } finally {
    await handle.close();
  }
}

/** The default cap of a prompt file (`ttsDistill.promptAudio.maxMegabytes`). */
export const DEFAULT_PROMPT_MAX_BYTES = 50 * 1024 * 1024;

/**
 * Reads a prompt WAV to send it somewhere: a regular file (never a FIFO or device, symbolic links
 * followed to a regular file), at most `maxBytes`, with a RIFF/WAVE header and a data chunk.
 * Throws with a message a user can act on.
 */
export async function readPromptWav(file: string, maxBytes = DEFAULT_PROMPT_MAX_BYTES): Promise<{ data: Buffer; header: WavHeader }> {
  const data = await readRegularFile(file, maxBytes);
  const header = parseWavHeader(data, data.length);
  if (header.dataBytes === 0) throw new WavFormatError('the WAV has no samples');
  return { data, header };
}

/**
 * Why a prompt WAV cannot be used, or undefined when it can: what the editor flags as an error on
 * the line (missing, not a regular file, too large, not a WAV, no samples). Never reads more than its header.
 */
export async function promptWavProblem(file: string, maxBytes = DEFAULT_PROMPT_MAX_BYTES): Promise<string | undefined> {
  try {
    const fh = await openRegularForRead(file);
    let size: number;
    try {
      size = (await fh.stat()).size;
    } finally {
      await fh.close();
    }
    if (size > maxBytes)
      return `the prompt audio is larger than the limit of ${Math.round(maxBytes / 1048576)} MB (ttsDistill.promptAudio.maxMegabytes): ${file}`;
    const h = await readWavHeader(file);
    if (h.dataBytes === 0) return `the prompt audio has no samples: ${file}`;
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `prompt audio not found (No such file): ${file}`;
    if (err instanceof UnsafeFileError || err instanceof WavFormatError)
      return `the prompt audio is not a usable WAV file: ${err.message}${err instanceof WavFormatError ? ` (${file})` : ''}`;
    return `cannot read the prompt audio ${file}: ${code ?? (err as Error).message}`;
  }
}
