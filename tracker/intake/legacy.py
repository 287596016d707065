"""Legacy Vietnamese encodings (TCVN3/ABC and VNI) found in returned workbooks.

Offices typing with ".VnTime" (TCVN3) or "VNI-Times" fonts produce cells whose
characters are the font's byte values read as Latin-1, e.g. "Hµ Néi" (TCVN3) or
"Haø Noäi" (VNI) for "Hà Nội". `detect_legacy` spots such text and
`decode_legacy` turns it back into NFC Unicode.
"""
from __future__ import annotations

import re
import unicodedata

# TCVN3 byte -> Unicode (NFC), bytes 0x80-0xFF. Generated once with glibc
# `iconv -f TCVN5712-1 -t UTF-8` on each single byte, outputs normalised to NFC;
# tests/test_intake_legacy.py re-derives it from iconv and compares. ASCII is
# unchanged. (glibc's table is the full TCVN 5712 "VN1" set, a superset of the
# ABC/.VnTime set; 0xB0-0xB4 are combining tone marks, hence the NFC after decoding.)
# glibc also maps a few control bytes (0x01-0x17) to capitals; they are left alone here.
TCVN3_TO_UNICODE: dict[int, str] = {
    0x80: "À",  # LATIN CAPITAL LETTER A WITH GRAVE
    0x81: "Ả",  # LATIN CAPITAL LETTER A WITH HOOK ABOVE
    0x82: "Ã",  # LATIN CAPITAL LETTER A WITH TILDE
    0x83: "Á",  # LATIN CAPITAL LETTER A WITH ACUTE
    0x84: "Ạ",  # LATIN CAPITAL LETTER A WITH DOT BELOW
    0x85: "Ặ",  # LATIN CAPITAL LETTER A WITH BREVE AND DOT BELOW
    0x86: "Ậ",  # LATIN CAPITAL LETTER A WITH CIRCUMFLEX AND DOT BELOW
    0x87: "È",  # LATIN CAPITAL LETTER E WITH GRAVE
    0x88: "Ẻ",  # LATIN CAPITAL LETTER E WITH HOOK ABOVE
    0x89: "Ẽ",  # LATIN CAPITAL LETTER E WITH TILDE
    0x8A: "É",  # LATIN CAPITAL LETTER E WITH ACUTE
    0x8B: "Ẹ",  # LATIN CAPITAL LETTER E WITH DOT BELOW
    0x8C: "Ệ",  # LATIN CAPITAL LETTER E WITH CIRCUMFLEX AND DOT BELOW
    0x8D: "Ì",  # LATIN CAPITAL LETTER I WITH GRAVE
    0x8E: "Ỉ",  # LATIN CAPITAL LETTER I WITH HOOK ABOVE
    0x8F: "Ĩ",  # LATIN CAPITAL LETTER I WITH TILDE
    0x90: "Í",  # LATIN CAPITAL LETTER I WITH ACUTE
    0x91: "Ị",  # LATIN CAPITAL LETTER I WITH DOT BELOW
    0x92: "Ò",  # LATIN CAPITAL LETTER O WITH GRAVE
    0x93: "Ỏ",  # LATIN CAPITAL LETTER O WITH HOOK ABOVE
    0x94: "Õ",  # LATIN CAPITAL LETTER O WITH TILDE
    0x95: "Ó",  # LATIN CAPITAL LETTER O WITH ACUTE
    0x96: "Ọ",  # LATIN CAPITAL LETTER O WITH DOT BELOW
    0x97: "Ộ",  # LATIN CAPITAL LETTER O WITH CIRCUMFLEX AND DOT BELOW
    0x98: "Ờ",  # LATIN CAPITAL LETTER O WITH HORN AND GRAVE
    0x99: "Ở",  # LATIN CAPITAL LETTER O WITH HORN AND HOOK ABOVE
    0x9A: "Ỡ",  # LATIN CAPITAL LETTER O WITH HORN AND TILDE
    0x9B: "Ớ",  # LATIN CAPITAL LETTER O WITH HORN AND ACUTE
    0x9C: "Ợ",  # LATIN CAPITAL LETTER O WITH HORN AND DOT BELOW
    0x9D: "Ù",  # LATIN CAPITAL LETTER U WITH GRAVE
    0x9E: "Ủ",  # LATIN CAPITAL LETTER U WITH HOOK ABOVE
    0x9F: "Ũ",  # LATIN CAPITAL LETTER U WITH TILDE
    0xA0: "\u00a0",  # NO-BREAK SPACE
    0xA1: "Ă",  # LATIN CAPITAL LETTER A WITH BREVE
    0xA2: "Â",  # LATIN CAPITAL LETTER A WITH CIRCUMFLEX
    0xA3: "Ê",  # LATIN CAPITAL LETTER E WITH CIRCUMFLEX
    0xA4: "Ô",  # LATIN CAPITAL LETTER O WITH CIRCUMFLEX
    0xA5: "Ơ",  # LATIN CAPITAL LETTER O WITH HORN
    0xA6: "Ư",  # LATIN CAPITAL LETTER U WITH HORN
    0xA7: "Đ",  # LATIN CAPITAL LETTER D WITH STROKE
    0xA8: "ă",  # LATIN SMALL LETTER A WITH BREVE
    0xA9: "â",  # LATIN SMALL LETTER A WITH CIRCUMFLEX
    0xAA: "ê",  # LATIN SMALL LETTER E WITH CIRCUMFLEX
    0xAB: "ô",  # LATIN SMALL LETTER O WITH CIRCUMFLEX
    0xAC: "ơ",  # LATIN SMALL LETTER O WITH HORN
    0xAD: "ư",  # LATIN SMALL LETTER U WITH HORN
    0xAE: "đ",  # LATIN SMALL LETTER D WITH STROKE
    0xAF: "Ằ",  # LATIN CAPITAL LETTER A WITH BREVE AND GRAVE
    0xB0: "\u0300",  # COMBINING GRAVE ACCENT
    0xB1: "\u0309",  # COMBINING HOOK ABOVE
    0xB2: "\u0303",  # COMBINING TILDE
    0xB3: "\u0301",  # COMBINING ACUTE ACCENT
    0xB4: "\u0323",  # COMBINING DOT BELOW
    0xB5: "à",  # LATIN SMALL LETTER A WITH GRAVE
    0xB6: "ả",  # LATIN SMALL LETTER A WITH HOOK ABOVE
    0xB7: "ã",  # LATIN SMALL LETTER A WITH TILDE
    0xB8: "á",  # LATIN SMALL LETTER A WITH ACUTE
    0xB9: "ạ",  # LATIN SMALL LETTER A WITH DOT BELOW
    0xBA: "Ẳ",  # LATIN CAPITAL LETTER A WITH BREVE AND HOOK ABOVE
    0xBB: "ằ",  # LATIN SMALL LETTER A WITH BREVE AND GRAVE
    0xBC: "ẳ",  # LATIN SMALL LETTER A WITH BREVE AND HOOK ABOVE
    0xBD: "ẵ",  # LATIN SMALL LETTER A WITH BREVE AND TILDE
    0xBE: "ắ",  # LATIN SMALL LETTER A WITH BREVE AND ACUTE
    0xBF: "Ẵ",  # LATIN CAPITAL LETTER A WITH BREVE AND TILDE
    0xC0: "Ắ",  # LATIN CAPITAL LETTER A WITH BREVE AND ACUTE
    0xC1: "Ầ",  # LATIN CAPITAL LETTER A WITH CIRCUMFLEX AND GRAVE
    0xC2: "Ẩ",  # LATIN CAPITAL LETTER A WITH CIRCUMFLEX AND HOOK ABOVE
    0xC3: "Ẫ",  # LATIN CAPITAL LETTER A WITH CIRCUMFLEX AND TILDE
    0xC4: "Ấ",  # LATIN CAPITAL LETTER A WITH CIRCUMFLEX AND ACUTE
    0xC5: "Ề",  # LATIN CAPITAL LETTER E WITH CIRCUMFLEX AND GRAVE
    0xC6: "ặ",  # LATIN SMALL LETTER A WITH BREVE AND DOT BELOW
    0xC7: "ầ",  # LATIN SMALL LETTER A WITH CIRCUMFLEX AND GRAVE
    0xC8: "ẩ",  # LATIN SMALL LETTER A WITH CIRCUMFLEX AND HOOK ABOVE
    0xC9: "ẫ",  # LATIN SMALL LETTER A WITH CIRCUMFLEX AND TILDE
    0xCA: "ấ",  # LATIN SMALL LETTER A WITH CIRCUMFLEX AND ACUTE
    0xCB: "ậ",  # LATIN SMALL LETTER A WITH CIRCUMFLEX AND DOT BELOW
    0xCC: "è",  # LATIN SMALL LETTER E WITH GRAVE
    0xCD: "Ể",  # LATIN CAPITAL LETTER E WITH CIRCUMFLEX AND HOOK ABOVE
    0xCE: "ẻ",  # LATIN SMALL LETTER E WITH HOOK ABOVE
    0xCF: "ẽ",  # LATIN SMALL LETTER E WITH TILDE
    0xD0: "é",  # LATIN SMALL LETTER E WITH ACUTE
    0xD1: "ẹ",  # LATIN SMALL LETTER E WITH DOT BELOW
    0xD2: "ề",  # LATIN SMALL LETTER E WITH CIRCUMFLEX AND GRAVE
    0xD3: "ể",  # LATIN SMALL LETTER E WITH CIRCUMFLEX AND HOOK ABOVE
    0xD4: "ễ",  # LATIN SMALL LETTER E WITH CIRCUMFLEX AND TILDE
    0xD5: "ế",  # LATIN SMALL LETTER E WITH CIRCUMFLEX AND ACUTE
    0xD6: "ệ",  # LATIN SMALL LETTER E WITH CIRCUMFLEX AND DOT BELOW
    0xD7: "ì",  # LATIN SMALL LETTER I WITH GRAVE
    0xD8: "ỉ",  # LATIN SMALL LETTER I WITH HOOK ABOVE
    0xD9: "Ễ",  # LATIN CAPITAL LETTER E WITH CIRCUMFLEX AND TILDE
    0xDA: "Ế",  # LATIN CAPITAL LETTER E WITH CIRCUMFLEX AND ACUTE
    0xDB: "Ồ",  # LATIN CAPITAL LETTER O WITH CIRCUMFLEX AND GRAVE
    0xDC: "ĩ",  # LATIN SMALL LETTER I WITH TILDE
    0xDD: "í",  # LATIN SMALL LETTER I WITH ACUTE
    0xDE: "ị",  # LATIN SMALL LETTER I WITH DOT BELOW
    0xDF: "ò",  # LATIN SMALL LETTER O WITH GRAVE
    0xE0: "Ổ",  # LATIN CAPITAL LETTER O WITH CIRCUMFLEX AND HOOK ABOVE
    0xE1: "ỏ",  # LATIN SMALL LETTER O WITH HOOK ABOVE
    0xE2: "õ",  # LATIN SMALL LETTER O WITH TILDE
    0xE3: "ó",  # LATIN SMALL LETTER O WITH ACUTE
    0xE4: "ọ",  # LATIN SMALL LETTER O WITH DOT BELOW
    0xE5: "ồ",  # LATIN SMALL LETTER O WITH CIRCUMFLEX AND GRAVE
    0xE6: "ổ",  # LATIN SMALL LETTER O WITH CIRCUMFLEX AND HOOK ABOVE
    0xE7: "ỗ",  # LATIN SMALL LETTER O WITH CIRCUMFLEX AND TILDE
    0xE8: "ố",  # LATIN SMALL LETTER O WITH CIRCUMFLEX AND ACUTE
    0xE9: "ộ",  # LATIN SMALL LETTER O WITH CIRCUMFLEX AND DOT BELOW
    0xEA: "ờ",  # LATIN SMALL LETTER O WITH HORN AND GRAVE
    0xEB: "ở",  # LATIN SMALL LETTER O WITH HORN AND HOOK ABOVE
    0xEC: "ỡ",  # LATIN SMALL LETTER O WITH HORN AND TILDE
    0xED: "ớ",  # LATIN SMALL LETTER O WITH HORN AND ACUTE
    0xEE: "ợ",  # LATIN SMALL LETTER O WITH HORN AND DOT BELOW
    0xEF: "ù",  # LATIN SMALL LETTER U WITH GRAVE
    0xF0: "Ỗ",  # LATIN CAPITAL LETTER O WITH CIRCUMFLEX AND TILDE
    0xF1: "ủ",  # LATIN SMALL LETTER U WITH HOOK ABOVE
    0xF2: "ũ",  # LATIN SMALL LETTER U WITH TILDE
    0xF3: "ú",  # LATIN SMALL LETTER U WITH ACUTE
    0xF4: "ụ",  # LATIN SMALL LETTER U WITH DOT BELOW
    0xF5: "ừ",  # LATIN SMALL LETTER U WITH HORN AND GRAVE
    0xF6: "ử",  # LATIN SMALL LETTER U WITH HORN AND HOOK ABOVE
    0xF7: "ữ",  # LATIN SMALL LETTER U WITH HORN AND TILDE
    0xF8: "ứ",  # LATIN SMALL LETTER U WITH HORN AND ACUTE
    0xF9: "ự",  # LATIN SMALL LETTER U WITH HORN AND DOT BELOW
    0xFA: "ỳ",  # LATIN SMALL LETTER Y WITH GRAVE
    0xFB: "ỷ",  # LATIN SMALL LETTER Y WITH HOOK ABOVE
    0xFC: "ỹ",  # LATIN SMALL LETTER Y WITH TILDE
    0xFD: "ý",  # LATIN SMALL LETTER Y WITH ACUTE
    0xFE: "ỵ",  # LATIN SMALL LETTER Y WITH DOT BELOW
    0xFF: "Ố",  # LATIN CAPITAL LETTER O WITH CIRCUMFLEX AND ACUTE
}

