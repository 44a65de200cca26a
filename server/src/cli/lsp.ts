import type { CliCommand } from './types';
import { UsageError } from './types';

export const lspCommand: CliCommand = {
  summary: 'start the language server (for neovim, Emacs, Helix…)',
  usage: 'Usage: tts-distill lsp --stdio\n\nStarts the TTS Distill language server on standard input/output.',
  async run(args) {
    if (!args.includes('--stdio')) throw new UsageError('only --stdio is supported');
    const { createStdioConnection } = await import('../stdioConnection');
    const { startServer } = await import('../server');
    startServer(createStdioConnection());
    // Runs until the client sends exit (vscode-languageserver ends the process then).
    return new Promise<number>(() => undefined);
  },
};
