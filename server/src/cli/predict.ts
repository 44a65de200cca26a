import type { CliCommand } from './types';

// Placeholder until the feature lands; prints a clear message rather than pretending.
export const predictCommand: CliCommand = {
  summary: '(not available yet)',
  usage: 'tts-distill predict: not available yet',
  async run(_args, io) {
    io.stderr.write('tts-distill predict: not available yet\n');
    return 69;
  },
};
