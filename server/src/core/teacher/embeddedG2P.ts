/**
 * The embedded teacher's G2P: the pronunciation feature's teacher-exact engine (pinyin-pro
 * whole-sentence + the G2P dictionary applied as GLM-TTS applies it), plus the one thing a
 * teacher output needs on top: the token notation of the text as the teacher sees it.
 */
import { ReplaceDict } from '../pronunciation/dictionary';
import { applyLikeTeacher } from '../pronunciation/glmFrontend';
import { isHan, pinyinToTokens } from '../formats/notation';
import { teacherReadings } from '../pronunciation/teacherReadings';
import { AbleList } from '../pronunciation/g2p/ableList';
import type { TeacherG2P } from './types';

/**
 * What the embedded teacher reads for `text`: readings per UTF-16 unit, plain pinyin, and the
 * token notation of the normalised text after the dictionary — dictionary values verbatim,
 * characters outside the able list as the tokens of the G2P's reading (GLM-TTS with
 * --use_phoneme tokenises exactly those), everything else as the teacher sees it — and each
 * character's source.
 */
export function embeddedG2P(text: string, dict: ReplaceDict = ReplaceDict.empty, able: AbleList = AbleList.bundled): TeacherG2P {
  const chars = teacherReadings(text, dict, able);
  const readings = chars.map((c) => c.reading);
  const sources = chars.map((c) => c.source);
  const { view, origin, fragments } = applyLikeTeacher(dict, text);
  let phonemes = '';
  for (const f of fragments) {
    if (f.entry) {
      phonemes += f.entry.value;
      continue;
    }
    for (let j = f.start; j < f.end; j++) {
      const i = origin ? origin[j]! : j;
      const c = chars[i];
      const cp = view.codePointAt(j)!;
      if (c && c.source === 'g2p' && c.reading && isHan(cp) && text.codePointAt(i) === cp) {
        try {
          phonemes += pinyinToTokens(c.reading);
          if (cp > 0xffff) j++;
          continue;
        } catch {
          /* not a reading the tokens can spell: keep the character */
        }
      }
      phonemes += view[j];
    }
  }
  return { text, readings, pinyin: readings.filter((r): r is string => !!r).join(' '), phonemes, sources };
}