# VNI (VNI-Windows) lowercase letters: base letter + accent character. Tone accents:
# ù sắc, ø huyền, û hỏi, õ ngã, ï nặng; after a/e/o: â circumflex, and á à å ã ä for
# circumflex + tone; after a: ê breve, é è ú ü ë for breve + tone. i-letters, ơ, ư,
# ỵ and đ are single characters. Capitals are the .upper() of both sides (built below).
VNI_LOWER: dict[str, str] = {
    "aù": "á", "aø": "à", "aû": "ả", "aõ": "ã", "aï": "ạ",
    "aê": "ă", "aé": "ắ", "aè": "ằ", "aú": "ẳ", "aü": "ẵ", "aë": "ặ",
    "aâ": "â", "aá": "ấ", "aà": "ầ", "aå": "ẩ", "aã": "ẫ", "aä": "ậ",
    "eù": "é", "eø": "è", "eû": "ẻ", "eõ": "ẽ", "eï": "ẹ",
    "eâ": "ê", "eá": "ế", "eà": "ề", "eå": "ể", "eã": "ễ", "eä": "ệ",
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị",
    "où": "ó", "oø": "ò", "oû": "ỏ", "oõ": "õ", "oï": "ọ",
    "oâ": "ô", "oá": "ố", "oà": "ồ", "oå": "ổ", "oã": "ỗ", "oä": "ộ",
    "ô": "ơ", "ôù": "ớ", "ôø": "ờ", "ôû": "ở", "ôõ": "ỡ", "ôï": "ợ",
    "uù": "ú", "uø": "ù", "uû": "ủ", "uõ": "ũ", "uï": "ụ",
    "ö": "ư", "öù": "ứ", "öø": "ừ", "öû": "ử", "öõ": "ữ", "öï": "ự",
    "yù": "ý", "yø": "ỳ", "yû": "ỷ", "yõ": "ỹ", "î": "ỵ",
    "ñ": "đ",
}


