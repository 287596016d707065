"""Legacy Vietnamese encodings: TCVN3 table proven against glibc iconv, VNI table against
the published layout, detection never firing on Unicode or ordinary text."""
from __future__ import annotations

import csv
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.intake.legacy import (
    KINDS,
    TCVN3_TO_UNICODE,
    VNI_LOWER,
    VNI_TO_UNICODE,
    decode_legacy,
    detect_legacy,
    detect_legacy_cells,
    encode_legacy,
    is_vietnamese_syllable,
)

# The country's communes, shipped with the repository (benchmarks/data): the test never skips.
COMMUNES = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "vietnam-communes-2025.csv"
NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731

# (Unicode, TCVN3 as read from xlsx, VNI as read from xlsx), written out by hand.
KNOWN = [
    ("Hà Nội", "Hµ Néi", "Haø Noäi"),
    ("Đáp ứng", "§¸p øng", "Ñaùp öùng"),
    ("Chưa đáp ứng", "Ch\u00ada ®¸p øng", "Chöa ñaùp öùng"),
    ("Phường Hoàn Kiếm", "Ph\u00adêng Hoµn KiÕm", "Phöôøng Hoaøn Kieám"),
    ("Sở Y tế", "Së Y tÕ", "Sôû Y teá"),
    ("Nguyễn Thị Thanh Vân", "NguyÔn ThÞ Thanh V©n", "Nguyeãn Thò Thanh Vaân"),
    ("Xã Sóc Sơn", "X· Sãc S¬n", "Xaõ Soùc Sôn"),
    ("Không đáp ứng", "Kh«ng ®¸p øng", "Khoâng ñaùp öùng"),
    ("Đã hoàn thành", "§· hoµn thµnh", "Ñaõ hoaøn thaønh"),
    ("Trạm Y tế xã", "Tr¹m Y tÕ x·", "Traïm Y teá xaõ"),
    ("Thủ trưởng đơn vị", "Thñ tr\u00adëng ®¬n vÞ", "Thuû tröôûng ñôn vò"),
    ("Trần Thị Bích Ngọc", "TrÇn ThÞ BÝch Ngäc", "Traàn Thò Bích Ngoïc"),
    ("Hà Nội, ngày 12 tháng 3 năm 2025", "Hµ Néi, ngµy 12 th¸ng 3 n¨m 2025",
     "Haø Noäi, ngaøy 12 thaùng 3 naêm 2025"),
]

# Latin-1 text that is not legacy Vietnamese: loanwords, units, symbols, other languages.
ORDINARY = [
    "café", "°C", "Nhiệt độ 30°C", "30°C", "5 µm", "10 µg", "© 2024", "½ ngày", "± 5", "x²",
    "§ 3", "«quote»", "naïve", "façade", "résumé", "São Paulo", "Müller", "Zürich", "Ångström",
    "crème brûlée", "piñata", "jalapeño", "Göteborg", "Español", "über", "déjà vu", "Noël",
    "Où est le café?", "sí señor", "El Niño", "Straße", "Øresund", "Dr. Müller, München",
    "Ça va", "Château", "Hôtel", "Cà Mau", "Bé Tý", "à la carte", "Ý kiến", "Bà", "Ông",
    "Giá: 25.000 đ/kg", "Hoàn thành 100%", "",
]


def _communes() -> list[str]:
    """The names of Hà Nội's 126 communes and wards."""
    with COMMUNES.open(encoding="utf-8") as fh:
        return [row["name"] for row in csv.DictReader(fh) if row["province_code"] == "01"]


# --------------------------------------------------------------------------- TCVN3 table


def _iconv_has_tcvn() -> bool:
    if shutil.which("iconv") is None:
        return False
    out = subprocess.run(["iconv", "-l"], capture_output=True, text=True).stdout
    return "TCVN5712-1" in out.upper()


@pytest.mark.skipif(not _iconv_has_tcvn(), reason="iconv không có bảng mã TCVN5712-1")
def test_tcvn3_table_is_glibc_iconv():
    derived = {}
    for byte in range(0x80, 0x100):
        res = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=bytes([byte]),
                             capture_output=True, check=True)
        derived[byte] = NFC(res.stdout.decode("utf-8"))
    assert derived == TCVN3_TO_UNICODE
    ascii_bytes = bytes(range(0x20, 0x7F))
    res = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=ascii_bytes,
                         capture_output=True, check=True)
    assert res.stdout == ascii_bytes  # ASCII stays ASCII


