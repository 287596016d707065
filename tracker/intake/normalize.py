"""Turning what a unit typed into what the campaign allows: NFC, case, spaces, legacy fonts."""
from __future__ import annotations

import functools
import re
import unicodedata

from tracker.intake import legacy
from tracker.model.findings import answers_allowed

_SPACES = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SOFT_HYPHEN = "\u00ad"   # invisible in Unicode text, but the letter "ư" in TCVN3 text


def fold(value) -> str:
    """NFC, zero-width characters dropped, no-break spaces as spaces, white space folded, trimmed.
    Soft hyphens are kept: legacy detection needs them (TCVN3 byte 0xAD is "ư")."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_INVISIBLE).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


def clean_text(value) -> str:
    """`fold`, and soft hyphens dropped: for text already known to be Unicode."""
    text = fold(value)
    return _SPACES.sub(" ", text.replace(_SOFT_HYPHEN, "")).strip() if _SOFT_HYPHEN in text else text


# Letters that look exactly like Vietnamese "Đ/đ" but are other code points (Icelandic eth, African D):
# nobody can see the difference, so answers are compared with them folded.
_LOOKALIKE = {0x00D0: "Đ", 0x00F0: "đ", 0x0189: "Đ", 0x0256: "đ"}


def answer_key(text: str) -> str:
    return clean_text(text).translate(_LOOKALIKE).casefold()


def label_key(text) -> str:
    """How labels (unit names, criteria, headers) are compared: clean, case-folded, no trailing colon."""
    return _label_key(text) if isinstance(text, str) else clean_text(text).casefold().rstrip(":").strip()


@functools.lru_cache(maxsize=1 << 16)
def _label_key(text: str) -> str:   # labels repeat across every return: normalise each text once
    return clean_text(text).casefold().rstrip(":").strip()


class AnswerMap:
    """Maps a cell's text to "met"/"not_met"/"blank", or None when it is not unambiguous."""

    def __init__(self, met: str, not_met: str):
        self.by_key = {answer_key(met): "met", answer_key(not_met): "not_met"}
        self.allowed = answers_allowed(met, not_met)

    def map(self, text: str) -> tuple[str | None, str | None]:
        """(answer, legacy kind if the text was in a legacy font and decoded)."""
        key = answer_key(text)
        if key == "":
            return "blank", None
        if key in self.by_key:
            return self.by_key[key], None
        folded = fold(text)
        kind = legacy.detect_legacy(folded)
        if kind:
            decoded = answer_key(legacy.decode_legacy(folded, kind))
            if decoded in self.by_key:
                return self.by_key[decoded], kind
        return None, None


def legacy_text(text: str) -> tuple[str, str | None]:
    """Free text (notes, proposals, signer): decoded when it is plainly in a legacy font, else
    cleaned. Line breaks are kept."""
    lines = [fold(x) for x in str(text or "").split("\n")]
    whole = "\n".join(x for x in lines if x)
    kind = legacy.detect_legacy(whole) if whole else None
    if kind:
        return "\n".join(clean_text(legacy.decode_legacy(x, kind)) for x in lines if x), kind
    return "\n".join(clean_text(x) for x in lines if x), None

