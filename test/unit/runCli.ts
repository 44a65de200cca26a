import { PassThrough, Readable } from 'node:stream';
import { main } from '../../server/src/cli';

/** Runs `tts-distill <args>` in this process, as a pipeline would, and collects what it printed. */
export async function runCli(
  args: string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough(),
    stderr = new PassThrough();
  let out = '',
    err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const input = stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]);
  const code = await main(args, {
    stdout,
    stderr,
    cwd,
    ...(env ? { env } : {}),
    ...(input ? { stdin: input } : {}),
    signal: new AbortController().signal,
  });
  return { code, out, err };
}