def test_tcvn3_table_shape():
    assert sorted(TCVN3_TO_UNICODE) == list(range(0x80, 0x100))
    assert all(v == NFC(v) and len(v) == 1 for v in TCVN3_TO_UNICODE.values())
    # the letters the brief's examples rely on
    assert (TCVN3_TO_UNICODE[0xB5], TCVN3_TO_UNICODE[0xE9], TCVN3_TO_UNICODE[0xA7]) == ("à", "ộ", "Đ")
    assert TCVN3_TO_UNICODE[0xAD] == "ư"  # soft hyphen position: keep it out of separators


def test_tcvn3_combining_bytes_compose():
    assert decode_legacy("A\u00b3", "tcvn3") == "Á"  # 0xB3 = combining acute
    assert decode_legacy("\u00b0C", "tcvn3") == NFC("\u0300C")


# --------------------------------------------------------------------------- VNI table

_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_CIRC = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}


def test_vni_table_follows_layout():
    """Each VNI key re-derived from the layout rules: base + tone accent, a/e/o + circumflex
    family, a + breve family; ơ ư đ ỉ ĩ ị ỵ as single characters."""
    singles = {"ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị",
               "î": "ỵ"}
    for key, val in VNI_LOWER.items():
        if len(key) == 1:
            assert singles[key] == val, key
            continue
        base, acc = key
        base_u = {"ô": "ơ", "ö": "ư"}.get(base, base)
        if acc in _TONES:
            expect = base_u + _TONES[acc]
        elif acc in _CIRC and base in "aeo":
            expect = base + "\u0302" + _CIRC[acc]
        elif acc in _BREVE and base == "a":
            expect = "a\u0306" + _BREVE[acc]
        else:
            raise AssertionError(f"unexpected VNI key {key!r}")
        assert NFC(expect) == val, key
    # every lowercase Vietnamese letter with a diacritic appears exactly once
    vowels = "a ă â e ê i o ô ơ u ư y".split()
    expected = {NFC(v + t) for v in vowels for t in _TONES.values()} | set("ăâêôơư") | {"đ"}
    assert len(VNI_LOWER) == len(expected) == len(set(VNI_LOWER.values()))
    assert set(VNI_LOWER.values()) == expected


def test_vni_capitals_and_mixed_case():
    assert decode_legacy("HAØ NOÄI", "vni") == "HÀ NỘI"
    assert decode_legacy("Aùnh", "vni") == "Ánh"  # capital base, small accent
    assert decode_legacy("ÑOÀNG", "vni") == "ĐỒNG"
    assert VNI_TO_UNICODE["Ö"] == "Ư" and VNI_TO_UNICODE["Ñ"] == "Đ"
    assert detect_legacy("HAØ NOÄI") == "vni"


# --------------------------------------------------------------------------- known words


