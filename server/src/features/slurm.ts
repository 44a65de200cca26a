import type { ServerContext } from '../context';

/** Plugs the slurm feature into the language server. */
export function register(_ctx: ServerContext): void {
  // Nothing yet.
}
