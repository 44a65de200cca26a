/**
 * Pins that reach the teacher. GLM-TTS reads its G2P dictionary only from
 * `<checkout>/configs/G2P_replace_dict.jsonl` (frontend.py), line by line with `json.loads` +
 * `dict.update`: a rule-dialect line there adds the literal keys "word", "context" and "phoneme",
 * and a line that is not a JSON object aborts the run. Before a glmtts-cli run the workspace
 * dictionary, converted to the upstream dialect, is installed there: atomically (temp + rename),
 * the previous file kept as a backup, a marker beside it recording the sha256 of what we wrote —
 * a file that differs and was not written by us is replaced only when the user says so.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { convertDictionaryText, detectDictDialect } from '../pronunciation/dictionary';
import { assertRegularOrAbsent } from '../util/safeFs';

export const CHECKOUT_DICT = 'G2P_replace_dict.jsonl';
/** Beside it in configs/: the sha256 of the file tts-distill last wrote there. */
export const INSTALL_MARK = '.G2P_replace_dict.jsonl.tts-distill';
export const BACKUP_SUFFIX = '.bak';

export const sha256Hex = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

export class DictionaryInstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DictionaryInstallError';
  }
}

/**
 * The dictionary text in the dialect GLM-TTS reads, or why it cannot be installed (lines that
 * have no upstream form: GLM-TTS would abort on them or add wrong keys).
 */
export function upstreamDictionaryText(text: string, file: string): { text: string } | { problems: string[] } {
  const { text: converted, notes } = convertDictionaryText(text, 'upstream');
  if (notes.length) return { problems: notes.map((n) => `${path.basename(file)}:${n.line + 1}: ${n.message.replace(/: kept.*$/, '')}`) };
  // Blank lines are skipped upstream; one line per entry, ending with a newline.
  const lines = converted.split('\n').filter((l) => l.trim());
  return { text: lines.length ? lines.join('\n') + '\n' : '' };
}

/** The sha256 a run records for a dictionary file: of its upstream-dialect form (what GLM-TTS reads); an absent file is an empty dictionary. */
export async function dictionaryFileSha256(file: string | undefined): Promise<string | null> {
  if (!file) return sha256Hex('');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? sha256Hex('') : null;
  }
  const up = upstreamDictionaryText(text, file);
  return 'text' in up ? sha256Hex(up.text) : null;
}

/** Reads and writes files of the checkout: directly, or through `glmttsCommandPrefix` (ssh …) for a remote one. */
export interface CheckoutFiles {
  /** The file's text, or undefined when it does not exist. */
  read(rel: string): Promise<string | undefined>;
  /** Writes `configs/G2P_replace_dict.jsonl` atomically, copying the previous file to `backupName` first (when given), then the marker. */
  install(text: string, backupName: string | undefined, mark: string): Promise<void>;
  /** Where the checkout is, for messages. */
  readonly where: string;
}