def _build_vni() -> dict[str, str]:
    table = dict(VNI_LOWER)
    for key, val in VNI_LOWER.items():
        table[key.upper()] = val.upper()  # "AÙ" -> "Á", "Ô" -> "Ơ", "Ñ" -> "Đ"
        if len(key) == 2:
            table[key[0].upper() + key[1]] = val.upper()  # "Aù": capital base, small accent
    return table


VNI_TO_UNICODE: dict[str, str] = _build_vni()

_UNICODE_TO_TCVN3 = {v: chr(k) for k, v in TCVN3_TO_UNICODE.items() if len(v) == 1
                     and not unicodedata.combining(v)}
_UNICODE_TO_VNI = {v: k for k, v in VNI_TO_UNICODE.items() if k == k.lower() or k == k.upper()}

KINDS = ("tcvn3", "vni")


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _decode_tcvn3(text: str) -> str:
    return _nfc("".join(TCVN3_TO_UNICODE.get(ord(c), c) if ord(c) >= 0x80 else c for c in text))


def _decode_vni(text: str) -> str:
    out, i, n = [], 0, len(text)
    while i < n:
        pair = text[i:i + 2]
        if len(pair) == 2 and pair in VNI_TO_UNICODE:
            out.append(VNI_TO_UNICODE[pair])
            i += 2
        else:
            out.append(VNI_TO_UNICODE.get(text[i], text[i]))
            i += 1
    return _nfc("".join(out))


