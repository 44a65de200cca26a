/** Test helpers: independent of the core, so that tests of the core do not check it against itself. */

/** A PCM WAV file (a quiet 220 Hz tone), built by hand. */
export function makeWav(opts: {
  seconds: number;
  sampleRate?: number;
  channels?: number;
  bits?: 8 | 16 | 24 | 32;
  truncateTo?: number;
}): Buffer {
  const sampleRate = opts.sampleRate ?? 16000;
  const channels = opts.channels ?? 1;
  const bits = opts.bits ?? 16;
  const bytes = bits / 8;
  const frames = Math.round(opts.seconds * sampleRate);
  const dataBytes = frames * channels * bytes;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * bytes, 28);
  buf.writeUInt16LE(channels * bytes, 32);
  buf.writeUInt16LE(bits, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  let o = 44;
  for (let i = 0; i < frames; i++) {
    const v = 0.25 * Math.sin((2 * Math.PI * 220 * i) / sampleRate);
    for (let c = 0; c < channels; c++) {
      if (bits === 8) buf.writeUInt8(Math.round(128 + v * 127), o);
      else if (bits === 16) buf.writeInt16LE(Math.round(v * 32767), o);
      else if (bits === 24) buf.writeIntLE(Math.round(v * 8388607), o, 3);
      else buf.writeInt32LE(Math.round(v * 2147483647), o);
      o += bytes;
    }
  }
  return opts.truncateTo !== undefined ? buf.subarray(0, opts.truncateTo) : buf;
}
