import type { ServerContext } from '../context';

/** Plugs the student feature into the language server. */
export function register(_ctx: ServerContext): void {
  // Nothing yet.
}
