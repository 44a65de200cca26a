import type { CliCommand } from './types';

// Placeholder until the feature lands; prints a clear message rather than pretending.
export const evalCommand: CliCommand = {
  summary: '(not available yet)',
  usage: 'tts-distill eval: not available yet',
  async run(_args, io) {
    io.stderr.write('tts-distill eval: not available yet\n');
    return 69;
  },
};
