import { decodeWav } from '../audio/wav';
import { readRegularFile } from '../util/safeFs';
import { measureChannels, type SignalMeasures } from './signal';

/** Reads (a regular file of at most `maxBytes`, never a FIFO or device), decodes and measures one WAV. */
export async function measureWavFile(file: string, maxBytes: number): Promise<SignalMeasures> {
  const wav = decodeWav(await readRegularFile(file, maxBytes));
  return measureChannels(wav.channels, wav.sampleRate);
}
