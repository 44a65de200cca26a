// Dictionary installs into a GLM-TTS checkout never write through a symbolic link: a cloned checkout may ship
// configs/G2P_replace_dict.jsonl (or the install marker) as a link to a file of the user's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { localCheckoutFiles } from '../../server/src/core/teacher/dictionaryInstall';
import { UnsafeFileError } from '../../server/src/core/util/safeFs';
import { tempDir } from './helpers';

const NEW = '{"银行": "银<|H|><|ANG2|>"}\n';

for (const name of ['G2P_replace_dict.jsonl', 'marker']) {
  test(`a symlinked ${name} in the checkout's configs/ stops the install; the link's target is unchanged`, async (t) => {
    const dir = await tempDir(t);
    const configs = path.join(dir, 'checkout', 'configs');
    await mkdir(configs, { recursive: true });
    const victim = path.join(dir, 'victim.txt');
    await writeFile(victim, 'precious\n');
    const files = localCheckoutFiles(path.join(dir, 'checkout'));
    // The marker's file name is the module's own: find it by installing once into a scratch checkout.
    let linkName = name;
    if (name === 'marker') {
      const scratch = path.join(dir, 'scratch');
      await localCheckoutFiles(scratch).install(NEW, undefined, 'mark');
      linkName = (await readdir(path.join(scratch, 'configs'))).find((f) => f !== 'G2P_replace_dict.jsonl')!;
      assert.ok(linkName, 'the install writes a marker beside the dictionary');
    }
    await symlink(victim, path.join(configs, linkName));
    await assert.rejects(files.install(NEW, 'G2P_replace_dict.jsonl.bak', 'mark'), UnsafeFileError);
    assert.equal(await readFile(victim, 'utf8'), 'precious\n');
    assert.deepEqual(
      (await readdir(configs)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp file left behind',
    );
  });
}

test('a regular checkout dictionary is replaced atomically and kept as the backup', async (t) => {
  const dir = await tempDir(t);
  const configs = path.join(dir, 'checkout', 'configs');
  await mkdir(configs, { recursive: true });
  await writeFile(path.join(configs, 'G2P_replace_dict.jsonl'), '{"a": "b"}\n');
  await localCheckoutFiles(path.join(dir, 'checkout')).install(NEW, 'G2P_replace_dict.jsonl.bak', 'mark');
  assert.equal(await readFile(path.join(configs, 'G2P_replace_dict.jsonl'), 'utf8'), NEW);
  assert.equal(await readFile(path.join(configs, 'G2P_replace_dict.jsonl.bak'), 'utf8'), '{"a": "b"}\n');
});