export function localCheckoutFiles(root: string): CheckoutFiles {
  const configs = path.join(root, 'configs');
  return {
    where: configs,
    async read(rel) {
      try {
        return await readFile(path.join(configs, rel), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async install(text, backupName, mark) {
      await mkdir(configs, { recursive: true });
      const target = path.join(configs, CHECKOUT_DICT);
      const tmp = path.join(configs, `.${CHECKOUT_DICT}.${process.pid}.${Date.now().toString(36)}.tmp`);
      const markFile = path.join(configs, INSTALL_MARK);
      // Nothing is written or copied through a symbolic link (a cloned checkout may ship one to a file of the user's).
      await assertRegularOrAbsent(target, CHECKOUT_DICT);
      await assertRegularOrAbsent(markFile, INSTALL_MARK);
      if (backupName) await assertRegularOrAbsent(path.join(configs, backupName), backupName);
      const markTmp = `${tmp}.mark`;
      try {
        await writeFile(tmp, text, { flag: 'wx' });
        if (backupName)
          await copyFile(target, path.join(configs, backupName)).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
          });
        await rename(tmp, target);
        await writeFile(markTmp, mark + '\n', { flag: 'wx' });
        await rename(markTmp, markFile);
      } finally {
        await rm(tmp, { force: true });
        await rm(markTmp, { force: true });
      }
    },
  };
}

/** The same through a command prefix: each operation is one `sh -c` on the other side, the text on its standard input. */
export function prefixedCheckoutFiles(root: string, prefix: string[], env?: NodeJS.ProcessEnv): CheckoutFiles {
  const configs = `${root.replace(/\/+$/, '')}/configs`;
  const run = (script: string, input?: string) => runPrefixed(prefix, script, input, env);
  return {
    where: `${configs} via ${prefix.join(' ')}`,
    async read(rel) {
      const r = await run(`f=${shq(`${configs}/${rel}`)}; if [ -f "$f" ]; then cat "$f"; else exit 3; fi`);
      if (r.code === 3) return undefined;
      if (r.code !== 0) throw new Error(`cannot read ${configs}/${rel} via ${prefix.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
      return r.stdout;
    },
    async install(text, backupName, mark) {
      const script = [
        'set -e',
        `mkdir -p ${shq(configs)}`,
        `cd ${shq(configs)}`,
        `t=.${CHECKOUT_DICT}.$$.tmp`,
        'trap \'rm -f "$t"\' EXIT',
        'cat > "$t"',
        ...(backupName ? [`if [ -f ${CHECKOUT_DICT} ]; then cp -p ${CHECKOUT_DICT} ${shq(backupName)}; fi`] : []),
        `mv -f "$t" ${CHECKOUT_DICT}`,
        `printf '%s\\n' ${shq(mark)} > ${INSTALL_MARK}`,
      ].join('\n');
      const r = await run(script, text);
      if (r.code !== 0)
        throw new Error(`cannot install the dictionary in ${configs} via ${prefix.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    },
  };
}

/** argv for running `shell` through a prefix: ssh joins its arguments into one remote command; others (srun, env…) pass argv on. */
export function prefixedArgv(prefix: string[], shell: string): { command: string; argv: string[] } {
  const command = prefix[0]!;
  const argv = path.basename(command) === 'ssh' ? [...prefix.slice(1), `sh -c ${shq(shell)}`] : [...prefix.slice(1), 'sh', '-c', shell];
  return { command, argv };
}

function runPrefixed(
  prefix: string[],
  script: string,
  input: string | undefined,
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, argv } = prefixedArgv(prefix, script);
  return new Promise((resolve) => {
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err) => resolve({ code: null, stdout, stderr: err.message }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

export function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface InstallOptions {
  files: CheckoutFiles;
  /** The workspace dictionary (either dialect); undefined or missing: the checkout's own dictionary is used as it is. */
  dictionaryFile?: string;
  /** The checkout's file (local checkouts), to notice that the workspace dictionary IS that file. */
  checkoutFile?: string;
  /** The checkout's file differs and was not written by tts-distill: replace it (keeping a backup)? Absent: refuse. */
  confirmReplace?(question: { file: string; message: string }): Promise<boolean>;
  log?(message: string): void;
}

export interface InstallResult {
  /** sha256 of the dictionary GLM-TTS will read. */
  sha256: string;
  action: 'installed' | 'unchanged' | 'checkout-own';
  backup?: string;
}

/** Makes `<checkout>/configs/G2P_replace_dict.jsonl` the workspace dictionary (see the module comment). */
export async function installDictionary(o: InstallOptions): Promise<InstallResult> {
  const where = `${o.files.where}/${CHECKOUT_DICT}`;
  const useCheckoutOwn = async (why: string): Promise<InstallResult> => {
    const current = await o.files.read(CHECKOUT_DICT);
    if (current === undefined)
      throw new DictionaryInstallError(`${where} does not exist: GLM-TTS cannot start with --use_phoneme without it (${why}).`);
    checkNotRuleDialect(current, where);
    o.log?.(`glmtts: ${why}: GLM-TTS uses ${where} as it is`);
    return { sha256: sha256Hex(current), action: 'checkout-own' };
  };
  if (!o.dictionaryFile) return useCheckoutOwn('no workspace dictionary configured');
  if (o.checkoutFile && path.resolve(o.dictionaryFile) === path.resolve(o.checkoutFile))
    return useCheckoutOwn("the workspace dictionary is the checkout's own file");
  let source: string;
  try {
    source = await readFile(o.dictionaryFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return useCheckoutOwn(`${o.dictionaryFile} does not exist`);
    throw new DictionaryInstallError(`cannot read the workspace dictionary ${o.dictionaryFile}: ${(err as Error).message}`);
  }
  const up = upstreamDictionaryText(source, o.dictionaryFile);
  if ('problems' in up) {
    throw new DictionaryInstallError(
      `the workspace dictionary cannot be installed for GLM-TTS: these lines have no upstream form (GLM-TTS would abort or add wrong keys): ${up.problems.slice(0, 5).join('; ')}${up.problems.length > 5 ? ` (+${up.problems.length - 5} more)` : ''}`,
    );
  }
  const text = up.text;
  const sha = sha256Hex(text);
  const current = await o.files.read(CHECKOUT_DICT);
  if (current === text) {
    const mark = (await o.files.read(INSTALL_MARK))?.trim();
    if (mark !== sha) await o.files.install(text, undefined, sha);
    return { sha256: sha, action: 'unchanged' };
  }
  let backup: string | undefined;
  if (current !== undefined) {
    const mark = (await o.files.read(INSTALL_MARK))?.trim();
    const ours = mark === sha256Hex(current);
    if (ours) backup = CHECKOUT_DICT + BACKUP_SUFFIX;
    else {
      const d = detectDictDialect(current),
        rule = d === 'rule' || d === 'mixed';
      const message = `${where} differs from the workspace dictionary ${o.dictionaryFile} and was not written by tts-distill${rule ? ' (it is in the rule dialect, which GLM-TTS misreads: it would add the keys "word", "context" and "phoneme")' : ''}. GLM-TTS reads only that file, so pins made in the editor would be ignored. Replace it (the current file is kept as a backup)?`;
      const yes = o.confirmReplace ? await o.confirmReplace({ file: where, message }) : false;
      if (!yes)
        throw new DictionaryInstallError(
          `${message.replace(/ Replace it.*$/, '')} Not replaced${o.confirmReplace ? '' : ': pass --install-dictionary to replace it (a backup is kept)'}.`,
        );
      // The user's own file: a backup name of its own, never overwritten by a later backup.
      backup = `${CHECKOUT_DICT}.${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}${BACKUP_SUFFIX}`;
    }
  }
  await o.files.install(text, backup, sha);
  o.log?.(
    `glmtts: installed the workspace dictionary as ${where} (sha256 ${sha.slice(0, 12)}…)${backup ? `; the previous file is kept as ${backup}` : ''}`,
  );
  return backup ? { sha256: sha, action: 'installed', backup } : { sha256: sha, action: 'installed' };
}

/** A rule-dialect file where GLM-TTS reads the upstream dialect is an error. */
export function checkNotRuleDialect(text: string, where: string): void {
  const d = detectDictDialect(text);
  if (d === 'rule' || d === 'mixed') {
    throw new DictionaryInstallError(
      `${where} ${d === 'mixed' ? 'has lines' : 'is'} in the rule dialect ({"word", "context", "phoneme"}): GLM-TTS reads each line as replacements, so it would add the literal keys "word", "context" and "phoneme" and pin nothing. Convert it to the upstream dialect (tts-distill dict convert --to upstream).`,
    );
  }
}
