import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClientContext } from '../context';
import {
  DatasetCoverageRequest,
  DatasetExportRequest,
  DatasetSetVoiceLabelsRequest,
  DatasetSuggestRequest,
  DatasetVoicesRequest,
  type CoverageResult,
  type ExportFormat,
  type TextMode,
  type VoicesResult,
} from '../../../protocol/lsp/dataset';

type CoverageReport = CoverageResult['report'];
type Voice = VoicesResult['pool']['voices'][number];
const LABEL_KEYS = ['speaker', 'gender', 'age', 'accent', 'emotion'] as const;

/**
 * Dataset authoring: the Coverage view (every polyphone reading with its lines; thin readings
 * flagged; syllable, tone and phoneme-token coverage), the Voices view (prompt WAVs measured,
 * counted, labelled; labels edited into the sidecar) and Export Dataset…. The work happens in
 * the language server; this is glue.
 */
export function activate(ctx: ClientContext): void {
  const coverage = new CoverageTree(ctx);
  const voices = new VoicesTree(ctx);
  ctx.extension.subscriptions.push(
    vscode.window.registerTreeDataProvider('ttsDistill.coverage', coverage),
    vscode.window.registerTreeDataProvider('ttsDistill.voices', voices),
    vscode.commands.registerCommand('ttsDistill.refreshCoverage', () => coverage.refresh()),
    vscode.commands.registerCommand('ttsDistill.refreshVoices', () => voices.refresh()),
    vscode.commands.registerCommand('ttsDistill.editVoiceLabels', (item?: Node) => editVoiceLabels(ctx, voices, item)),
    vscode.commands.registerCommand('ttsDistill.exportDataset', (folder?: vscode.Uri) => exportDatasetCommand(ctx, folder)),
    vscode.commands.registerCommand('ttsDistill.suggestFromCorpus', () => suggestFromCorpus(ctx)),
    // Saved task files change both views.
    vscode.workspace.onDidSaveTextDocument((d) => {
      if (d.languageId === 'tts-tasks' || d.fileName.endsWith('voices.jsonl')) {
        coverage.refresh();
        voices.refresh();
      }
    }),
  );
}

interface Node {
  item: vscode.TreeItem;
  children?: () => Node[];
  voice?: Voice;
}

const leaf = (label: string, description?: string, icon?: string, tooltip?: string): Node => {
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  if (description) item.description = description;
  if (icon) item.iconPath = new vscode.ThemeIcon(icon);
  if (tooltip) item.tooltip = tooltip;
  return { item };
};

const branch = (label: string, description: string | undefined, children: () => Node[], expanded = false, icon?: string): Node => {
  const item = new vscode.TreeItem(label, expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
  if (description) item.description = description;
  if (icon) item.iconPath = new vscode.ThemeIcon(icon);
  return { item, children };
};

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');

function lineNode(file: string, line: number): Node {
  const n = leaf(`${vscode.workspace.asRelativePath(file)}:${line + 1}`, undefined, 'go-to-file');
  const pos = new vscode.Position(line, 0);
  n.item.command = { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(file), { selection: new vscode.Range(pos, pos) }] };
  return n;
}

abstract class Tree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  protected roots: Node[] | undefined;
  constructor(protected readonly ctx: ClientContext) {}
  refresh(): void {
    this.roots = undefined;
    this.changed.fire(undefined);
  }
  getTreeItem(n: Node): vscode.TreeItem {
    return n.item;
  }
  async getChildren(n?: Node): Promise<Node[]> {
    if (n) return n.children?.() ?? [];
    if (!vscode.workspace.workspaceFolders?.length) return [];
    try {
      this.roots ??= await this.load();
    } catch (err) {
      return [leaf((err as Error).message, undefined, 'error')];
    }
    return this.roots;
  }
  protected abstract load(): Promise<Node[]>;
}

class CoverageTree extends Tree {
  protected async load(): Promise<Node[]> {
    const res = await this.ctx.client.sendRequest(DatasetCoverageRequest.type, {
      uri: vscode.workspace.workspaceFolders?.[0]?.uri.toString(),
    });
    return coverageNodes(res.report, res.files.length);
  }
}

