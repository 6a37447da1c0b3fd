"""Writes services/pycompat/testdata/regex-ignorecase.json: which code points
Python's `re` matches case-insensitively for each pattern (re.fullmatch of the
one character, with re.IGNORECASE unless the pattern sets its own flags),
over a set of candidates: every cased code point, every one a lowercase
mapping or re._casefix names, and whole blocks around them (assigned code
points only). Plus findall
results of longer texts. Used by regex-ignorecase.test.ts. Regenerate with
NeMo Gym's Python (the chroot of scripts/nemo-gym-env.sh):

    bash scripts/nemo-gym-python.sh services/pycompat/testdata/gen-regex-ignorecase.py \
      > services/pycompat/testdata/regex-ignorecase.json
"""

import json
import re
import sys
import unicodedata

import _sre
from re._casefix import _EXTRA_CASES

# (pattern, flags): "i" is re.IGNORECASE, "" leaves the flags to the pattern.
PATTERNS = [
    ("[A-Za-z]", "i"), ("[a-z]", "i"), ("[A-Z]", "i"), ("[^A-Za-z]", "i"), ("[^a-z]", "i"), ("[a-d]", "i"),
    ("k", "i"), ("K", "i"), ("\u212a", "i"), ("[^k]", "i"), ("i", "i"), ("I", "i"), ("\u0131", "i"), ("\u0130", "i"),
    ("[^\u0131]", "i"), ("s", "i"), ("S", "i"), ("\u017f", "i"), ("\u00df", "i"), ("\u1e9e", "i"), ("[\u00df]", "i"),
    ("\u00b5", "i"), ("\u03bc", "i"), ("\u03c3", "i"), ("\u03a3", "i"), ("\u03c2", "i"), ("\u0345", "i"), ("\u03b9", "i"),
    ("\u1fd3", "i"), ("\u0390", "i"), ("\ufb05", "i"), ("\u01c5", "i"), ("[\u01c4-\u01c6]", "i"), ("\u1e9b", "i"),
    ("\u1c85", "i"), ("[\u1c80-\u1c88]", "i"), ("\u03f4", "i"), ("\u2126", "i"), ("\u212b", "i"),
    ("[\u0100-\u017f]", "i"), ("[\u0370-\u03ff]", "i"), ("[\u0400-\u04ff]", "i"), ("[\u2160-\u217f]", "i"),
    ("[\u24b6-\u24cf]", "i"), ("[\u13a0-\u13f5]", "i"), ("[\uab70-\uabbf]", "i"), ("[\u10a0-\u10c5]", "i"),
    ("[\\w]", "i"), ("\\w", "i"), ("\\W", "i"), ("[\\dA-F]", "i"), ("[\\sk]", "i"), ("[^\\W\\d]", "i"), ("[\\WA]", "i"),
    ("[^\\Wk]", "i"), ("[\\Dx]", "i"), ("[^\\Sa]", "i"), ("\\d", "i"), ("[0-9]", "i"), ("[!-/]", "i"), (".", "i"),
    ("\\U00010400", "i"), ("\\U00010428", "i"), ("[\\U00010400-\\U0001044f]", "i"), ("[\\U00010428]", "i"),
    ("[\\U00010400-\\U00010410]", "i"), ("[\uff00-\\U00010430]", "i"), ("[^\\U00010400-\\U00010427]", "i"),
    ("[\\U0001e900-\\U0001e921]", "i"), ("[\\U00016e60-\\U00016e7f]", "i"), ("[\\U0001e922k]", "i"),
    ("(?a)[a-z]", "i"), ("(?a)k", "i"), ("(?a)[^k]", "i"), ("(?a)\u212a", "i"), ("(?a)[\\wk]", "i"), ("(?a)\u0131", "i"),
    ("(?a)[\\U00010400-\\U00010410]", "i"), ("(?ai)[ik]", ""),
    ("(?i:k)", ""), ("(?i:[a-c])", ""), ("(?-i:k)", "i"), ("(?-i:[a-c])", "i"), ("(?i)[^A-Z]", ""), ("k", ""), ("[a-z]", ""),
]

FINDALL = [
    ("Selected:\\s*([A-Za-z])", "SELECTED: \u0131", "i"),
    ("Selected:\\s*([A-Za-z])", "selected: \u0130 and Selected: \u017f", "i"),
    ("final answer: ([A-D])", "F\u0130NAL ANSWER: c", "i"),
    ("final answer: ([A-D])", "f\u0131nal answer: B", "i"),
    ("stra\u00dfe", "STRA\u1e9eE strasse stra\u00dfe STRASSE", "i"),
    ("stra\u1e9ee", "STRA\u1e9eE strasse stra\u00dfe", "i"),
    ("answer", "AN\u017fWER answer", "i"),
    ("k+", "kK\u212a k", "i"),
    ("[a-z]+", "Stra\u00dfe \u212aelvin \u0130stanbul", "i"),
    ("\u03c3+", "\u03a3\u03c3\u03c2 \u03c3", "i"),
    ("(?i:ab)c", "ABc ABC abc", ""),
    ("a(?-i:b)c", "ABC aBc abC", "i"),
    ("\\bk\\w*", "\u212aelvin Kilo kilo", "i"),
    ("[^a-z ]+", "ab\u0131\u0130 \u212aX 12", "i"),
    ("(?a)[a-z]+", "ab\u0131\u212aK", "i"),
]

MAX = 0x110000
BLOCKS = [
    (0, 0x2000), (0x2100, 0x2200), (0x2460, 0x2500), (0x2C00, 0x2D30), (0xA640, 0xA800), (0xAB50, 0xABC0),
    (0xFB00, 0xFB20), (0xFF00, 0xFF70), (0x10400, 0x10600), (0x10C80, 0x10D00), (0x118A0, 0x11900),
    (0x16E40, 0x16EA0), (0x1E900, 0x1E960), (0x4E00, 0x4E10), (0x1F600, 0x1F610),
]


def ranges(points) -> list[list[int]]:
    out: list[list[int]] = []
    for c in sorted(points):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


special = {c for c in range(MAX) if _sre.unicode_iscased(c)}
special |= {_sre.unicode_tolower(c) for c in range(MAX)}
special |= set(_EXTRA_CASES) | {v for vs in _EXTRA_CASES.values() for v in vs}
candidates = special | {c for a, b in BLOCKS for c in range(a, b)}
candidates -= set(range(0xD800, 0xE000))
# Code points this Unicode version leaves unassigned are left out: Node's newer
# Unicode may have assigned them (a difference of \d or \w, not of case).
candidates = {c for c in candidates if unicodedata.category(chr(c)) != "Cn"}


def flags_of(f: str) -> int:
    return re.IGNORECASE if "i" in f else 0


cases = []
for pattern, f in PATTERNS:
    r = re.compile(pattern, flags_of(f))
    cases.append({"pattern": pattern, "flags": f, "matches": ranges(c for c in candidates if r.fullmatch(chr(c)))})

findall = [
    {"pattern": p, "flags": f, "text": t, "result": re.findall(p, t, flags_of(f))} for p, t, f in FINDALL
]

json.dump(
    {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "candidates": ranges(candidates),
        "fullmatch": cases,
        "findall": findall,
    },
    sys.stdout,
    ensure_ascii=True,
    separators=(",", ":"),
)
sys.stdout.write("\n")