def decode_legacy(text: str, kind: str) -> str:
    """Decode TCVN3 ("tcvn3") or VNI ("vni") text read as Latin-1 into NFC Unicode."""
    if kind == "tcvn3":
        return _decode_tcvn3(text)
    if kind == "vni":
        return _decode_vni(text)
    raise ValueError(f"unknown legacy encoding: {kind!r}")


def encode_legacy(text: str, kind: str) -> str:
    """Inverse of decode_legacy (used by tests and fixtures). Raises ValueError on a
    character the encoding cannot represent."""
    table = {"tcvn3": _UNICODE_TO_TCVN3, "vni": _UNICODE_TO_VNI}.get(kind)
    if table is None:
        raise ValueError(f"unknown legacy encoding: {kind!r}")
    out = []
    for c in _nfc(text):
        if c in table:
            out.append(table[c])
        elif ord(c) < 0x80:
            out.append(c)
        else:
            raise ValueError(f"{c!r} is not representable in {kind}")
    return "".join(out)


# --------------------------------------------------------------------------- syllables

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_STOP_TONES = {"\u0301", "\u0323"}  # only sắc / nặng after final p, t, c, ch

_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu",
           "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")


# Vowel cluster -> (allowed codas, positions in the cluster that may carry the tone).
# Open glide clusters (oa, oe, uy) accept both the old (hòa, thúy) and new (hoà, thuý)
# placements; with a coda the tone sits on the second vowel.
_CLUSTERS: dict[str, tuple[str, frozenset[int]]] = {}


