// `tts-distill submit`: the batch runner on one machine (resumes when the folder holds an earlier run).
import * as path from 'node:path';
import { FolderBusyError } from '../core/util/folderLock';
import { runBatch, type BatchProgress } from '../core/batch/runner';
import { UnsafeFileError } from '../core/util/safeFs';
import { defaultSettings, type TeacherBackendKind } from '../core/settings';
import { createTeacher, GlmttsCliTeacher, HTTP_PROTOCOLS, isHttpProtocol } from '../core/teacher';
import { DictionaryInstallError } from '../core/teacher/dictionaryInstall';
import { formatDuration } from '../../../protocol/lsp/teacher';
import { intOption, parseArgs } from './args';
import { type CliCommand, type CliIO, UsageError } from './types';

const BACKENDS: TeacherBackendKind[] = ['embedded', 'http', 'glmtts-cli'];
export const TOKEN_ENV = 'TTS_DISTILL_TEACHER_TOKEN';
const DISK_CODES = new Map([
  ['ENOSPC', 'the disk is full'],
  ['EDQUOT', 'the disk quota is exceeded'],
  ['EROFS', 'the file system is read-only'],
  ['EIO', 'an input/output error'],
]);

const usage = `Usage: tts-distill submit <tasks.jsonl> --out <dir> [--teacher embedded|http|glmtts-cli]
         [--concurrency N] [--seed N] [--timeout S] [--retries N] [--sample-rate 24000|32000]
         [--url U] [--http-protocol P] [--glmtts PATH] [--python CMD] [--exp-name NAME] [--dict FILE]
         [--dialect webui|upstream] [--valid-only] [--quiet] [--format text|json]
         [--slurm …  (tts-distill submit --slurm --help)]

Sends every task of the file to the teacher and writes <dir>/<output_name>.wav,
<dir>/manifest.jsonl (one record per finished line) and <dir>/failures.jsonl. Running it
again on the same <dir> resumes: lines whose record and WAV are intact and whose task did not
change are skipped. Ctrl+C stops cleanly; nothing finished is lost.

  --teacher B      embedded (default: offline, pinyin-pro + dictionary, espeak-ng audio when
                   installed; cannot clone voices), http, glmtts-cli
  --concurrency N  requests in flight (default ${defaultSettings.batch.concurrency}; glmtts-cli runs one process at a time)
  --seed N         seed passed to the teacher (default ${defaultSettings.batch.seed}; glmtts-cli always seeds with 0)
  --timeout S      time limit of one request in seconds (default ${defaultSettings.batch.timeoutSeconds})
  --retries N      retries of a transient failure, with exponential backoff (default ${defaultSettings.batch.retries})
  --sample-rate R  24000 (default) or 32000
  --url U          HTTP teacher base URL (default ${defaultSettings.teacher.httpUrl}); token from $${TOKEN_ENV}
  --http-protocol P  what the HTTP teacher speaks: tts-distill (default: ours, POST /v1/audio/speech with
                   the prompt inline), glm-tts-server (JerryAZR/GLM-TTS-Server: prompts uploaded once as
                   voices, ids kept in <dir>/glm-tts-server-voices.jsonl; seed fixed at 0), fastapi-gateway
                   (DuoHBshuijiao/GLM-TTS-FastAPI_Gateway: multipart POST /api/v1/tts). Both community
                   servers take one request at a time and report no readings (ours are recorded, marked)
  --glmtts PATH    GLM-TTS checkout for glmtts-cli (its glmtts_inference.py runs there)
  --python CMD     python that runs it (default ${defaultSettings.teacher.glmttsPython})
  --exp-name NAME  its --exp_name (default ${defaultSettings.teacher.glmttsExpName})
  --dict FILE      the workspace G2P dictionary (default ./${defaultSettings.dictionary.path} when present): the
                   embedded teacher applies it; for glmtts-cli it is installed, in the upstream dialect, as
                   the checkout's configs/G2P_replace_dict.jsonl (GLM-TTS reads no other)
  --install-dictionary  glmtts-cli: replace the checkout's dictionary even when it differs and was not
                   written by tts-distill (it is kept as a .bak backup); without it the run refuses (78)
  --dialect D      dialect to assume when the file does not show it
  --valid-only     leave out lines with errors instead of recording them as failures
  --quiet          no progress on stderr
  --format F       text (default) or json: one JSON object on stdout with the counts, the
                   output folder and the exit code (progress still goes to stderr)
Exit code: 0 every line done, 2 some lines failed, 130 cancelled, 75 the folder is in use by
another batch, 73 a file of the output folder is a symbolic link, FIFO or device (refused),
74 the disk is full or read-only, 78 the GLM-TTS checkout's dictionary cannot be installed, 64 bad usage.`;

