// Student versus teacher on readings: per character, per sentence, per polyphone, per source.
import { candidateReadings, charAt, isHan } from '../student/readings';
import type { AgreementSummary, Disagreement, PolyphoneRow, Rate, SourceKey } from './types';

export type { AgreementSummary, Disagreement, PolyphoneRow, Rate, SourceKey };

export interface ReadingPair {
  text: string;
  /** Per UTF-16 unit: the teacher's reading or null. */
  teacher: readonly (string | null)[];
  /** Per UTF-16 unit: the student's reading or null/undefined. */
  student: readonly (string | null | undefined)[];
  /** Per UTF-16 unit: who decided the teacher's reading (manifest `sources`); absent or null: unknown. */
  sources?: readonly (string | null | undefined)[];
}

/** Where the teacher's reading came from, for the per-source rates: a rule, the G2P's tokens, the language model (the reading is a hint), or not recorded. */
function sourceKey(s: string | null | undefined): SourceKey {
  return s === 'dictionary' || s === 'g2p' || s === 'model' ? s : 'unknown';
}

const rate = (agree: number, total: number): Rate => ({ agree, total, rate: total ? agree / total : null });

/** The positions where teacher and student differ (teacher reading known, Han characters only). */
export function disagreements(p: ReadingPair): Disagreement[] {
  const out: Disagreement[] = [];
  for (let i = 0; i < p.text.length; i++) {
    const t = p.teacher[i];
    if (!t) continue;
    const ch = charAt(p.text, i);
    if (!ch || !isHan(ch)) continue;
    const s = p.student[i] ?? null;
    if (s !== t) out.push({ index: i, char: ch, teacher: t, student: s });
  }
  return out;
}

export function agreement(pairs: readonly ReadingPair[], topConfusions = 3): AgreementSummary {
  let chars = 0,
    charsOk = 0,
    poly = 0,
    polyOk = 0,
    sentOk = 0;
  const bySource: Record<SourceKey, { agree: number; total: number }> = {
    dictionary: { agree: 0, total: 0 },
    g2p: { agree: 0, total: 0 },
    model: { agree: 0, total: 0 },
    unknown: { agree: 0, total: 0 },
  };
  const rows = new Map<string, { support: number; agree: number; teacher: Map<string, number>; conf: Map<string, number> }>();
  for (const p of pairs) {
    let allOk = true;
    for (let i = 0; i < p.text.length; i++) {
      const t = p.teacher[i];
      if (!t) continue;
      const ch = charAt(p.text, i);
      if (!ch || !isHan(ch)) continue;
      const ok = (p.student[i] ?? null) === t;
      chars++;
      if (ok) charsOk++;
      else allOk = false;
      const bs = bySource[sourceKey(p.sources?.[i])];
      bs.total++;
      if (ok) bs.agree++;
      if (candidateReadings(ch).length < 2) continue;
      poly++;
      if (ok) polyOk++;
      let r = rows.get(ch);
      if (!r) rows.set(ch, (r = { support: 0, agree: 0, teacher: new Map(), conf: new Map() }));
      r.support++;
      r.teacher.set(t, (r.teacher.get(t) ?? 0) + 1);
      if (ok) r.agree++;
      else {
        const k = `${t}\u0000${p.student[i] ?? '∅'}`;
        r.conf.set(k, (r.conf.get(k) ?? 0) + 1);
      }
    }
    if (allOk) sentOk++;
  }
  const table: PolyphoneRow[] = [...rows].map(([char, r]) => ({
    char,
    support: r.support,
    agree: r.agree,
    accuracy: r.agree / r.support,
    teacherReadings: Object.fromEntries([...r.teacher].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    confusions: [...r.conf]
      .map(([k, count]) => {
        const [teacher, student] = k.split('\u0000') as [string, string];
        return { teacher, student, count };
      })
      .sort((a, b) => b.count - a.count || a.teacher.localeCompare(b.teacher) || a.student.localeCompare(b.student))
      .slice(0, topConfusions),
  }));
  // Where the student is weakest first: most errors, then most support.
  table.sort((a, b) => b.support - b.agree - (a.support - a.agree) || b.support - a.support || a.char.localeCompare(b.char));
  const perSource = Object.fromEntries(Object.entries(bySource).map(([k, v]) => [k, rate(v.agree, v.total)])) as Record<SourceKey, Rate>;
  return {
    characters: rate(charsOk, chars),
    polyphones: rate(polyOk, poly),
    sentences: rate(sentOk, pairs.length),
    bySource: perSource,
    table,
  };
}
