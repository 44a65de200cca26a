#!/usr/bin/python3
"""Generates server/src/core/g2p/data/jieba.txt.gz: the data jieba 0.42.1's posseg needs, for server/src/core/g2p/jieba.ts.

Reads Debian's python3-jieba (0.42.1, MIT, (c) 2013 Sun Junyi): dict.txt and posseg's prob_start / prob_trans /
prob_emit / char_state_tab tables. Run with Debian's python (`/usr/bin/python3 scripts/g2p-data/jieba.py`).
Deterministic: the same input gives the same bytes (sorted output, gzip mtime 0).

Floats are written with repr(), which round-trips exactly through JavaScript's parseFloat. The natural logs jieba takes
of word frequencies (math.log, C libm) are written too, because V8's Math.log differs from glibc's in the last bit for
some integers, and jieba's route choice compares sums of those logs exactly.

Layout (UTF-8 text, one record a line, fields separated by one space unless said otherwise):
  jieba-posseg 0.42.1 <total>          total = sum of all dict.txt frequencies (duplicate lines counted twice, as jieba does)
  <log(total) repr>
  <n> freq:log(freq) pairs             one line: the distinct frequencies in dict.txt (plus 1) and Python's log of each
  <tags>                               POS tags of dict words, index = position
  <states>                             HMM states as <BMES><tag>, in Python tuple order (index order = max() tie order)
  <start>                              start log-probability of each state
  <trans>                              i,j,p triples: trans_p[state i][state j] = p
  E <n>                                then n lines: <hex code point>\t<state>:<p> ... (emit_p[state][char] = p)
                                        \t<state> ... (char_state_tab[char], in its order; empty if the char has none)
  D <n>                                then n lines: <common prefix length with previous word><TAB><rest of word>
                                        <TAB><freq><TAB><tag index>; words sorted by code point, the last dict.txt line
                                        of a duplicated word wins (as in jieba's FREQ and word_tag_tab).
"""
import gzip
import importlib
import math
import os
import sys

JIEBA = '/usr/lib/python3/dist-packages/jieba'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'server', 'src', 'core', 'g2p', 'data',
                   'jieba.txt.gz')


def main():
    sys.path.insert(0, os.path.dirname(JIEBA))
    start = importlib.import_module('jieba.posseg.prob_start').P
    trans = importlib.import_module('jieba.posseg.prob_trans').P
    emit = importlib.import_module('jieba.posseg.prob_emit').P
    cst = importlib.import_module('jieba.posseg.char_state_tab').P

    # dict.txt exactly as Tokenizer.gen_pfdict and POSTokenizer.load_word_tag read it.
    freq, tag, total = {}, {}, 0
    with open(os.path.join(JIEBA, 'dict.txt'), 'rb') as f:
        for line in f:
            line = line.strip().decode('utf-8')
            if not line:
                continue
            word, fr, tg = line.split(' ')
            assert '\t' not in word and '\n' not in word and all(ord(c) < 0x10000 for c in word)
            freq[word] = int(fr)
            tag[word] = tg
            total += int(fr)

    states = sorted(trans.keys())
    assert set(states) == set(start) == set(emit)
    for s in states:
        assert len(s[0]) == 1 and s[0] in 'BMES' and ' ' not in s[1] and ':' not in s[1]
    sidx = {s: i for i, s in enumerate(states)}

    def r(x):
        v = repr(float(x))
        assert v not in ('inf', '-inf', 'nan'), v
        return v

    out = []
    out.append('jieba-posseg 0.42.1 %d' % total)
    out.append(r(math.log(total)))
    freqs = sorted(set(freq.values()) | {1})
    out.append(' '.join('%d:%s' % (f, r(math.log(f))) for f in freqs if f > 0))
    tags = sorted(set(tag.values()))
    tidx = {t: i for i, t in enumerate(tags)}
    out.append(' '.join(tags))
    out.append(' '.join(s[0] + s[1] for s in states))
    out.append(' '.join(r(start[s]) for s in states))
    out.append(' '.join('%d,%d,%s' % (sidx[a], sidx[b], r(trans[a][b])) for a in states for b in sorted(trans[a])))

    per_char = {}
    for s in states:
        for ch, p in emit[s].items():
            per_char.setdefault(ch, []).append((sidx[s], p))
    chars = sorted(set(per_char) | set(cst))
    out.append('E %d' % len(chars))
    for ch in chars:
        assert len(ch) == 1
        em = ' '.join('%d:%s' % (i, r(p)) for i, p in sorted(per_char.get(ch, [])))
        cs = ' '.join(str(sidx[s]) for s in cst.get(ch, ()))
        out.append('%x\t%s\t%s' % (ord(ch), em, cs))

    words = sorted(freq)
    out.append('D %d' % len(words))
    prev = ''
    for w in words:
        n = 0
        m = min(len(w), len(prev))
        while n < m and w[n] == prev[n]:
            n += 1
        out.append('%d\t%s\t%d\t%d' % (n, w[n:], freq[w], tidx[tag[w]]))
        prev = w

    data = ('\n'.join(out) + '\n').encode('utf-8')
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'wb') as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    print('%s: %d bytes (%d uncompressed), %d words, %d states, %d chars' % (
        os.path.relpath(OUT), os.path.getsize(OUT), len(data), len(words), len(states), len(chars)))


if __name__ == '__main__':
    main()