export const submitCommand: CliCommand = {
  summary: 'run (or resume) a batch of tasks through the teacher',
  usage,
  async run(args, io) {
    if (args.includes('--slurm')) return (await import('./submitSlurm')).runSlurmSubmit(args, io);
    return runSubmit(args, io);
  },
};

async function runSubmit(args: string[], io: CliIO): Promise<number> {
  const { values, switches, positional } = parseArgs(args, {
    values: [
      'out',
      'teacher',
      'concurrency',
      'seed',
      'timeout',
      'retries',
      'sample-rate',
      'url',
      'http-protocol',
      'glmtts',
      'python',
      'exp-name',
      'dict',
      'dialect',
      'format',
    ],
    switches: ['valid-only', 'quiet', 'install-dictionary'],
  });
  if (positional.length !== 1) throw new UsageError('give exactly one task file');
  const format = values.get('format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('--format is text or json');
  const out = values.get('out');
  if (!out) throw new UsageError('--out <dir> is required');
  const backend = (values.get('teacher') ?? 'embedded') as TeacherBackendKind;
  if (!BACKENDS.includes(backend)) throw new UsageError(`--teacher must be one of ${BACKENDS.join(', ')}`);
  const httpProtocol = values.get('http-protocol');
  if (httpProtocol !== undefined && !isHttpProtocol(httpProtocol))
    throw new UsageError(`--http-protocol must be one of ${HTTP_PROTOCOLS.join(', ')}`);
  if (httpProtocol !== undefined && backend !== 'http') throw new UsageError('--http-protocol goes with --teacher http');
  const dialect = values.get('dialect');
  if (dialect !== undefined && dialect !== 'webui' && dialect !== 'upstream') throw new UsageError('--dialect must be webui or upstream');
  const sampleRate = intOption(values.get('sample-rate'), 'sample-rate', 24000, 32000) ?? defaultSettings.teacher.sampleRate;
  if (sampleRate !== 24000 && sampleRate !== 32000) throw new UsageError('--sample-rate must be 24000 or 32000');
  const timeout = values.get('timeout') === undefined ? defaultSettings.batch.timeoutSeconds : Number(values.get('timeout'));
  if (!(timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  const settings = structuredClone(defaultSettings);
  settings.batch.timeoutSeconds = timeout;
  settings.teacher.sampleRate = sampleRate;
  if (values.get('python')) settings.teacher.glmttsPython = values.get('python')!;
  if (values.get('exp-name')) settings.teacher.glmttsExpName = values.get('exp-name')!;
  if (backend === 'glmtts-cli' && !values.get('glmtts')) throw new UsageError('--glmtts <checkout> is required with --teacher glmtts-cli');
  const tasksFile = path.resolve(io.cwd, positional[0]!);
  const quiet = switches.has('quiet');
  const log = (m: string) => {
    if (!quiet || m.startsWith('✗')) io.stderr.write(m + '\n');
  };
  const teacher = createTeacher(settings, {
    backend,
    baseDir: io.cwd,
    log,
    ...(values.get('dict') ? { dictionaryFile: values.get('dict')! } : {}),
    ...(values.get('url') ? { httpUrl: values.get('url')! } : {}),
    ...(httpProtocol ? { httpProtocol } : {}),
    ...(values.get('glmtts') ? { glmttsPath: values.get('glmtts')! } : {}),
    ...(io.env[TOKEN_ENV] ? { token: io.env[TOKEN_ENV] } : {}),
    ...(switches.has('install-dictionary') ? { confirmDictionaryReplace: async () => true } : {}),
  });
  // Pins reach GLM-TTS only through its checkout's dictionary: installed (or refused) before anything runs.
  const glmtts: GlmttsCliTeacher | undefined = teacher instanceof GlmttsCliTeacher ? teacher : undefined;
  if (glmtts && settings.teacher.glmttsUsePhoneme) {
    try {
      await glmtts.prepare();
    } catch (err) {
      if (!(err instanceof DictionaryInstallError)) throw err;
      io.stderr.write(`tts-distill submit: ${err.message}\n`);
      return 78;
    }
  }
  let lastPrint = 0,
    lastLine = '';
  const onProgress = (p: BatchProgress) => {
    const now = Date.now();
    const finished = p.done + p.skipped + p.failed === p.total;
    if (quiet || (!finished && now - lastPrint < 1000)) return;
    const line = progressLine(p);
    if (line === lastLine) return;
    lastPrint = now;
    lastLine = line;
    io.stderr.write(`${line}\n`);
  };
  try {
    const s = await runBatch({
      tasksFile,
      ...(dialect ? { dialect: dialect as 'webui' | 'upstream' } : {}),
      validOnly: switches.has('valid-only'),
      outDir: path.resolve(io.cwd, out),
      teacher,
      concurrency: intOption(values.get('concurrency'), 'concurrency', 1, 256) ?? defaultSettings.batch.concurrency,
      seed: intOption(values.get('seed'), 'seed', 0, 2 ** 32 - 1) ?? defaultSettings.batch.seed,
      retries: intOption(values.get('retries'), 'retries', 0, 100) ?? defaultSettings.batch.retries,
      timeoutMs: timeout * 1000,
      sampleRate,
      signal: io.signal,
      onProgress,
      onLog: log,
      // Upstream prompt_speech paths are relative to the GLM-TTS checkout, else to the working folder.
      glmttsPath: values.get('glmtts') ? path.resolve(io.cwd, values.get('glmtts')!) : '',
      workspaceFolder: io.cwd,
    });
    const exitCode = s.cancelled ? 130 : s.failed > 0 ? 2 : 0;
    if (format === 'json') {
      io.stdout.write(
        JSON.stringify(
          {
            status: s.cancelled ? 'cancelled' : 'finished',
            tasksFile,
            teacher: backend,
            total: s.total,
            done: s.done,
            skipped: s.skipped,
            failed: s.failed,
            invalid: s.invalid ?? 0,
            outDir: s.outDir,
            manifest: path.join(s.outDir, 'manifest.jsonl'),
            failures: s.failed ? path.join(s.outDir, 'failures.jsonl') : null,
            elapsedMs: s.elapsedMs,
            exitCode,
          },
          null,
          2,
        ) + '\n',
      );
      return exitCode;
    }
    io.stdout.write(
      `${s.cancelled ? 'cancelled' : 'finished'}: ${s.total} line(s) — done ${s.done}, skipped ${s.skipped}, failed ${s.failed}${s.invalid ? `, left out ${s.invalid} with errors` : ''}\n`,
    );
    io.stdout.write(`outputs: ${s.outDir} (manifest.jsonl${s.failed ? ', failures.jsonl' : ''}) in ${(s.elapsedMs / 1000).toFixed(1)} s\n`);
    return exitCode;
  } catch (err) {
    if (err instanceof UnsafeFileError) {
      io.stderr.write(`tts-distill submit: ${err.message}\n`);
      return 73;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code && DISK_CODES.has(code)) {
      // What finished is kept (records are appended as lines finish); the temp files of the run are removed.
      io.stderr.write(
        `tts-distill submit: cannot write to ${path.resolve(io.cwd, out)}: ${DISK_CODES.get(code)} (${code}). The lines finished so far are kept; free space and run again to resume.\n`,
      );
      return 74;
    }
    if (!(err instanceof FolderBusyError)) throw err;
    io.stderr.write(`tts-distill submit: ${err.message}\n`);
    return 75;
  } finally {
    await teacher.close?.();
  }
}

export function progressLine(p: BatchProgress): string {
  const n = p.done + p.skipped + p.failed;
  const width = String(p.total).length;
  const eta = p.etaMs !== undefined && n < p.total ? ` · ETA ${formatDuration(p.etaMs)}` : '';
  return `[${String(n).padStart(width)}/${p.total}] done ${p.done}, skipped ${p.skipped}, failed ${p.failed}${eta}`;
}