def _cluster(names: str, codas: str, positions: tuple[int, ...]) -> None:
    for name in names.split():
        _CLUSTERS[name] = (codas, frozenset(positions))


_cluster("a", "- m n ng nh p t c ch", (0,))
_cluster("ă â", "m n ng p t c", (0,))
_cluster("e o ô u", "- m n ng p t c", (0,))
_cluster("ê i", "- m n nh p t ch", (0,))
_cluster("ơ", "- m n ng p t", (0,))
_cluster("ư", "- m n ng t c", (0,))
_cluster("y", "-", (0,))
_cluster("ai ao au ay âu ây eo êu iu oi ôi ơi ui ưi ưu ia ua ưa", "-", (0,))
_cluster("oo", "ng c", (0, 1))
_cluster("iê ươ", "m n ng p t c", (1,))
_cluster("yê", "m n ng t", (1,))
_cluster("uô", "m n ng t c", (1,))
_cluster("iêu yêu uôi ươi ươu", "-", (1,))
_cluster("oa", "-", (0, 1))
_cluster("oe uy", "-", (0, 1))
_cluster("oă", "m n ng t c", (1,))
_cluster("uâ", "n ng t", (1,))
_cluster("uê", "- n nh ch", (1,))
_cluster("uơ oai oay oeo uây uya uyu", "-", (1,))
_cluster("uyê", "n t", (2,))

