#!/usr/bin/python3
"""Generates server/src/core/pronunciation/g2p/data/pypinyin.txt.gz from pypinyin 0.55 (third_party/pypinyin-0.55, MIT).

    /usr/bin/python3 scripts/g2p-data/pypinyin.py

Deterministic: the same pypinyin files give the same bytes (sorted output, gzip without name or time).
The file is UTF-8 text, gzipped:

    # ... header: origin and the MIT notice of pypinyin (every line starting with '#')
    S<TAB>syllable<TAB>syllable...     every tone-marked reading used below, exactly as pypinyin writes it
    C                                  then one line per character of pinyin_dict.json, by code point:
    <hex code point><TAB>i,j,...       its readings in pypinyin's order (indexes into S; the first is what
                                       pinyin(heteronym=False) uses)
    P                                  then one line per key of phrases_dict.json, sorted:
    <phrase><TAB>i j ...               the first reading of each of its characters (heteronym=False reads
                                       only item[0])

The port (server/src/core/pronunciation/g2p/pypinyin.ts) converts these readings with its own copy of pypinyin's style
converters, so nothing here is pre-converted.
"""
import gzip
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
SRC = os.path.join(ROOT, 'third_party', 'pypinyin-0.55')
OUT = os.path.join(ROOT, 'server', 'src', 'core', 'g2p', 'data', 'pypinyin.txt.gz')


def main():
    with open(os.path.join(SRC, 'pypinyin', 'pinyin_dict.json'), encoding='utf8') as f:
        pinyin_dict = {int(k): v for k, v in json.load(f).items()}
    with open(os.path.join(SRC, 'pypinyin', 'phrases_dict.json'), encoding='utf8') as f:
        phrases_dict = json.load(f)
    with open(os.path.join(SRC, 'LICENSE.txt'), encoding='utf8') as f:
        licence = f.read().strip('\n').split('\n')

    # Readings exactly as pypinyin's converter sees them: PINYIN_DICT[num].split(',') and PHRASES_DICT[p][i][0].
    char_readings = {cp: v.split(',') for cp, v in pinyin_dict.items()}
    phrase_readings = {}
    for phrase, items in phrases_dict.items():
        if len(items) != len(phrase):
            sys.exit('phrase %r: %d readings for %d characters' % (phrase, len(items), len(phrase)))
        phrase_readings[phrase] = [item[0] for item in items]
    syllables = set()
    for rs in char_readings.values():
        syllables.update(rs)
    for rs in phrase_readings.values():
        syllables.update(rs)
    for s in syllables:
        if not s or any(c in s for c in '\t\n ,'):
            sys.exit('unexpected reading %r' % s)
    order = sorted(syllables)
    index = {s: i for i, s in enumerate(order)}

    out = io.StringIO()
    out.write('# pypinyin 0.55.0 dictionaries: pinyin_dict.json (%d characters) and phrases_dict.json (%d phrases),\n'
              % (len(char_readings), len(phrase_readings)))
    out.write('# from third_party/pypinyin-0.55 (mozillazg/python-pinyin), converted by scripts/g2p-data/pypinyin.py.\n')
    out.write('# Format: see that script. Licence of the data (MIT):\n#\n')
    for line in licence:
        out.write(('# ' + line).rstrip() + '\n')
    out.write('S\t' + '\t'.join(order) + '\n')
    out.write('C\n')
    for cp in sorted(char_readings):
        out.write('%x\t%s\n' % (cp, ','.join(str(index[s]) for s in char_readings[cp])))
    out.write('P\n')
    for phrase in sorted(phrase_readings):
        out.write('%s\t%s\n' % (phrase, ' '.join(str(index[s]) for s in phrase_readings[phrase])))

    raw = out.getvalue().encode('utf8')
    buf = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    with open(OUT, 'wb') as f:
        f.write(buf.getvalue())
    print('%s: %d bytes (%d uncompressed), %d syllables, %d characters, %d phrases'
          % (os.path.relpath(OUT, ROOT), len(buf.getvalue()), len(raw), len(order), len(char_readings), len(phrase_readings)))


if __name__ == '__main__':
    main()
