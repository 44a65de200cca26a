// The audio preview webview: draws what the language server computed (peaks, log-mel) on
// canvases and plays the file through an <audio> element. No library, no network, no eval.
import type {
  AudioAnalysis,
  AudioAnalysisResult,
  FromWebview,
  PreviewState,
  PreviewView,
  SourceKey,
  ToWebview,
} from '../../protocol/webview/preview';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): PreviewState | undefined;
  setState(s: PreviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const audio = new Audio();
audio.preload = 'auto';

let view: PreviewView | undefined;
let selected: SourceKey = 'prompt';
let previous: SourceKey | undefined;
const results = new Map<SourceKey, AudioAnalysisResult>();
/** Why the browser could not play a source (shown unless the analysis already explains it). */
const playbackErrors = new Map<SourceKey, string>();
/** Position to apply once the selected file's metadata has loaded (A/B switch, reload). */
let resumeAt: { position: number; play: boolean } | undefined;
let ui: Ui | undefined;
/** When the current view arrived, and which sources have been reported drawn since. */
let shownAt = 0;
const reported = new Set<SourceKey>();
/** The part of the timeline on screen (seconds); undefined = the whole file. Kept across A/B switches. */
let zoom: { start: number; end: number } | undefined;
/** Finer analyses of a part of each source, asked for when zoomed in beyond the overview's resolution. */
const details = new Map<SourceKey, AudioAnalysis>();
let detailTimer: number | undefined;
let detailAsked: { key: SourceKey; start: number; end: number } | undefined;
/** The pitch track is drawn over the spectrogram (key P toggles). */
let showPitch = true;

interface Ui {
  tabs: Map<SourceKey, HTMLButtonElement>;
  meta: HTMLElement;
  message: HTMLElement;
  playButton: HTMLButtonElement;
  time: HTMLElement;
  stage: HTMLElement;
  wave: HTMLCanvasElement;
  spec: HTMLCanvasElement;
  cursor: HTMLElement;
  axis: HTMLElement;
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'show':
      show(m.view);
      break;
    case 'analysis':
      if (m.viewId !== view?.viewId) return;
      results.set(m.key, m.result);
      if (m.key === selected) renderSelected();
      updateTabs();
      break;
    case 'setSelected':
      select(m.key);
      break;
    case 'detail':
      if (m.viewId !== view?.viewId || !m.result.ok) return;
      details.set(m.key, m.result.analysis);
      if (m.key === selected) drawView();
      break;
  }
});

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function show(v: PreviewView) {
  const same = view !== undefined && sameTarget(view, v);
  const keepPosition = same ? position() : (v.position ?? 0);
  const wasPlaying = same && !audio.paused;
  view = v;
  shownAt = performance.now();
  reported.clear();
  results.clear();
  playbackErrors.clear();
  details.clear();
  detailAsked = undefined;
  if (!same) zoom = undefined;
  selected = v.selected;
  app.replaceChildren();

  const header = el('header');
  const title = el('h1', undefined, v.title);
  header.append(title);
  if (v.target.kind === 'line') {
    const jump = el('button', 'link', 'Go to line');
    jump.title = 'Show this task line in the editor';
    jump.addEventListener('click', () => vscode.postMessage({ type: 'revealLine' }));
    header.append(jump);
  }
  app.append(header);
  if (v.line) app.append(renderText(v.line));
  if (v.notice) app.append(el('p', 'notice', v.notice));

  const tabs = new Map<SourceKey, HTMLButtonElement>();
  if (v.sources.length > 1) {
    const bar = el('div', 'tabs');
    bar.setAttribute('role', 'tablist');
    v.sources.forEach((s, i) => {
      const b = el('button', 'tab', `${i + 1} ${s.label}`);
      b.setAttribute('role', 'tab');
      b.dataset.key = s.key;
      b.title = s.exists ? `${s.displayPath}  (key ${i + 1})` : `${s.displayPath}: ${s.key === 'prompt' ? 'missing' : 'not written yet'}`;
      b.addEventListener('click', () => select(s.key));
      tabs.set(s.key, b);
      bar.append(b);
    });
    app.append(bar);
  }

  const controls = el('div', 'controls');
  const playButton = el('button', 'play', 'Play');
  playButton.title = 'Play / pause (Space)';
  playButton.addEventListener('click', () => togglePlay());
  const time = el('span', 'time', '0:00.00 / 0:00.00');
  controls.append(playButton, time);
  const meta = el('div', 'meta');
  const message = el('div', 'message');
  message.hidden = true;

  const stage = el('div', 'stage');
  const wave = el('canvas', 'wave');
  const spec = el('canvas', 'spec');
  const cursor = el('div', 'cursor');
  const axis = el('div', 'axis');
  stage.append(wave, spec, cursor);
  stage.title = 'Click or drag to seek';
  attachSeek(stage);

  app.append(
    controls,
    meta,
    message,
    stage,
    axis,
    el(
      'p',
      'help',
      'Space play/pause · ←/→ 1 s (Shift 5 s) · Home/End · 1/2/3 switch source · X previous source · wheel or +/− zoom, Shift+drag or horizontal wheel pan, 0 whole file · P pitch track',
    ),
  );
  ui = { tabs, meta, message, playButton, time, stage, wave, spec, cursor, axis };
  if (!v.sources.length) {
    stage.hidden = true;
    controls.hidden = true;
  }
  loadSelected({ position: keepPosition, play: wasPlaying });
  updateTabs();
  renderSelected();
  saveState();
}

