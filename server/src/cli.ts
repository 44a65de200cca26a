// `tts-distill`: the same core the editor runs, for pipelines. Each subcommand lives in cli/<name>.ts.
import type { CliCommand, CliIO } from './cli/types';
import { UsageError } from './cli/types';

/** Loaded lazily so that `tts-distill validate` does not pay for the student or the audio stack. */
const commands: Record<string, () => Promise<CliCommand>> = {
  validate: async () => (await import('./cli/validate')).validateCommand,
  lsp: async () => (await import('./cli/lsp')).lspCommand,
  g2p: async () => (await import('./cli/g2p')).g2pCommand,
  dict: async () => (await import('./cli/dict')).dictCommand,
  submit: async () => (await import('./cli/submit')).submitCommand,
  qa: async () => (await import('./cli/qa')).qaCommand,
  teacher: async () => (await import('./cli/teacher')).teacherCommand,
  train: async () => (await import('./cli/train')).trainCommand,
  predict: async () => (await import('./cli/predict')).predictCommand,
  eval: async () => (await import('./cli/eval')).evalCommand,
  pipeline: async () => (await import('./cli/pipeline')).pipelineCommand,
  coverage: async () => (await import('./cli/coverage')).coverageCommand,
  voices: async () => (await import('./cli/voices')).voicesCommand,
  export: async () => (await import('./cli/export')).exportCommand,
  listening: async () => (await import('./cli/listening')).listeningCommand,
};

export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const controller = new AbortController();
  const full: CliIO = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    cwd: io?.cwd ?? process.cwd(),
    env: io?.env ?? process.env,
    signal: io?.signal ?? controller.signal,
    ...(io?.stdin ? { stdin: io.stdin } : {}),
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    full.stdout.write(await helpText());
    return name ? 0 : 64;
  }
  if (name === '--version') {
    full.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    full.stderr.write(`tts-distill: unknown command '${name}'\n\n${await helpText()}`);
    return 64;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    const usage = name === 'submit' && rest.includes('--slurm') ? (await import('./cli/submitSlurm')).slurmUsage : command.usage;
    full.stdout.write(usage.endsWith('\n') ? usage : usage + '\n');
    return 0;
  }
  const onSignal = () => controller.abort();
  if (!io?.signal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    return await command.run(rest, full);
  } catch (err) {
    if (err instanceof UsageError) {
      full.stderr.write(`tts-distill ${name}: ${err.message}\n\n${command.usage}\n`);
      return 64;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.1.0';

async function helpText(): Promise<string> {
  const lines = ['Usage: tts-distill <command> [options]   (tts-distill <command> --help for details)', '', 'Commands:'];
  for (const [name, load] of Object.entries(commands)) {
    const c = await load().catch(() => undefined);
    if (c) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  }
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`tts-distill: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
