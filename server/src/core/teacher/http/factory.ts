/**
 * The HTTP teacher for `ttsDistill.teacher.httpProtocol`: our own protocol (../http.ts) or an
 * adapter for a community GLM-TTS server.
 */
import { HTTP_PROTOCOLS, type HttpProtocol } from '../../settings';
import { HttpTeacher, type HttpTeacherOptions } from '../http';
import type { Teacher } from '../types';
import { FastapiGatewayTeacher } from './fastapiGateway';
import { GlmTtsServerTeacher } from './glmTtsServer';

export { HTTP_PROTOCOLS, type HttpProtocol };

export function isHttpProtocol(v: unknown): v is HttpProtocol {
  return typeof v === 'string' && (HTTP_PROTOCOLS as readonly string[]).includes(v);
}

/** Throws (a message naming the setting) for a protocol that is not one of HTTP_PROTOCOLS. */
export function createHttpTeacher(protocol: unknown, opts: HttpTeacherOptions & { log?(message: string): void }): Teacher {
  if (!isHttpProtocol(protocol))
    throw new Error(`ttsDistill.teacher.httpProtocol ${JSON.stringify(protocol)} is not one of ${HTTP_PROTOCOLS.join(', ')}`);
  const common = {
    url: opts.url,
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.maxPromptBytes !== undefined ? { maxPromptBytes: opts.maxPromptBytes } : {}),
    ...(opts.maxResponseBytes !== undefined ? { maxResponseBytes: opts.maxResponseBytes } : {}),
  };
  switch (protocol) {
    case 'tts-distill': {
      const { log: _log, ...rest } = opts;
      return new HttpTeacher(rest);
    }
    case 'glm-tts-server':
      return new GlmTtsServerTeacher({ ...common, ...(opts.model ? { model: opts.model } : {}), ...(opts.log ? { log: opts.log } : {}) });
    case 'fastapi-gateway':
      return new FastapiGatewayTeacher(common);
  }
}
