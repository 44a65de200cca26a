import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

// package.json against the conventions of vscode-yaml, vscode-eslint and rust-analyzer.
const REPO = path.join(__dirname, '..', '..');
const read = (p: string) => JSON.parse(readFileSync(path.join(REPO, p), 'utf8'));
const pkg = read('package.json');
const nls: Record<string, string> = read('package.nls.json');
const zh: Record<string, string> = read('package.nls.zh-cn.json');
const c = pkg.contributes;
type Prop = {
  type?: string | string[];
  enum?: unknown[];
  enumDescriptions?: string[];
  markdownEnumDescriptions?: string[];
  scope?: string;
};
const sections: Array<{ title: string; properties: Record<string, Prop> }> = c.configuration;
const props: Record<string, Prop> = Object.assign({}, ...sections.map((s) => s.properties));
const placeholders = (s: string) => [...s.matchAll(/\{\d+\}/g)].map((m) => m[0]).sort();

describe('package.json: VS Code conventions', () => {
  it('activates only for our files, languages and commands', () => {
    for (const e of pkg.activationEvents as string[]) {
      assert.ok(!['*', 'onStartupFinished', 'onLanguage:json'].includes(e), `too broad: ${e}`);
      assert.match(
        e,
        /^(workspaceContains:\*\*\/(\*\.tasks\.jsonl|G2P_replace_dict\.jsonl|\*\.g2p\.jsonl)|onLanguage:(tts-tasks|g2p-dict|jsonl)|onWebviewPanel:ttsDistill\.\w+)$/,
        e,
      );
    }
  });

  it('views, palette entries and folder menus are gated by ttsDistill.active', () => {
    for (const v of c.views.explorer) assert.match(v.when, /ttsDistill\.active/, v.id);
    for (const m of c.menus['explorer/context'])
      if (/explorerResourceIsFolder/.test(m.when)) assert.match(m.when, /ttsDistill\.active/, m.command);
    const palette = new Map<string, string>(c.menus.commandPalette.map((m: { command: string; when: string }) => [m.command, m.when]));
    for (const cmd of c.commands as Array<{ command: string }>) {
      if (cmd.command === 'ttsDistill.openSampleWorkspace') continue; // the walkthrough's first step: always available
      const when = palette.get(cmd.command);
      assert.ok(when, `${cmd.command} has no commandPalette when clause`);
      assert.match(
        when,
        /ttsDistill\.active|editorLangId == (tts-tasks|g2p-dict)|ttsDistill\.batchRunning|^false$/,
        `${cmd.command}: ${when}`,
      );
    }
  });

  it('runs in the workspace extension host; no virtual workspaces; program settings restricted in untrusted workspaces', () => {
    assert.deepEqual(pkg.extensionKind, ['workspace']);
    assert.equal(pkg.capabilities.virtualWorkspaces.supported, false);
    assert.ok(nls[pkg.capabilities.virtualWorkspaces.description.slice(1, -1)]!.length > 20, 'says why');
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of [
      'ttsDistill.slurm.commandPrefix',
      'ttsDistill.slurm.sbatchArgs',
      'ttsDistill.student.trainCommand',
      'ttsDistill.teacher.glmttsPath',
      'ttsDistill.teacher.glmttsPython',
      'ttsDistill.teacher.glmttsCommandPrefix',
    ]) {
      assert.ok(restricted.includes(key), key);
      assert.ok(props[key], `${key} is a setting`);
    }
    for (const key of [
      'ttsDistill.teacher.glmttsPath',
      'ttsDistill.teacher.glmttsPython',
      'ttsDistill.teacher.glmttsCommandPrefix',
      'ttsDistill.slurm.commandPrefix',
      'ttsDistill.student.trainCommand',
    ]) {
      assert.equal(props[key]!.scope, 'machine-overridable', key);
    }
  });

  it('settings come in titled sections; every enum has a description per value', () => {
    assert.ok(Array.isArray(c.configuration) && sections.length >= 5);
    for (const s of sections) {
      assert.ok(s.title && Object.keys(s.properties).length, s.title);
      for (const key of Object.keys(s.properties)) assert.ok(key.startsWith('ttsDistill.'), key);
    }
    for (const [key, p] of Object.entries(props)) {
      if (!p.enum) continue;
      const d = p.markdownEnumDescriptions ?? p.enumDescriptions;
      assert.ok(d && d.length === p.enum.length, `${key}: one description per enum value`);
    }
  });

  it('the WAV editor is an option, not a forced association', () => {
    assert.ok(!c.configurationDefaults?.['workbench.editorAssociations']);
    for (const e of c.customEditors) assert.equal(e.priority, 'option');
  });

  it('icon, CHANGELOG, vscode:prepublish, wavefile only for tests', () => {
    const png = readFileSync(path.join(REPO, pkg.icon));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(png.readUInt32BE(16), 128);
    assert.ok(existsSync(path.join(REPO, 'CHANGELOG.md')));
    assert.match(pkg.scripts['vscode:prepublish'], /build/);
    assert.ok(!pkg.dependencies.wavefile && pkg.devDependencies.wavefile);
    const imports = (dir: string): string[] =>
      readdirSync(path.join(REPO, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .filter((f) => /from 'wavefile'|require\('wavefile'\)/.test(readFileSync(path.join(REPO, dir, f), 'utf8')));
    assert.deepEqual([...imports('server/src'), ...imports('client/src')], [], 'shipped code does not import wavefile');
  });

  it('every %key% has an English text; the Chinese texts are for existing keys and keep their command links', () => {
    const used = [...JSON.stringify(pkg).matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]!);
    assert.ok(used.length > 50);
    for (const k of used) assert.ok(nls[k], `package.nls.json lacks ${k}`);
    for (const [k, v] of Object.entries(zh)) {
      assert.ok(k in nls, `zh-cn has a stale key ${k}`);
      assert.deepEqual(
        [...v.matchAll(/\(command:[^)]+\)/g)].map((m) => m[0]),
        [...nls[k]!.matchAll(/\(command:[^)]+\)/g)].map((m) => m[0]),
        k,
      );
      assert.match(v, /[\u4e00-\u9fff]|^TTS Distill/, `${k} is translated`);
    }
    for (const k of used.filter((x) => /^(command|view|walkthrough|config\.section|category|description)/.test(x)))
      assert.ok(zh[k], `zh-cn lacks ${k}`);
  });

  it('every runtime message of the client (vscode.l10n.t) has a Chinese text with the same placeholders', () => {
    const bundle: Record<string, string> = read(path.join(pkg.l10n, 'bundle.l10n.zh-cn.json'));
    const files = readdirSync(path.join(REPO, 'client', 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    let n = 0;
    for (const f of files) {
      const text = readFileSync(path.join(REPO, 'client', 'src', f), 'utf8');
      for (const m of text.matchAll(/l10n\.t\(\s*'((?:[^'\\]|\\.)*)'/g)) {
        const key = m[1]!.replace(/\\'/g, "'").replace(/\\n/g, '\n');
        n++;
        assert.ok(bundle[key], `${f}: no zh-cn text for ${JSON.stringify(key)}`);
        assert.deepEqual(placeholders(bundle[key]!), placeholders(key), key);
      }
    }
    assert.ok(n > 40, `${n} messages`);
  });

  it('the walkthrough’s media, the sample workspace and the translations are shipped in the .vsix', () => {
    const ignore = readFileSync(path.join(REPO, '.vscodeignore'), 'utf8');
    for (const w of c.walkthroughs) for (const s of w.steps) assert.ok(existsSync(path.join(REPO, s.media.markdown)), s.media.markdown);
    for (const line of [
      '!package.nls*.json',
      '!l10n/*.json',
      '!media/walkthrough/*.md',
      '!sample-workspace/*.jsonl',
      '!sample-workspace/prompts/*.wav',
    ])
      assert.ok(ignore.includes(line), line);
    assert.ok(existsSync(path.join(REPO, 'sample-workspace', 'demo.tasks.jsonl')));
  });

  it('declares the tts-distill task type and the $tts-distill problem matcher', () => {
    assert.equal(c.taskDefinitions[0].type, 'tts-distill');
    assert.ok(c.taskDefinitions[0].properties.command.enum.includes('validate'));
    const m = c.problemMatchers.find((x: { name: string }) => x.name === 'tts-distill');
    assert.ok(new RegExp(m.pattern.regexp).test('a.tasks.jsonl:3:7: warning: something'));
  });
});