function sameTarget(a: PreviewView, b: PreviewView) {
  return JSON.stringify(a.target) === JSON.stringify(b.target);
}

/** The task's text with the teacher's reading over each Han character; polyphones and dictionary rules marked. */
function renderText(line: NonNullable<PreviewView['line']>): HTMLElement {
  const wrap = el('div');
  const box = el('div', 'text');
  box.lang = 'zh';
  wrap.append(box);
  const take = line.teacherTake;
  const sameText = take?.text === line.text;
  if (!line.readings.length) {
    box.textContent = line.text;
  } else {
    line.readings.forEach((r, i) => {
      if (!r.reading) {
        box.append(document.createTextNode(r.char));
        return;
      }
      // A reading that differs from the one recorded with the teacher's take: the take is out of date.
      const then = sameText ? take?.readings[i] : undefined;
      const changed = !!then && then !== r.reading;
      const ruby = el(
        'ruby',
        [r.polyphone ? 'polyphone' : '', r.fromDictionary ? 'rule' : '', changed ? 'changed' : ''].filter(Boolean).join(' '),
      );
      ruby.append(document.createTextNode(r.char), el('rt', undefined, changed ? `${r.reading}≠${then}` : r.reading));
      ruby.title = `${r.reading}${r.polyphone ? ' · polyphone' : ''}${r.fromDictionary ? ' · from the G2P dictionary' : ''}${changed ? ` · the teacher's take read ${then}` : ''}`;
      box.append(ruby);
    });
  }
  if (take) {
    const changedCount = box.querySelectorAll('ruby.changed').length;
    const parts = [
      `Teacher take: ${take.backend}${take.engine ? ` (${take.engine})` : ''}`,
      `seed ${take.seed}`,
      take.clonedVoice ? 'voice cloned' : 'voice not cloned',
    ];
    const info = el('p', `take${!sameText || changedCount ? ' stale' : ''}`, parts.join(' · '));
    if (!sameText) info.append(document.createTextNode(` — made for other text: "${take.text}"; run the line again.`));
    else if (changedCount)
      info.append(
        document.createTextNode(` — ${changedCount} reading${changedCount > 1 ? 's' : ''} changed since (marked ≠); run the line again.`),
      );
    if (take.note) info.append(el('span', 'note', ` ${take.note}`));
    wrap.append(info);
    if (take.qa) wrap.append(el('p', 'take', `QA: ${take.qa}`));
    if (take.excluded) wrap.append(el('p', 'qa-excluded', `⊘ Left out of training, evaluation and export — ${take.excluded}`));
  }
  return wrap;
}

function select(key: SourceKey) {
  if (!view || key === selected) return;
  const s = view.sources.find((x) => x.key === key);
  if (!s) return;
  previous = selected;
  selected = key;
  vscode.postMessage({ type: 'selected', key });
  // A/B: the other take starts where this one was, and keeps playing if it was.
  loadSelected({ position: position(), play: !audio.paused });
  updateTabs();
  renderSelected();
  saveState();
}

