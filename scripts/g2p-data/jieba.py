#!/usr/bin/python3
"""Generates server/src/core/pronunciation/g2p/data/jieba.bin.gz: the data jieba 0.42.1's posseg needs, for server/src/core/pronunciation/g2p/jieba.ts.

Reads Debian's python3-jieba (0.42.1, MIT, (c) 2013 Sun Junyi): dict.txt and posseg's prob_start / prob_trans /
prob_emit / char_state_tab tables. Run with Debian's python (`/usr/bin/python3 scripts/g2p-data/jieba.py`).
Deterministic: the same input gives the same bytes (sorted output, gzip mtime 0).

Floats go into the JSON header as json.dumps writes them (Python's shortest round-trip repr, which JavaScript's
JSON.parse reads back to the same double) and the emit values as raw IEEE doubles. The natural logs jieba takes
of word frequencies (math.log, C libm) are written too, because V8's Math.log differs from glibc's in the last bit for
some integers, and jieba's route choice compares sums of those logs exactly.

Layout: a gzip of one binary blob, little-endian; every section starts at a multiple of 8 bytes (zero padding):
  magic b'JIEBAPOS' ; u32 length of the JSON header ; the JSON header (UTF-8):
    {"version": "0.42.1", "total": sum of all dict.txt frequencies (duplicate lines counted twice, as jieba does),
     "logTotal": log(total), "freqs": [[freq, log(freq)], ...] (the distinct frequencies, and 1),
     "tags": dict POS tags, "states": ["Ba", ...] (<BMES><tag>, sorted as Python sorts the (BMES, tag) tuples, so that
     index order is max()'s tie order), "start": [p per state], "trans": [[i, j, p], ...],
     "words": n, "chars": total UTF-16 code units of the words, "suffixUnits", "emitChars": m, "emits": e, "values": v, "cst": c}
  dict.txt words sorted by code point (all are BMP, so this is also UTF-16 order), the last line of a duplicated word
  winning (as in jieba's FREQ and word_tag_tab), in columns:
    the words ; u16 index into freqs[n] ; u8 index into tags[n]
  (the first column is front-coded: u8 units shared with the previous word[n] ; u8 units of the rest[n] ;
   u16 those units[suffixUnits], and the words' total length is "chars")
  the characters the HMM tables know, sorted: u16 code[m] ; u16 emit count[m] ; u8 char_state_tab count[m]
    u8 emit state[e] ; u16 emit value index[e] (emit_p[state][char]) ; f64 values[v] (the distinct emit values)
    u8 char_state_tab state[c] (char_state_tab[char], in its order)
"""
import array
import gzip
import json
import importlib
import math
import os
import struct
import sys

JIEBA = '/usr/lib/python3/dist-packages/jieba'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'server', 'src', 'core', 'g2p', 'data',
                   'jieba.bin.gz')


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

    freqs = sorted(set(freq.values()) | {1})
    fidx = {f: i for i, f in enumerate(freqs)}
    tags = sorted(set(tag.values()))
    tidx = {t: i for i, t in enumerate(tags)}
    words = sorted(freq)
    assert all(len(w) < 256 for w in words)
    per_char = {}
    for s in states:
        for ch, p in emit[s].items():
            assert len(ch) == 1 and ord(ch) < 0x10000
            per_char.setdefault(ch, []).append((sidx[s], p))
    chars = sorted(set(per_char) | set(cst))
    values = sorted(set(p for ch in chars for _, p in per_char.get(ch, [])))
    vidx = {v: i for i, v in enumerate(values)}
    emit_state, emit_val, cst_state = [], [], []
    for ch in chars:
        for i, p in sorted(per_char.get(ch, [])):
            emit_state.append(i)
            emit_val.append(vidx[p])
        cst_state.extend(sidx[s] for s in cst.get(ch, ()))
    units = [ord(c) for w in words for c in w]

    header = {
        'version': '0.42.1', 'total': total, 'logTotal': math.log(total),
        'freqs': [[f, math.log(f)] for f in freqs], 'tags': tags, 'states': [s[0] + s[1] for s in states],
        'start': [start[s] for s in states],
        'trans': [[sidx[a], sidx[b], trans[a][b]] for a in states for b in sorted(trans[a])],
        'words': len(words), 'chars': len(units), 'emitChars': len(chars), 'emits': len(emit_state),
        'values': len(values), 'cst': len(cst_state),
    }
    for x in [header['logTotal']] + header['start'] + [p for _, _, p in header['trans']] + values:
        r(x)  # finite
    blob = bytearray()

    def section(code, items):
        while len(blob) % 8:
            blob.append(0)
        a = array.array(code, items)
        assert a.itemsize == {'B': 1, 'H': 2, 'd': 8}[code]
        if sys.byteorder != 'little':
            a.byteswap()
        blob.extend(a.tobytes())

    # front coding: units shared with the previous word, then the rest of the word
    shared, rest = [], []
    prev = ''
    for w in words:
        k = 0
        while k < min(len(w), len(prev)) and w[k] == prev[k]:
            k += 1
        shared.append(k)
        rest.append(len(w) - k)
        prev = w
    suffix = [ord(c) for w, k in zip(words, shared) for c in w[k:]]
    header['suffixUnits'] = len(suffix)
    section('B', shared)
    section('B', rest)
    section('H', suffix)
    section('H', [fidx[freq[w]] for w in words])
    section('B', [tidx[tag[w]] for w in words])
    section('H', [ord(c) for c in chars])
    section('H', [len(per_char.get(c, [])) for c in chars])
    section('B', [len(cst.get(c, ())) for c in chars])
    section('B', emit_state)
    section('H', emit_val)
    section('d', values)
    section('B', cst_state)
    hj = json.dumps(header, ensure_ascii=False, separators=(',', ':'), allow_nan=False).encode('utf-8')
    head = b'JIEBAPOS' + struct.pack('<I', len(hj)) + hj
    head += bytes(-len(head) % 8)
    data = head + bytes(blob)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'wb') as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    print('%s: %d bytes (%d uncompressed), %d words, %d states, %d chars, %d emit values' % (
        os.path.relpath(OUT), os.path.getsize(OUT), len(data), len(words), len(states), len(chars), len(values)))


if __name__ == '__main__':
    main()
