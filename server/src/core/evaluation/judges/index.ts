// The judge the settings ask for.
import type { Settings } from '../../settings';
import { CommandJudge } from './commandJudge';
import type { Judge } from './judge';
import { RewardServerJudge } from './rewardServer';
import type { JudgeBackend } from './types';

export { JUDGES_FILE } from './apply';
export type { Judge };

/** Undefined for `none`; throws RangeError with a message for the user when the settings cannot work. */
export function createJudge(
  settings: Settings['judges'],
  backend: JudgeBackend,
  opts: { workDir: string; cwd?: string; urls?: string[] },
): Judge | undefined {
  if (backend === 'none') return undefined;
  if (backend === 'command') return new CommandJudge({ command: settings.command, workDir: opts.workDir, cwd: opts.cwd });
  if (backend !== 'reward') throw new RangeError(`unknown judge ${String(backend)} (reward, command or none)`);
  return new RewardServerJudge({
    urls: opts.urls?.length ? opts.urls : settings.rewardUrls,
    pathMap: settings.pathMap,
    timeoutSeconds: settings.timeoutSeconds > 0 ? settings.timeoutSeconds : 120,
    ...(settings.concurrency > 0 ? { concurrency: Math.floor(settings.concurrency) } : {}),
    retries: Math.max(0, Math.floor(settings.retries)),
  });
}