function coverageNodes(r: CoverageReport, files: number): Node[] {
  if (!r.lines) return [leaf(vscode.l10n.t('No task lines in this workspace'), vscode.l10n.t('{0} task file(s)', files), 'info')];
  const tones = Object.values(r.tones).reduce((a, b) => a + b, 0);
  const polyNode = (p: CoverageReport['polyphones'][number]): Node => {
    const n = branch(
      p.char,
      p.readings.map((x) => `${x.reading} ${x.lines}`).join(' · '),
      () =>
        p.readings.map((x) => {
          const src = (['dictionary', 'g2p', 'model'] as const)
            .filter((s) => x.sources[s])
            .map((s) => `${s} ${x.sources[s]}`)
            .join(', ');
          const rn = x.refs.length
            ? branch(
                x.reading,
                `${x.lines} line(s)${src ? ` · ${src}` : ''}${x.thin ? ' · thin' : ''}`,
                () => x.refs.map((l) => lineNode(l.file, l.line)),
                false,
                x.thin ? 'warning' : 'pass',
              )
            : leaf(x.reading, `no line${x.thin ? ' · thin' : ''}`, 'warning');
          return rn;
        }),
      false,
      p.thinReadings ? 'warning' : 'pass',
    );
    n.item.tooltip = `${p.char}: ${p.lines} line(s); ${p.thinReadings} thin reading(s) (fewer than ${r.minExamples} lines)`;
    return n;
  };
  return [
    leaf(vscode.l10n.t('Task lines'), `${r.lines} in ${files} file(s), ${r.hanCharacters} Han characters`, 'list-flat'),
    branch(
      vscode.l10n.t('Polyphones'),
      `${r.polyphones.length} characters, ${r.thin.length} thin readings`,
      () => r.polyphones.map(polyNode),
      true,
      'symbol-key',
    ),
    branch(
      vscode.l10n.t('Thin readings'),
      `${r.thin.length} (fewer than ${r.minExamples} lines)`,
      () => r.thin.map((t) => leaf(`${t.char} ${t.reading}`, `${t.lines} line(s)`, 'warning')),
      false,
      'warning',
    ),
    leaf(
      vscode.l10n.t('Syllables'),
      `${r.syllables.covered}/${r.syllables.total} (${pct(r.syllables.covered, r.syllables.total)}), with tones ${r.tonalSyllables.covered}/${r.tonalSyllables.total}`,
      'symbol-string',
      `Missing: ${r.syllables.missing.join(' ')}`,
    ),
    leaf(
      vscode.l10n.t('Tones'),
      (['1', '2', '3', '4', '5'] as const).map((t) => `${t}: ${pct(r.tones[t], tones)}`).join('  '),
      'symbol-number',
    ),
    leaf(
      vscode.l10n.t('Phoneme tokens'),
      `${r.phonemes.covered}/${r.phonemes.total} (${pct(r.phonemes.covered, r.phonemes.total)})`,
      'symbol-enum',
      `Missing: ${r.phonemes.missing.join(' ')}`,
    ),
    branch(
      vscode.l10n.t('Mixed language'),
      `${r.mixedLanguage.lines} line(s) (${pct(r.mixedLanguage.lines, r.lines)})`,
      () => r.mixedLanguage.refs.map((l) => lineNode(l.file, l.line)),
      false,
      'globe',
    ),
  ];
}

class VoicesTree extends Tree {
  protected async load(): Promise<Node[]> {
    const res = await this.ctx.client.sendRequest(DatasetVoicesRequest.type, {
      uri: vscode.workspace.workspaceFolders?.[0]?.uri.toString(),
    });
    const { pool } = res;
    if (!pool.voices.length) return [leaf(vscode.l10n.t('No prompt audio in the task files'), undefined, 'info')];
    const nodes: Node[] = pool.voices.map((v) => {
      const m = v.measures;
      const desc = m
        ? `${v.lines} line(s) · ${m.durationSeconds.toFixed(1)} s · ${m.sampleRate / 1000} kHz · ${m.channels} ch · F0 ${m.medianF0Hz === null ? '—' : m.medianF0Hz.toFixed(0)} Hz · ${m.speechDbfs.toFixed(1)} dBFS · SNR ${m.snrDb === null ? '—' : m.snrDb.toFixed(0)} dB`
        : `${v.lines} line(s) · ${v.problem}`;
      const n = branch(
        v.relative,
        desc,
        () =>
          LABEL_KEYS.map((k) => {
            const l = leaf(`${k}: ${v.labels[k] ?? '—'}`, v.labelSources[k] ? `from ${v.labelSources[k]}` : undefined, 'tag');
            l.item.contextValue = 'ttsDistill.voiceLabel';
            l.voice = v;
            l.item.command = { title: 'Edit', command: 'ttsDistill.editVoiceLabels', arguments: [{ ...l, labelKey: k }] };
            return l;
          }),
        false,
        m ? 'unmute' : 'error',
      );
      n.item.contextValue = 'ttsDistill.voice';
      n.item.resourceUri = vscode.Uri.file(v.audio);
      n.voice = v;
      return n;
    });
    if (pool.imbalance.length)
      nodes.unshift(
        branch(
          vscode.l10n.t('Imbalance'),
          `${pool.imbalance.length}`,
          () => pool.imbalance.map((i) => leaf(i, undefined, 'warning')),
          true,
          'warning',
        ),
      );
    return nodes;
  }
}