function loadSelected(resume: { position: number; play: boolean }) {
  const s = view?.sources.find((x) => x.key === selected);
  audio.pause();
  if (!s || !s.exists) {
    audio.removeAttribute('src');
    audio.load();
    resumeAt = { position: resume.position, play: false };
    return;
  }
  resumeAt = resume;
  audio.src = s.src;
  audio.load();
}

audio.addEventListener('loadedmetadata', () => {
  if (resumeAt) {
    audio.currentTime = Math.min(resumeAt.position, Number.isFinite(audio.duration) ? audio.duration : resumeAt.position);
    if (resumeAt.play) void audio.play().catch(() => undefined);
    resumeAt = undefined;
  }
  tick();
});
audio.addEventListener('play', () => {
  updatePlayButton();
  animate();
});
audio.addEventListener('pause', () => {
  updatePlayButton();
  tick();
  saveState();
});
audio.addEventListener('ended', () => {
  updatePlayButton();
  tick();
});
audio.addEventListener('seeked', () => {
  tick();
  saveState();
});
audio.addEventListener('error', () => {
  const s = view?.sources.find((x) => x.key === selected);
  if (!s?.exists || !audio.getAttribute('src')) return;
  const message = `This file cannot be played here (${audio.error?.message || `media error ${audio.error?.code ?? '?'}`}).`;
  playbackErrors.set(selected, message);
  renderSelected();
  vscode.postMessage({ type: 'playbackError', key: selected, message });
});

/** Where playback is, or will start once the file has loaded. */
function position(): number {
  return audio.readyState >= 1 ? audio.currentTime : (resumeAt?.position ?? 0);
}

function togglePlay() {
  if (!audio.getAttribute('src')) return;
  if (audio.paused) void audio.play().catch(() => undefined);
  else audio.pause();
}

function seekTo(seconds: number) {
  const d = duration();
  if (!d) return;
  const t = Math.max(0, Math.min(d, seconds));
  if (audio.readyState >= 1) audio.currentTime = t;
  else resumeAt = { position: t, play: resumeAt?.play ?? false };
  tick();
}

function duration(): number {
  if (Number.isFinite(audio.duration) && audio.duration > 0) return audio.duration;
  const r = results.get(selected);
  return r?.ok ? r.analysis.durationSeconds : 0;
}

document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.altKey || e.ctrlKey || e.metaKey) return;
  const step = e.shiftKey ? 5 : 1;
  switch (e.key) {
    case ' ':
      togglePlay();
      break;
    case 'ArrowLeft':
      seekTo(position() - step);
      break;
    case 'ArrowRight':
      seekTo(position() + step);
      break;
    case 'Home':
      seekTo(0);
      break;
    case 'End':
      seekTo(duration());
      break;
    case 'x':
    case 'X':
      if (previous) select(previous);
      break;
    case '+':
    case '=':
      zoomAround(position(), 0.5);
      break;
    case '-':
      zoomAround(position(), 2);
      break;
    case '0':
      setZoom(undefined);
      break;
    case 'p':
    case 'P':
      showPitch = !showPitch;
      drawView();
      break;
    default: {
      const n = Number(e.key);
      const s = Number.isInteger(n) && n >= 1 ? view?.sources[n - 1] : undefined;
      if (!s) return;
      select(s.key);
    }
  }
  e.preventDefault();
});

/** Click or drag: seek. Shift+drag, or a horizontal wheel: pan. Wheel: zoom around the pointer. */
function attachSeek(stage: HTMLElement) {
  const timeAt = (clientX: number) => {
    const r = stage.getBoundingClientRect();
    const w = windowOf(duration());
    return w.start + ((clientX - r.left) / r.width) * (w.end - w.start);
  };
  stage.addEventListener('pointerdown', (e) => {
    stage.setPointerCapture(e.pointerId);
    const panFrom = e.shiftKey ? { x: e.clientX, w: windowOf(duration()) } : undefined;
    if (!panFrom) seekTo(timeAt(e.clientX));
    const move = (m: PointerEvent) => {
      if (!panFrom) return seekTo(timeAt(m.clientX));
      const width = stage.getBoundingClientRect().width;
      const shift = ((panFrom.x - m.clientX) / width) * (panFrom.w.end - panFrom.w.start);
      setZoom({ start: panFrom.w.start + shift, end: panFrom.w.end + shift });
    };
    const up = () => {
      stage.removeEventListener('pointermove', move);
      stage.removeEventListener('pointerup', up);
    };
    stage.addEventListener('pointermove', move);
    stage.addEventListener('pointerup', up);
  });
  stage.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const w = windowOf(duration());
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        const shift = (e.deltaX / stage.getBoundingClientRect().width) * (w.end - w.start);
        setZoom({ start: w.start + shift, end: w.end + shift });
      } else if (e.deltaY) {
        zoomAround(timeAt(e.clientX), e.deltaY > 0 ? 1.25 : 0.8);
      }
    },
    { passive: false },
  );
}

