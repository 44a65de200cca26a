import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type { Settings, TeacherBackendKind } from '../settings';
import { EmbeddedTeacher } from './embedded';
import { GlmttsCliTeacher } from './glmttsCli';
import { createHttpTeacher } from './http/factory';
import type { Teacher } from './types';

export * from './types';
export { EmbeddedTeacher } from './embedded';
export { GlmttsCliTeacher } from './glmttsCli';
export { HttpTeacher, serveTeacher } from './http';
export { createHttpTeacher, HTTP_PROTOCOLS, type HttpProtocol, isHttpProtocol } from './http/factory';
export { GlmTtsServerTeacher } from './http/glmTtsServer';
export { FastapiGatewayTeacher } from './http/fastapiGateway';

export interface CreateTeacherOptions {
  backend?: TeacherBackendKind;
  /** Folder that relative setting paths (dictionary, GLM-TTS checkout) are resolved against. */
  baseDir: string;
  /** The G2P dictionary file for the embedded teacher (absolute, or relative to baseDir); default: the setting. */
  dictionaryFile?: string;
  /** HTTP bearer token: from SecretStorage or the environment, never from settings. */
  token?: string;
  /** Overrides of the settings (CLI flags). */
  httpUrl?: string;
  /** `--http-protocol`: overrides ttsDistill.teacher.httpProtocol. */
  httpProtocol?: string;
  glmttsPath?: string;
  /** glmtts-cli: the checkout's G2P dictionary differs and was not written by tts-distill — replace it (with a backup)? Absent: refuse. */
  confirmDictionaryReplace?(question: { file: string; message: string }): Promise<boolean>;
  log?(message: string): void;
  /** Worker threads of the embedded teacher; default: one per spare core, at most 4, at least 1. */
  workers?: number;
}

/** The teacher the settings (and overrides) describe. */
export function createTeacher(settings: Settings, o: CreateTeacherOptions): Teacher {
  const backend = o.backend ?? settings.teacher.backend;
  switch (backend) {
    case 'embedded':
      return new EmbeddedTeacher({
        dictionaryFile: path.resolve(o.baseDir, o.dictionaryFile ?? settings.dictionary.path),
        workers: o.workers ?? defaultWorkers(),
        ...(o.log ? { log: o.log } : {}),
      });
    case 'http':
      return createHttpTeacher(o.httpProtocol ?? settings.teacher.httpProtocol, {
        url: o.httpUrl ?? settings.teacher.httpUrl,
        model: settings.teacher.httpModel,
        ...(o.token ? { token: o.token } : {}),
        maxPromptBytes: settings.promptAudio.maxMegabytes * 1048576,
        maxResponseBytes: settings.teacher.httpMaxResponseMegabytes * 1048576,
        ...(o.log ? { log: o.log } : {}),
      });
    case 'glmtts-cli': {
      const root = o.glmttsPath ?? settings.teacher.glmttsPath;
      return new GlmttsCliTeacher({
        root: root ? path.resolve(o.baseDir, root) : '',
        python: settings.teacher.glmttsPython,
        prefix: settings.teacher.glmttsCommandPrefix,
        usePhoneme: settings.teacher.glmttsUsePhoneme,
        expName: settings.teacher.glmttsExpName,
        // The workspace dictionary is installed as the checkout's configs/G2P_replace_dict.jsonl before the first run.
        dictionaryFile: path.resolve(o.baseDir, o.dictionaryFile ?? settings.dictionary.path),
        ...(o.confirmDictionaryReplace ? { confirmDictionaryReplace: o.confirmDictionaryReplace } : {}),
        // A run that prints nothing and writes nothing for a request's time limit is hung.
        stallTimeoutMs: settings.batch.timeoutSeconds * 1000,
        ...(o.log ? { log: o.log } : {}),
      });
    }
  }
}

/** Synthesis worker threads: one per spare core, at most 4, at least 1. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
