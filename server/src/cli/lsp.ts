import type { CliCommand } from './types';
import { UsageError } from './types';

export const lspCommand: CliCommand = {
  summary: 'start the language server (for neovim, Emacs, Helix…)',
  usage: 'Usage: tts-distill lsp --stdio\n\nStarts the TTS Distill language server on standard input/output.',
  async run(args) {
    if (!args.includes('--stdio')) throw new UsageError('only --stdio is supported');
    const { createConnection, ProposedFeatures } = await import('vscode-languageserver/node');
    const { startServer } = await import('../server');
    startServer(createConnection(ProposedFeatures.all, process.stdin, process.stdout));
    // Runs until the client sends exit (vscode-languageserver ends the process then).
    return new Promise<number>(() => undefined);
  },
};