/** Shortest window: a few pitch periods are still readable. */
const MIN_WINDOW_SECONDS = 0.02;

/** The window on screen, clamped to the file. */
function windowOf(total: number): { start: number; end: number } {
  if (!zoom || !total) return { start: 0, end: total };
  const length = Math.min(total, Math.max(MIN_WINDOW_SECONDS, zoom.end - zoom.start));
  const start = Math.max(0, Math.min(total - length, zoom.start));
  return { start, end: start + length };
}

function setZoom(next: { start: number; end: number } | undefined) {
  const total = duration();
  zoom = next;
  if (zoom && total) {
    zoom = windowOf(total);
    if (zoom.start <= 0 && zoom.end >= total) zoom = undefined;
  }
  drawView();
}

function zoomAround(t: number, factor: number) {
  const w = windowOf(duration());
  const f = (t - w.start) / Math.max(1e-9, w.end - w.start);
  const length = (w.end - w.start) * factor;
  setZoom({ start: t - f * length, end: t - f * length + length });
}

function updateTabs() {
  if (!ui || !view) return;
  for (const s of view.sources) {
    const b = ui.tabs.get(s.key);
    if (!b) continue;
    const r = results.get(s.key);
    b.classList.toggle('selected', s.key === selected);
    b.setAttribute('aria-selected', String(s.key === selected));
    b.classList.toggle('absent', !s.exists);
    b.classList.toggle('problem', !!r && !r.ok);
  }
}

function updatePlayButton() {
  if (ui) ui.playButton.textContent = audio.paused ? 'Play' : 'Pause';
}

function showMessage(text: string, kind: 'error' | 'warning' | 'info') {
  if (!ui) return;
  ui.message.hidden = false;
  ui.message.className = `message ${kind}`;
  ui.message.textContent = text;
}

/** Draws the selected source: its problem, or its metadata, waveform and spectrogram. */
function renderSelected() {
  if (!ui || !view) return;
  const s = view.sources.find((x) => x.key === selected);
  ui.message.hidden = true;
  ui.meta.replaceChildren();
  const r = results.get(selected);
  if (!s) return;
  ui.stage.classList.toggle('empty', !r?.ok);
  // Nothing to draw for a missing or broken file: the message says why, no empty canvases below it.
  const broken = !s.exists || (r !== undefined && !r.ok);
  ui.stage.hidden = broken;
  ui.axis.hidden = broken;
  if (!s.exists) {
    showMessage(
      `${s.label}: ${s.displayPath} ${s.key === 'prompt' ? 'does not exist.' : 'has not been written yet.'}`,
      s.key === 'prompt' ? 'error' : 'info',
    );
    clearCanvases();
    return;
  }
  if (!r) {
    ui.meta.append(el('span', 'pending', `Analysing ${s.displayPath}…`));
    clearCanvases();
    return;
  }
  if (!r.ok) {
    showMessage(`${s.label}: ${s.displayPath}: ${r.problem.message}`, 'error');
    clearCanvases();
    return;
  }
  const a = r.analysis;
  ui.stage.dataset.duration = String(a.durationSeconds);
  const items: Array<[string, string, string?]> = [
    ['Duration', formatTime(a.durationSeconds, true)],
    ['Sample rate', `${a.sampleRate} Hz`],
    ['Channels', a.channels === 1 ? 'mono' : a.channels === 2 ? 'stereo' : String(a.channels)],
    ['Format', `${a.bitsPerSample}-bit ${a.format === 'float' ? 'float' : 'PCM'}`],
    ['Peak', a.peakDbfs === null ? 'silence' : `${a.peakDbfs.toFixed(1)} dBFS`, a.clippedSamples ? 'clip' : undefined],
    ['RMS', a.rmsDbfs === null ? 'silence' : `${a.rmsDbfs.toFixed(1)} dBFS`],
  ];
  if (a.f0) items.push(['F0 median', a.f0.medianHz === null ? 'unvoiced' : `${Math.round(a.f0.medianHz)} Hz`]);
  for (const [k, v, flag] of items) {
    const item = el('span', `item${flag ? ` ${flag}` : ''}`);
    item.dataset.field = k.toLowerCase().replace(' ', '-');
    item.append(el('span', 'k', k), el('span', 'v', v));
    ui.meta.append(item);
  }
  if (a.clippedSamples) ui.meta.append(el('span', 'badge warning', `${a.clippedSamples} clipped samples`));
  const playback = playbackErrors.get(selected);
  if (a.truncated) {
    ui.meta.append(el('span', 'badge warning', 'truncated'));
    showMessage(
      `${s.label}: the file is truncated (its header promises more audio than it holds); showing the ${formatTime(a.durationSeconds, true)} that are there.${playback ? ` ${playback}` : ''}`,
      'warning',
    );
  } else if (playback) {
    showMessage(`${s.label}: ${playback} The analysis below is still valid.`, 'warning');
  }
  draw(a);
}