@pytest.mark.parametrize("word,tcvn3,vni", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_words(word, tcvn3, vni):
    assert encode_legacy(word, "tcvn3") == tcvn3
    assert encode_legacy(word, "vni") == vni
    for kind, legacy in (("tcvn3", tcvn3), ("vni", vni)):
        assert detect_legacy(legacy) == kind
        out = decode_legacy(legacy, kind)
        assert out == NFC(word) and unicodedata.is_normalized("NFC", out)
    assert detect_legacy(word) is None
    assert detect_legacy(NFD(word)) is None


def test_communes_round_trip_and_unicode_not_flagged():
    names = _communes()
    assert len(names) == 126
    tcvn_ok = 0
    for name in names:
        assert detect_legacy(name) is None, name
        assert detect_legacy(NFD(name)) is None, name
        for kind in KINDS:
            try:
                legacy = encode_legacy(name, kind)
            except ValueError:
                assert kind == "tcvn3"  # e.g. capital "Ứ" has no 0x80-0xFF byte in TCVN3
                continue
            tcvn_ok += kind == "tcvn3"
            assert detect_legacy(legacy) == kind, (name, legacy)
            assert decode_legacy(legacy, kind) == name
    assert tcvn_ok >= 120


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_latin1_not_flagged(text):
    assert detect_legacy(text) is None


def test_single_ambiguous_cells_settled_by_column():
    # TCVN3 "Cã" (Có) is also a well-formed Unicode shape: alone it stays undecided ...
    assert detect_legacy("Cã") is None
    # ... but a column typed in TCVN3 under Unicode template headers is recognised.
    column = ["Đơn vị", "Ý kiến", "Cã", "Kh«ng", "Cã", "Së Y tÕ", None, 12]
    assert detect_legacy_cells(column) == "tcvn3"
    assert detect_legacy_cells(["Đơn vị", "Có", "Không", "Hà Nội"]) is None
    assert detect_legacy_cells(["Coù", "Khoâng", "Ñaït"]) == "vni"


def test_decode_rejects_unknown_kind():
    with pytest.raises(ValueError):
        decode_legacy("x", "utf-7")


def test_syllable_checker():
    for w in "gì giếng quyết hoà hòa thuý thúy khuỷu xoong soóc nghiêng người ạ".split():
        assert is_vietnamese_syllable(w), w
        assert is_vietnamese_syllable(NFD(w)), w
    for w in "xaõ cafe hoaøn ac ngh".split():  # tone on the wrong vowel, f, stop w/o tone
        assert not is_vietnamese_syllable(w), w


# --------------------------------------------------------------------------- properties

_ONSETS = "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x".split() + [""]
# (vowel cluster, coda, index of the tone-bearing vowel): standard orthography
_RHYMES = [
    ("a", "", 0), ("a", "n", 0), ("a", "nh", 0), ("a", "c", 0), ("ă", "m", 0), ("â", "t", 0),
    ("e", "o", 0), ("ê", "nh", 0), ("i", "", 0), ("o", "ng", 0), ("ô", "i", 0), ("ơ", "n", 0),
    ("u", "", 0), ("ư", "ng", 0), ("ia", "", 0), ("ưa", "", 0), ("ua", "", 0), ("iê", "n", 1),
    ("yê", "u", 1), ("ươ", "ng", 1), ("uô", "c", 1), ("oa", "", 1), ("oa", "nh", 1),
    ("uy", "", 1), ("uyê", "n", 2), ("a", "y", 0), ("â", "u", 0), ("oă", "n", 1), ("uâ", "n", 1),
    ("ươ", "i", 1), ("y", "", 0),
]
_TONE_MARKS = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]


@st.composite
def syllables(draw):
    cluster, coda, pos = draw(st.sampled_from(_RHYMES))
    onset = draw(st.sampled_from([o for o in _ONSETS if not (
        (o == "gi" and cluster[0] in "iy") or (o == "qu" and cluster[0] in "uo"))]))
    stops = coda in ("p", "t", "c", "ch")
    tone = draw(st.sampled_from(["\u0301", "\u0323"] if stops else _TONE_MARKS))
    chars = [NFD(c) for c in cluster]
    chars[pos] += tone  # tone on the pos-th vowel
    word = NFC(onset + "".join(chars) + coda)
    case = draw(st.sampled_from(["lower", "title", "upper"]))
    return {"lower": word, "title": word[:1].upper() + word[1:], "upper": word.upper()}[case]


_VOCAB = sorted({w for k in KNOWN for w in k[0].replace(",", " ").split() if not w.isdigit()})
_VN_ALPHABET = "".join(sorted(set(NFC("aăâbcdđeêghiklmnoôơpqrstuưvxy" + "".join(
    NFC(v + t) for v in "aăâeêioôơuưy" for t in _TONE_MARKS[1:])))))
_VN_ONLY = "ăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
_SEPS = st.sampled_from([" ", "  ", ", ", " - ", "; ", "\n", ". "])
_FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60))
def test_ascii_never_legacy(text):
    assert detect_legacy(text) is None


@_FAST
@given(st.lists(st.tuples(st.one_of(syllables(), st.sampled_from(_VOCAB)), _SEPS),
                min_size=1, max_size=12))
def test_vietnamese_words_never_legacy(parts):
    text = "".join(w + sep for w, sep in parts).strip()
    assert detect_legacy(text) is None
    assert detect_legacy(NFD(text)) is None


@_FAST
@given(st.text(alphabet=_VN_ALPHABET + " ,.-", max_size=40), st.sampled_from(_VN_ONLY),
       st.integers(min_value=0, max_value=40))
def test_random_vietnamese_letters_never_legacy(text, extra, at):
    text = NFC(text[:at] + extra + text[at:])
    assert detect_legacy(text) is None
    assert detect_legacy(NFD(text)) is None


@_FAST
@given(syllables())
def test_generated_syllables_are_accepted(word):
    assert is_vietnamese_syllable(word), word
