// `tts-distill teacher serve|health`: the embedded teacher over HTTP on loopback, and a health check of any backend.
import * as path from 'node:path';
import { defaultSettings, type TeacherBackendKind } from '../core/settings';
import { createTeacher, defaultWorkers, EmbeddedTeacher, serveTeacher } from '../core/teacher';
import { intOption, parseArgs } from './args';
import { TOKEN_ENV } from './submit';
import { type CliCommand, type CliIO, UsageError } from './types';

const usage = `Usage: tts-distill teacher serve [--port N] [--dict FILE] [--require-token]
       tts-distill teacher health [--teacher embedded|http|glmtts-cli] [--url U] [--glmtts PATH]

serve   serves the embedded teacher on 127.0.0.1 with the HTTP teacher protocol
        (POST /v1/audio/speech, POST /v1/g2p, GET /health); prints its URL on stdout and runs
        until interrupted. --port N (default ${defaultSettings.teacher.httpUrl.split(':').pop()}; 0 = any free port).
        --require-token: requests must carry "Authorization: Bearer $${TOKEN_ENV}".
health  asks the teacher whether it is ready; exit code 0 when it is, 1 when not.`;

export const teacherCommand: CliCommand = {
  summary: "serve the embedded teacher over HTTP, or check a teacher's health",
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'serve') return serve(rest, io);
    if (sub === 'health') return health(rest, io);
    throw new UsageError(sub ? `unknown subcommand '${sub}'` : 'say serve or health');
  },
};

async function serve(args: string[], io: CliIO): Promise<number> {
  const { values, switches, positional } = parseArgs(args, { values: ['port', 'dict'], switches: ['require-token'] });
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const port = intOption(values.get('port'), 'port', 0, 65535) ?? Number(defaultSettings.teacher.httpUrl.split(':').pop());
  let token: string | undefined;
  if (switches.has('require-token')) {
    token = io.env[TOKEN_ENV];
    if (!token) throw new UsageError(`--require-token needs the token in $${TOKEN_ENV}`);
  }
  const log = (m: string) => io.stderr.write(m + '\n');
  const dict = values.get('dict');
  const teacher = new EmbeddedTeacher({
    dictionaryFile: path.resolve(io.cwd, dict ?? defaultSettings.dictionary.path),
    log,
    workers: defaultWorkers(),
  });
  const h = await teacher.health();
  const server = await serveTeacher(teacher, { port, log, ...(token ? { token } : {}) });
  io.stdout.write(`listening on ${server.url}\n`);
  io.stderr.write(`${h.detail}\n`);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) return resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  await teacher.close();
  return 0;
}

async function health(args: string[], io: CliIO): Promise<number> {
  const { values, positional } = parseArgs(args, { values: ['teacher', 'url', 'glmtts'] });
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const backend = (values.get('teacher') ?? 'embedded') as TeacherBackendKind;
  if (!['embedded', 'http', 'glmtts-cli'].includes(backend)) throw new UsageError('--teacher must be embedded, http or glmtts-cli');
  const teacher = createTeacher(defaultSettings, {
    backend,
    baseDir: io.cwd,
    ...(values.get('url') ? { httpUrl: values.get('url')! } : {}),
    ...(values.get('glmtts') ? { glmttsPath: values.get('glmtts')! } : {}),
    ...(io.env[TOKEN_ENV] ? { token: io.env[TOKEN_ENV] } : {}),
  });
  const h = await teacher.health();
  await teacher.close?.();
  io.stdout.write(`${h.ok ? 'ok' : 'not ready'}: ${h.detail}\n`);
  return h.ok ? 0 : 1;
}