function clearCanvases() {
  if (!ui) return;
  for (const c of [ui.wave, ui.spec]) c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
  ui.axis.replaceChildren();
  tick();
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function sizeCanvas(c: HTMLCanvasElement): CanvasRenderingContext2D | null {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(c.clientWidth * dpr));
  const h = Math.max(1, Math.round(c.clientHeight * dpr));
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  return c.getContext('2d');
}

function draw(_a: AudioAnalysis) {
  drawView();
}

/** Seconds of the file an analysis' waveform and spectrogram cover. */
function coverage(a: AudioAnalysis): { start: number; end: number } {
  return a.range ?? { start: 0, end: a.durationSeconds };
}

/** Draws the selected source's window from the finest analysis that covers it, and asks for a finer one when needed. */
function drawView() {
  const r = results.get(selected);
  if (!ui || !r?.ok) return;
  const a = r.analysis;
  const w = windowOf(a.durationSeconds);
  const d = details.get(selected);
  const dc = d && coverage(d);
  const data = d && dc && dc.start <= w.start + 1e-6 && dc.end >= w.end - 1e-6 ? d : a;
  drawWave(ui.wave, data, w);
  drawSpectrogram(ui.spec, data, w);
  drawAxis(ui.axis, w);
  ui.stage.dataset.rendered = selected;
  ui.stage.dataset.window = `${w.start.toFixed(3)}-${w.end.toFixed(3)}`;
  ui.stage.dataset.detail = String(data !== a);
  if (!reported.has(selected)) {
    reported.add(selected);
    const ms = Math.round(performance.now() - shownAt);
    ui.stage.dataset.renderMs = String(ms);
    vscode.postMessage({ type: 'rendered', key: selected, ms });
  }
  if (data === a) askForDetail(a, w);
  tick();
}

/** When the overview has fewer buckets than the window has pixels, ask the extension for that part in detail. */
function askForDetail(a: AudioAnalysis, w: { start: number; end: number }) {
  clearTimeout(detailTimer);
  if (!ui || !view || (w.start <= 0 && w.end >= a.durationSeconds)) return;
  const span = w.end - w.start;
  const bucketsShown = (a.waveform.buckets * span) / a.durationSeconds;
  const columnsShown = span / a.spectrogram.columnSeconds;
  if (bucketsShown >= ui.wave.width && columnsShown >= Math.min(ui.spec.width / 2, span / 0.0101)) return;
  // Half a window more on each side: small pans are then drawn from the same answer.
  const start = Math.max(0, w.start - span / 2);
  const end = Math.min(a.durationSeconds, w.end + span / 2);
  if (detailAsked && detailAsked.key === selected && detailAsked.start <= w.start && detailAsked.end >= w.end) return;
  const viewId = view.viewId;
  const key = selected;
  detailTimer = window.setTimeout(() => {
    detailAsked = { key, start, end };
    vscode.postMessage({ type: 'detail', viewId, key, start, end });
  }, 120);
}

