import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultSettings, withDefaults } from '../../server/src/core/settings';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
type Contributed = { default: unknown; markdownDescription?: string; description?: string };
// contributes.configuration is an array of titled sections; descriptions are %keys% of package.nls.json.
const nls: Record<string, string> = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.nls.json'), 'utf8'));
const localized = (text?: string) => text?.replace(/^%(.+)%$/, (_, key: string) => nls[key] ?? '');
const contributed: Record<string, Contributed> = {};
for (const section of [pkg.contributes.configuration].flat() as Array<{ properties: Record<string, Contributed> }>) {
  for (const [key, c] of Object.entries(section.properties))
    contributed[key] = { ...c, markdownDescription: localized(c.markdownDescription), description: localized(c.description) };
}

function flatten(o: Record<string, unknown>, prefix = 'ttsDistill'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = `${prefix}.${k}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

describe('settings: package.json and the typed accessor stay in step', () => {
  const flat = flatten(defaultSettings as unknown as Record<string, unknown>);

  it('every typed setting is contributed with the same default and a description', () => {
    for (const [key, value] of Object.entries(flat)) {
      const c = contributed[key];
      assert.ok(c, `${key} is missing from contributes.configuration`);
      assert.deepEqual(c.default, value, `default of ${key}`);
      assert.ok((c.markdownDescription ?? c.description ?? '').length > 10, `${key} needs a description`);
    }
  });

  it('every contributed setting exists in the typed settings', () => {
    for (const key of Object.keys(contributed)) assert.ok(key in flat, `${key} is contributed but not in Settings`);
  });

  it('merges partial settings over the defaults and ignores values of the wrong type', () => {
    const s = withDefaults({ polyphones: { severity: 'warning', ignore: 'nope' }, batch: { concurrency: 8 } });
    assert.equal(s.polyphones.severity, 'warning');
    assert.deepEqual(s.polyphones.ignore, defaultSettings.polyphones.ignore);
    assert.equal(s.batch.concurrency, 8);
    assert.equal(s.batch.seed, 42);
  });
});