async function editVoiceLabels(ctx: ClientContext, tree: VoicesTree, item?: Node & { labelKey?: string }): Promise<void> {
  const voice = item?.voice;
  if (!voice) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Pick a voice in the Voices view to label it.'));
    return;
  }
  const key =
    item.labelKey ??
    (
      await vscode.window.showQuickPick(
        LABEL_KEYS.map((k) => ({ label: k, description: voice.labels[k] ?? '' })),
        { title: vscode.l10n.t('Label {0}', voice.relative) },
      )
    )?.label;
  if (!key) return;
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('{0} of {1}', key, voice.relative),
    value: voice.labels[key as (typeof LABEL_KEYS)[number]] ?? '',
    prompt: vscode.l10n.t('Empty removes the label'),
  });
  if (value === undefined) return;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(voice.audio)) ?? vscode.workspace.workspaceFolders?.[0];
  await ctx.client.sendRequest(DatasetSetVoiceLabelsRequest.type, {
    uri: folder?.uri.toString(),
    audio: voice.audio,
    labels: { [key]: value },
  });
  tree.refresh();
}

/** Teacher runs the settings point at (with a manifest), plus "choose a folder". */
async function pickRun(given?: vscode.Uri): Promise<{ dir: string; folder: vscode.WorkspaceFolder | undefined } | undefined> {
  if (given) return { dir: given.fsPath, folder: vscode.workspace.getWorkspaceFolder(given) };
  const items: Array<vscode.QuickPickItem & { dir?: string; folder?: vscode.WorkspaceFolder }> = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const batch = vscode.workspace.getConfiguration('ttsDistill.batch', f.uri);
    for (const key of ['outputDir', 'testOutputDir']) {
      const dir = path.resolve(f.uri.fsPath, batch.get<string>(key, ''));
      if (existsSync(path.join(dir, 'manifest.jsonl')) && !items.some((i) => i.dir === dir))
        items.push({ label: path.relative(f.uri.fsPath, dir) || dir, description: f.name, dir, folder: f });
    }
    // Other teacher runs in the folder: any sub-folder (two levels deep) holding a manifest.
    for (const dir of await runsUnder(f.uri.fsPath)) {
      if (!items.some((i) => i.dir === dir)) items.push({ label: path.relative(f.uri.fsPath, dir), description: f.name, dir, folder: f });
    }
  }
  items.push({ label: vscode.l10n.t('$(folder-opened) Choose a teacher run folder…') });
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Export Dataset: which teacher run?') });
  if (!pick) return undefined;
  if (pick.dir) return { dir: pick.dir, folder: pick.folder };
  const chosen = (
    await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: vscode.l10n.t('Export this teacher run'),
    })
  )?.[0];
  return chosen
    ? { dir: chosen.fsPath, folder: vscode.workspace.getWorkspaceFolder(chosen) ?? vscode.workspace.workspaceFolders?.[0] }
    : undefined;
}

/** Folders one or two levels under `root` (not dot folders or node_modules) that hold a manifest.jsonl, sorted. */
async function runsUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const subdirs = async (dir: string) =>
    (await readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
      .map((e) => path.join(dir, e.name));
  for (const a of await subdirs(root)) {
    if (existsSync(path.join(a, 'manifest.jsonl'))) out.push(a);
    for (const b of await subdirs(a)) if (existsSync(path.join(b, 'manifest.jsonl'))) out.push(b);
  }
  return out.sort();
}

