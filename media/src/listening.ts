// The listening-test webview: one item at a time, keyboard first. A/B: Space plays A, Shift+Space
// (or B) plays B, 1/2 prefers A/B; MOS: Space plays the clip, 1–5 rates it; N or Enter saves and
// goes on, Backspace goes back. It never learns which clip is the teacher's.
import type { FromListeningWebview, ListeningItemView, ListeningSummary, ToListeningWebview } from '../../protocol/webview/listening';

interface VsCodeApi {
  postMessage(m: FromListeningWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

let item: ListeningItemView | undefined;
let selected: number | undefined;
let saving = false;
let audios: HTMLAudioElement[] = [];

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  e.append(...children);
  return e;
}

const kbd = (k: string) => el('kbd', { text: k });
const MOS_LABELS = ['bad', 'poor', 'fair', 'good', 'excellent'];

function status(text: string): void {
  const s = app.querySelector('.status');
  if (s) s.textContent = text;
}

function stopAll(): void {
  for (const a of audios) {
    a.pause();
    a.currentTime = 0;
  }
  for (const b of app.querySelectorAll('button.play')) b.classList.remove('playing');
}

/** Plays clip k from the start (pausing the other), or pauses it when it is playing. */
function play(k: number): void {
  const a = audios[k];
  if (!a) return;
  const wasPlaying = !a.paused;
  stopAll();
  if (wasPlaying) return;
  const button = app.querySelectorAll('button.play')[k];
  button?.classList.add('playing');
  a.play().catch((err: Error) => status(`Cannot play: ${err.message}`));
}

function select(value: number): void {
  if (!item || saving) return;
  const max = item.kind === 'ab' ? 2 : 5;
  if (!Number.isInteger(value) || value < 1 || value > max) return;
  selected = value;
  for (const b of app.querySelectorAll<HTMLButtonElement>('button.choice'))
    b.classList.toggle('selected', Number(b.dataset.value) === value);
  status(
    item.kind === 'ab'
      ? `You prefer ${value === 1 ? 'A' : 'B'}. N or Enter: save and next.`
      : `Your rating: ${value} (${MOS_LABELS[value - 1]}). N or Enter: save and next.`,
  );
}

function next(): void {
  if (!item || saving) return;
  if (selected === undefined) {
    status(item.kind === 'ab' ? 'Choose first: 1 prefers A, 2 prefers B.' : 'Rate first: 1 (bad) to 5 (excellent).');
    return;
  }
  saving = true;
  stopAll();
  status('Saving…');
  vscode.postMessage({ type: 'answer', index: item.index, value: selected });
}

function showItem(m: Extract<ToListeningWebview, { type: 'item' }>): void {
  stopAll();
  item = m.item;
  selected = m.item.answer;
  saving = false;
  const it = m.item;
  audios = it.clips.map((src) => {
    const a = new Audio(src);
    a.preload = 'auto';
    a.addEventListener('ended', () => stopAll());
    return a;
  });
  const names = it.kind === 'ab' ? ['A', 'B'] : ['clip'];
  const keys = it.kind === 'ab' ? ['Space', 'Shift+Space / B'] : ['Space'];
  const players = el(
    'div',
    { className: 'players' },
    ...names.map((n, k) => {
      const b = el('button', { className: 'play', title: `Play ${n} (${keys[k]})` }, `▶ ${n} `, kbd(keys[k]!));
      b.addEventListener('click', () => play(k));
      // Loaded: its length on the button's data (the e2e test reads it); not loadable: said at once.
      audios[k]?.addEventListener('loadedmetadata', () => {
        b.dataset.seconds = audios[k]!.duration.toFixed(2);
      });
      audios[k]?.addEventListener('error', () => status(`Cannot load ${n}: ${audios[k]?.error?.message || 'unreadable audio'}`));
      return b;
    }),
  );
  const values = it.kind === 'ab' ? [1, 2] : [1, 2, 3, 4, 5];
  const choices = el(
    'div',
    { className: 'choices' },
    ...values.map((v) => {
      const label = it.kind === 'ab' ? `prefer ${v === 1 ? 'A' : 'B'}` : `${v} ${MOS_LABELS[v - 1]}`;
      const b = el('button', { className: 'choice' }, kbd(String(v)), ` ${label}`);
      b.dataset.value = String(v);
      b.addEventListener('click', () => select(v));
      return b;
    }),
  );
  const nextButton = el('button', { className: 'next' }, 'Save and next ', kbd('N'));
  nextButton.addEventListener('click', next);
  app.replaceChildren(
    el('h1', { text: `Listening test ${m.test}` }),
    el('p', { className: 'progress', text: `${it.index + 1} / ${it.total}` }),
    el('p', {
      className: 'question',
      text:
        it.kind === 'ab'
          ? 'Which take sounds better? (blind: A and B are the teacher and the student, in a random order)'
          : 'How good is this take? (1 bad – 5 excellent)',
    }),
    el('p', { className: 'text', text: it.text }),
    players,
    choices,
    nextButton,
    el('p', { className: 'status', text: m.resumed && it.index > 0 && it.answer === undefined ? `Resumed: ${m.answered} answered.` : '' }),
    el(
      'p',
      { className: 'keys muted' },
      kbd('Space'),
      it.kind === 'ab' ? ' play A · ' : ' play · ',
      ...(it.kind === 'ab'
        ? [kbd('Shift+Space'), ' or ', kbd('B'), ' play B · ', kbd('1'), '/', kbd('2'), ' prefer A/B · ']
        : [kbd('1'), '–', kbd('5'), ' rate · ']),
      kbd('N'),
      ' or ',
      kbd('Enter'),
      ' save and next · ',
      kbd('Backspace'),
      ' previous',
    ),
  );
  if (selected !== undefined) select(selected);
  app.focus();
}

function showDone(m: Extract<ToListeningWebview, { type: 'done' }>): void {
  stopAll();
  item = undefined;
  audios = [];
  const s: ListeningSummary = m.summary;
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
  const num = (x: number | null) => (x === null ? '—' : x.toFixed(2));
  const rows: HTMLElement[] = [];
  if (s.preference)
    rows.push(
      el(
        'tr',
        {},
        el('td', { text: 'student preferred over teacher (A/B)' }),
        el('td', { className: 'n', text: `${pct(s.preference.share)} [${pct(s.preference.low)}, ${pct(s.preference.high)}]` }),
        el('td', { className: 'n', text: `${s.preference.student} of ${s.preference.n}` }),
      ),
    );
  if (s.mos) {
    for (const sys of ['teacher', 'student'] as const) {
      const x = s.mos[sys];
      rows.push(
        el(
          'tr',
          {},
          el('td', { text: `MOS ${sys}` }),
          el('td', { className: 'n', text: `${num(x.mean)} [${num(x.low)}, ${num(x.high)}]` }),
          el('td', { className: 'n', text: `n ${x.n}` }),
        ),
      );
    }
  }
  const open = el('button', { className: 'report' }, 'Open the evaluation report');
  open.addEventListener('click', () => vscode.postMessage({ type: 'openReport' }));
  app.replaceChildren(
    el('h1', { text: `Listening test ${m.test}: finished` }),
    el('p', { className: 'progress', text: `${m.total} / ${m.total}` }),
    el('table', {}, el('tr', {}, el('th', { text: '' }), el('th', { text: 'mean (95 % CI)' }), el('th', { text: 'answers' })), ...rows),
    el('p', { className: 'muted', text: `Answers: ${m.answersFile}` }),
    open,
  );
}

window.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target as HTMLElement | null;
  // Space on a focused button would click it as well: the key handler alone acts.
  if (target && target.tagName === 'INPUT') return;
  let handled = true;
  if (e.key === ' ' || e.code === 'Space') play(e.shiftKey ? 1 : 0);
  else if (e.key === 'b' || e.key === 'B') play(1);
  else if (e.key === 'a' || e.key === 'A') play(0);
  else if (/^[1-5]$/.test(e.key)) select(Number(e.key));
  else if (e.key === 'n' || e.key === 'N' || e.key === 'Enter') next();
  else if (e.key === 'Backspace' && item && item.index > 0 && !saving) vscode.postMessage({ type: 'back', index: item.index - 1 });
  else if (e.key === 'Escape') stopAll();
  else handled = false;
  if (handled) e.preventDefault();
});

window.addEventListener('message', (event: MessageEvent<ToListeningWebview>) => {
  const m = event.data;
  if (m.type === 'item') showItem(m);
  else if (m.type === 'done') showDone(m);
  else if (m.type === 'error') {
    saving = false;
    status(m.message);
  }
});

app.tabIndex = -1;
vscode.postMessage({ type: 'ready' });