# Glide clusters that also take a coda (tone then on the second vowel).
_CODA_GLIDES = {"oa": "m n ng nh p t c ch", "oe": "m n t", "uy": "n nh ch p t"}
_VOWELS = set("aăâeêioôơuưy")
_CODAS = ("ng", "nh", "ch", "m", "n", "p", "t", "c")
_STOPS = ("p", "t", "c", "ch")


def _rhyme_ok(rhyme: str, tone_pos: int | None, tone: str | None) -> bool:
    """tone_pos: index of the toned letter within `rhyme` (None if toneless)."""
    coda = next((c for c in _CODAS if rhyme.endswith(c) and rhyme[:-len(c)]), "")
    cluster = rhyme[:len(rhyme) - len(coda)] if coda else rhyme
    if not cluster or not set(cluster) <= _VOWELS:
        return False
    if coda and cluster in _CODA_GLIDES:
        if coda not in _CODA_GLIDES[cluster].split():
            return False
        positions = frozenset((1,))
    else:
        entry = _CLUSTERS.get(cluster)
        if entry is None or (coda or "-") not in entry[0].split():
            return False
        positions = entry[1]
    if coda in _STOPS and tone not in _STOP_TONES:
        return False  # stop finals take only sắc or nặng
    if cluster == "oo" and coda == "ng" and tone is not None:
        return False  # xoong, boong: loanwords, toneless (keeps VNI "Khoâng" unambiguous)
    return tone_pos is None or tone_pos in positions


def is_vietnamese_syllable(word: str) -> bool:
    """True if `word` (any case, NFC or NFD) is a well-formed Vietnamese syllable,
    including where its tone mark sits."""
    base, tone, tone_idx = [], None, None
    for i, ch in enumerate(_nfc(word.lower())):
        parts = unicodedata.normalize("NFD", ch)
        marks = [c for c in parts if c in _TONE_MARKS]
        if marks:
            if tone is not None or len(marks) > 1:
                return False
            tone, tone_idx = marks[0], i
        base.append(_nfc("".join(c for c in parts if c not in _TONE_MARKS)))
    text = "".join(base)
    if len(text) != len(base) or not text:
        return False
    for onset in _ONSETS:
        if not text.startswith(onset):
            continue
        rhyme = text[len(onset):]  # "gì", "giếng" parse as g + ì, g + iếng
        pos = None if tone_idx is None else tone_idx - len(onset)
        if pos is not None and pos < 0:
            continue
        if rhyme and _rhyme_ok(rhyme, pos, tone):
            return True
    return False


# --------------------------------------------------------------------------- detection

# Code points that only Unicode Vietnamese text has (a legacy font can never yield them):
# precomposed letters above U+00FF and the combining marks of NFD text.
_UNICODE_VN = re.compile("[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1"
                         "\u01af\u01b0\u1ea0-\u1ef9\u0300-\u0303\u0306\u0309\u031b\u0323]")