async function exportDatasetCommand(ctx: ClientContext, given?: vscode.Uri): Promise<void> {
  const run = await pickRun(given);
  if (!run) return;
  const formats: Array<vscode.QuickPickItem & { format: ExportFormat }> = [
    { label: 'kaldi', description: vscode.l10n.t('wav.scp, text, utt2spk, spk2utt (ESPnet, WeNet, CosyVoice recipes)'), format: 'kaldi' },
    { label: 'cosyvoice', description: vscode.l10n.t("what CosyVoice's tools/make_parquet_list.py reads"), format: 'cosyvoice' },
    { label: 'hf', description: vscode.l10n.t('Hugging Face audiofolder (metadata.jsonl)'), format: 'hf' },
    { label: 'ljspeech', description: 'metadata.csv + wavs/', format: 'ljspeech' },
  ];
  const format = (await vscode.window.showQuickPick(formats, { title: vscode.l10n.t('Export Dataset: format') }))?.format;
  if (!format) return;
  const texts: Array<vscode.QuickPickItem & { text: TextMode }> = [
    { label: 'plain', description: vscode.l10n.t('the task text'), text: 'plain' },
    { label: 'pinyin', description: vscode.l10n.t("tone-numbered pinyin of the teacher's readings"), text: 'pinyin' },
    {
      label: 'tokens',
      description: vscode.l10n.t("the teacher's phoneme tokens: pinned readings survive into the student"),
      text: 'tokens',
    },
  ];
  const text = (await vscode.window.showQuickPick(texts, { title: vscode.l10n.t('Export Dataset: text') }))?.text;
  if (!text) return;
  const split = await vscode.window.showInputBox({
    title: vscode.l10n.t('Export Dataset: held-out splits (empty: train only)'),
    value: 'dev=5%,test=5%',
    prompt: vscode.l10n.t('name=N% or name=COUNT, comma-separated; whole speakers are held out'),
  });
  if (split === undefined) return;
  const base = run.folder?.uri.fsPath ?? path.dirname(run.dir);
  const outText = await vscode.window.showInputBox({
    title: vscode.l10n.t('Export Dataset: export folder'),
    value: path.join(base, 'export', format),
  });
  if (!outText) return;
  const out = path.resolve(base, outText);
  const params = {
    uri: run.folder?.uri.toString(),
    run: run.dir,
    format,
    out,
    text,
    ...(split.trim() ? { split: split.trim() } : {}),
    splitBy: 'speaker' as const,
  };
  const send = (force: boolean) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Exporting {0}…', format) }, () =>
      ctx.client.sendRequest(DatasetExportRequest.type, { ...params, force }),
    );
  let res;
  try {
    res = await send(false);
  } catch (err) {
    const message = (err as Error).message;
    if (!/not empty/.test(message)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Export Dataset: {0}', message));
      return;
    }
    const replace = await vscode.window.showWarningMessage(
      vscode.l10n.t('{0} is not empty. Replace the previous export there?', out),
      { modal: true },
      vscode.l10n.t('Replace'),
    );
    if (replace !== vscode.l10n.t('Replace')) return;
    try {
      res = await send(true);
    } catch (err2) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Export Dataset: {0}', (err2 as Error).message));
      return;
    }
  }
  const s = res.summary;
  const splits = Object.entries(s.splits)
    .map(([n, x]) => `${n} ${x.utterances}`)
    .join(', ');
  const choice = await vscode.window.showInformationMessage(
    s.leftOut.length
      ? vscode.l10n.t('Exported {0} utterance(s) as {1} ({2}); {3} left out (see Output).', s.utterances, format, splits, s.leftOut.length)
      : vscode.l10n.t('Exported {0} utterance(s) as {1} ({2}).', s.utterances, format, splits),
    vscode.l10n.t('Reveal'),
  );
  if (choice === vscode.l10n.t('Reveal')) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(s.out));
}

/** Suggest Lines from a Corpus…: corpus sentences that fill thin readings, picked and opened in a new editor to turn into task lines. */
async function suggestFromCorpus(ctx: ClientContext): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const corpus = (
    await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: vscode.l10n.t('Use this corpus'),
      title: vscode.l10n.t('A text corpus, one sentence a line'),
      ...(folder ? { defaultUri: folder.uri } : {}),
    })
  )?.[0];
  if (!corpus) return;
  const res = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Ranking corpus sentences…') },
    () => ctx.client.sendRequest(DatasetSuggestRequest.type, { uri: folder?.uri.toString(), corpus: corpus.fsPath, limit: 50 }),
  );
  if (!res.suggestions.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No sentence of the corpus adds a thin reading, phoneme token or syllable.'));
    return;
  }
  const items = res.suggestions.map((x) => ({
    label: `+${x.gain.toFixed(2)}  ${x.text}`,
    detail: [...x.adds, ...x.newPhonemes.map((p) => `<|${p}|>`)].join(' '),
    picked: true,
    text: x.text,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: vscode.l10n.t('Sentences that add most to the coverage (best first)'),
  });
  if (!chosen?.length) return;
  const doc = await vscode.workspace.openTextDocument({ content: chosen.map((c) => c.text).join('\n') + '\n' });
  await vscode.window.showTextDocument(doc);
}