function drawWave(c: HTMLCanvasElement, a: AudioAnalysis, w: { start: number; end: number }) {
  const g = sizeCanvas(c);
  if (!g) return;
  const { width, height } = c;
  g.clearRect(0, 0, width, height);
  const lanes = a.waveform.lanes;
  const laneHeight = height / lanes.length;
  const buckets = a.waveform.buckets;
  const cov = coverage(a);
  const bucketSeconds = (cov.end - cov.start) / buckets;
  const pixelSeconds = (w.end - w.start) / width;
  g.fillStyle = cssColor('--vscode-charts-blue', '#3794ff');
  lanes.forEach((lane, li) => {
    const min = new Int16Array(decodeBase64(lane.min).buffer);
    const max = new Int16Array(decodeBase64(lane.max).buffer);
    const mid = laneHeight * (li + 0.5);
    const half = laneHeight / 2 - 1;
    for (let x = 0; x < width; x++) {
      const t0 = w.start + x * pixelSeconds;
      const b0 = Math.max(0, Math.floor((t0 - cov.start) / bucketSeconds));
      const b1 = Math.min(buckets, Math.max(b0 + 1, Math.floor((t0 + pixelSeconds - cov.start) / bucketSeconds)));
      if (b0 >= buckets) break;
      let lo = 32767,
        hi = -32767;
      for (let b = b0; b < b1; b++) {
        if (min[b]! < lo) lo = min[b]!;
        if (max[b]! > hi) hi = max[b]!;
      }
      if (hi < lo) continue;
      const top = mid - (hi / 32767) * half;
      const bottom = mid - (lo / 32767) * half;
      g.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
  });
  g.fillStyle = cssColor('--vscode-editorRuler-foreground', '#5a5a5a');
  for (let li = 1; li < lanes.length; li++) g.fillRect(0, Math.round(li * laneHeight), width, 1);
}

/** A perceptual dark-to-bright palette (magma-like), 256 entries. */
const PALETTE = (() => {
  const stops: Array<[number, number, number, number]> = [
    [0, 0, 0, 4],
    [0.25, 81, 18, 124],
    [0.5, 183, 55, 121],
    [0.75, 252, 137, 97],
    [1, 252, 253, 191],
  ];
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1]![0]) k++;
    const [t0, r0, g0, b0] = stops[k]!;
    const [t1, r1, g1, b1] = stops[k + 1]!;
    const f = (t - t0) / (t1 - t0);
    out[i * 3] = r0 + (r1 - r0) * f;
    out[i * 3 + 1] = g0 + (g1 - g0) * f;
    out[i * 3 + 2] = b0 + (b1 - b0) * f;
  }
  return out;
})();

/** The spectrogram of an analysis as an image, one pixel per (column, mel band); built once per analysis. */
const spectrogramImages = new WeakMap<AudioAnalysis, HTMLCanvasElement>();

function spectrogramImage(a: AudioAnalysis): HTMLCanvasElement | undefined {
  const { frames, nMels } = a.spectrogram;
  if (!frames) return undefined;
  let off = spectrogramImages.get(a);
  if (off) return off;
  const data = decodeBase64(a.spectrogram.data);
  const img = new ImageData(frames, nMels);
  for (let f = 0; f < frames; f++) {
    for (let m = 0; m < nMels; m++) {
      const v = data[f * nMels + m]!;
      const p = ((nMels - 1 - m) * frames + f) * 4;
      img.data[p] = PALETTE[v * 3]!;
      img.data[p + 1] = PALETTE[v * 3 + 1]!;
      img.data[p + 2] = PALETTE[v * 3 + 2]!;
      img.data[p + 3] = 255;
    }
  }
  off = document.createElement('canvas');
  off.width = frames;
  off.height = nMels;
  off.getContext('2d')!.putImageData(img, 0, 0);
  spectrogramImages.set(a, off);
  return off;
}

function drawSpectrogram(c: HTMLCanvasElement, a: AudioAnalysis, w: { start: number; end: number }) {
  const g = sizeCanvas(c);
  if (!g) return;
  g.clearRect(0, 0, c.width, c.height);
  const off = spectrogramImage(a);
  if (!off) return;
  // Column k is centred on coverage.start + k·columnSeconds, i.e. it spans image x ∈ [k, k + 1).
  const { columnSeconds, nMels } = a.spectrogram;
  const x0 = (w.start - coverage(a).start) / columnSeconds + 0.5;
  const span = (w.end - w.start) / columnSeconds;
  g.imageSmoothingEnabled = span > c.width / 4;
  g.drawImage(off, x0, 0, span, nMels, 0, 0, c.width, c.height);
  if (showPitch && a.f0) drawPitch(g, c, a, w);
}