# Token separators: ASCII whitespace, punctuation and digits, a few Unicode spaces. Not
# \s: it would swallow U+0085, which is a letter in TCVN3.
_SPLIT = re.compile("[ \t\r\n\f\v!-@\\[-`{-~\u2000-\u200b\u2028\u2029\u3000]+")
_LEGACY_CHAR = re.compile("[\u0080-\u00ff]")
_UNIT_MU = re.compile("^\u00b5[A-Za-z]{1,4}$")  # "µm", "µg": micro sign, not TCVN3 "à"


def _letters(s: str) -> int:
    return sum(1 for c in s if c.isalpha())


def _score(text: str) -> dict[str, tuple[int, int, int, list[str]]] | None:
    """Per kind: (evidence, counter-evidence, undecodable suspects, evidence tokens)."""
    if not text or not _LEGACY_CHAR.search(text) or _UNICODE_VN.search(text):
        return None
    tokens = [t for t in _SPLIT.split(text) if t and _LEGACY_CHAR.search(t)]
    scores = {}
    for kind in KINDS:
        ev, counter, junk, hits = 0, 0, 0, []
        for tok in tokens:
            orig_ok = is_vietnamese_syllable(tok)
            dec_ok = is_vietnamese_syllable(decode_legacy(tok, kind))
            if dec_ok and not orig_ok:
                ev += 1
                hits.append(tok)
            elif orig_ok and not dec_ok:
                counter += 1
            elif not orig_ok and not dec_ok:
                junk += 1
        scores[kind] = (ev, counter, junk, hits)
    return scores


def _decide(scores: dict[str, tuple[int, int, int, list[str]]]) -> str | None:
    best: tuple[int, int, str] | None = None
    tie = False
    for kind in KINDS:
        ev, counter, junk, hits = scores[kind]
        if ev == 0 or ev <= counter or ev <= junk:
            continue
        if ev == 1 and (counter or junk or _UNIT_MU.match(hits[0])
                        or _letters(decode_legacy(hits[0], kind)) < 2):
            continue
        if best is None or (ev, -junk) > best[:2]:
            best, tie = (ev, -junk, kind), False
        elif (ev, -junk) == best[:2]:
            tie = True
    if best is None or tie:
        return None  # nothing convincing, or two equally good readings: do not guess
    return best[2]


def detect_legacy(text: str) -> str | None:
    """Return "tcvn3", "vni" or None for one cell's text.

    Score: tokens holding chars U+0080-U+00FF are suspects. A suspect is evidence for a
    kind when it is not a Vietnamese syllable as is but becomes one once decoded;
    counter-evidence when it is one as is and stops being one; junk when it is one in
    neither reading. A kind wins with more evidence than counter-evidence and than junk;
    a lone piece of evidence must decode to 2+ letters and face no counter or junk at
    all; equal readings give None. Text holding any code point only Unicode Vietnamese
    has (precomposed letters above U+00FF, or NFD marks) is never legacy.
    """
    scores = _score(text)
    return _decide(scores) if scores else None


def detect_legacy_cells(texts) -> str | None:
    """Like detect_legacy over many cells (a column or sheet), summing the evidence.

    Cells already in Unicode Vietnamese (e.g. the template's headers) are skipped, so a
    sheet whose data was typed in TCVN3 under Unicode headers is still recognised, and
    single ambiguous cells ("Cã": TCVN3 "Có" or a Unicode shape) are settled by the rest.
    """
    total = {kind: [0, 0, 0, []] for kind in KINDS}
    for text in texts:
        scores = _score(text) if isinstance(text, str) else None
        for kind, (ev, counter, junk, hits) in (scores or {}).items():
            acc = total[kind]
            acc[0] += ev
            acc[1] += counter
            acc[2] += junk
            acc[3].extend(hits[:1])
    return _decide({k: (v[0], v[1], v[2], v[3]) for k, v in total.items()})