/** Pitch scale of the overlay (log Hz, Praat-style over the whole height): the range of speech. */
const PITCH_LOW = 50,
  PITCH_HIGH = 600;
const pitchY = (hz: number, height: number) => height * (1 - Math.log(hz / PITCH_LOW) / Math.log(PITCH_HIGH / PITCH_LOW));

/** The F0 track over the spectrogram on its own log scale, with a few Hz marks at the right edge. */
function drawPitch(g: CanvasRenderingContext2D, c: HTMLCanvasElement, a: AudioAnalysis, w: { start: number; end: number }) {
  const f0 = a.f0!;
  const hz = new Uint16Array(decodeBase64(f0.values).buffer);
  const start = coverage(a).start;
  const dpr = window.devicePixelRatio || 1;
  const colour = cssColor('--vscode-charts-green', '#89d185');
  g.fillStyle = colour;
  const size = Math.max(2, Math.round(2.5 * dpr));
  for (let k = 0; k < hz.length; k++) {
    if (!hz[k]) continue;
    const t = start + k * f0.hopSeconds;
    if (t < w.start || t > w.end) continue;
    const x = ((t - w.start) / (w.end - w.start)) * c.width;
    g.fillRect(x - size / 2, pitchY(hz[k]! / 10, c.height) - size / 2, size, size);
  }
  g.font = `${Math.round(10 * dpr)}px sans-serif`;
  g.textAlign = 'right';
  for (const mark of [100, 200, 400]) {
    const y = pitchY(mark, c.height);
    g.fillRect(c.width - 6 * dpr, y, 6 * dpr, Math.max(1, dpr));
    g.fillText(`${mark} Hz`, c.width - 8 * dpr, y + 4 * dpr);
  }
}

function drawAxis(axis: HTMLElement, w: { start: number; end: number }) {
  axis.replaceChildren();
  const seconds = w.end - w.start;
  if (!seconds) return;
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  // About one label per 80 px, so that they never overlap.
  const most = Math.max(2, Math.min(10, Math.floor(axis.clientWidth / 80)));
  const step = steps.find((s) => seconds / s <= most) ?? 1200;
  const digits = step < 0.01 ? 3 : step < 1 ? 2 : 0;
  for (let k = Math.ceil(w.start / step - 1e-9); k * step <= w.end + 1e-9; k++) {
    const t = k * step;
    const f = (t - w.start) / seconds;
    const tick = el('span', undefined, formatTime(t, digits));
    tick.style.left = `${f * 100}%`;
    // Labels near either edge hang inside the panel.
    if (f > 0.92) tick.className = 'last';
    else if (f < 0.04) tick.className = 'first';
    axis.append(tick);
  }
}

/** `m:ss.ff` with `digits` decimals (0: `m:ss`). */
function formatTime(s: number, digits: number | boolean = 2): string {
  if (!Number.isFinite(s)) s = 0;
  const d = digits === true ? 2 : digits === false ? 0 : digits;
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  const sec = d ? rest.toFixed(d).padStart(3 + d, '0') : String(Math.floor(rest)).padStart(2, '0');
  return `${m}:${sec}`;
}

function tick() {
  if (!ui) return;
  const d = duration();
  const t = position();
  ui.time.textContent = `${formatTime(t)} / ${formatTime(d)}`;
  let w = windowOf(d);
  if (zoom && !audio.paused && (t > w.end || t < w.start)) {
    // Playing past the zoomed window turns the page.
    setZoom({ start: t, end: t + (w.end - w.start) });
    w = windowOf(d);
  }
  const f = w.end > w.start ? (t - w.start) / (w.end - w.start) : 0;
  ui.cursor.hidden = f < 0 || f > 1;
  ui.cursor.style.left = `${Math.max(0, Math.min(1, f)) * 100}%`;
}

let animating = false;
function animate() {
  if (animating) return;
  animating = true;
  const frame = () => {
    tick();
    if (audio.paused) {
      animating = false;
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

function saveState() {
  if (!view) return;
  vscode.setState({ target: view.target, selected, position: position() });
  vscode.postMessage({ type: 'state', state: vscode.getState()! });
}

let resizeTimer: number | undefined;
new ResizeObserver(() => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    drawView();
  }, 50);
}).observe(document.body);

vscode.postMessage({ type: 'ready' });
