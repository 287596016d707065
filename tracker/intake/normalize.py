"""Turning what a unit typed into what the campaign allows: NFC, case, spaces, legacy fonts."""
from __future__ import annotations

import re
import unicodedata

from tracker.intake import legacy

_SPACES = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)


def clean_text(value) -> str:
    """NFC, invisible characters dropped, runs of white space folded, trimmed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_INVISIBLE).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


def answer_key(text: str) -> str:
    return clean_text(text).casefold()


class AnswerMap:
    """Maps a cell's text to "met"/"not_met"/"blank", or None when it is not unambiguous."""

    def __init__(self, met: str, not_met: str):
        self.by_key = {answer_key(met): "met", answer_key(not_met): "not_met"}
        self.allowed = f"“{met}”, “{not_met}” hoặc để trống"

    def map(self, text: str) -> tuple[str | None, str | None]:
        """(answer, legacy kind if the text was in a legacy font and decoded)."""
        key = answer_key(text)
        if key == "":
            return "blank", None
        if key in self.by_key:
            return self.by_key[key], None
        kind = legacy.detect_legacy(clean_text(text))
        if kind:
            decoded = answer_key(legacy.decode_legacy(clean_text(text), kind))
            if decoded in self.by_key:
                return self.by_key[decoded], kind
        return None, None


def legacy_text(text: str) -> tuple[str, str | None]:
    """Free text (notes, proposals, signer): decoded when it is plainly in a legacy font."""
    kind = legacy.detect_legacy(text) if text else None
    if kind:
        return unicodedata.normalize("NFC", legacy.decode_legacy(text, kind)), kind
    return text, None


LEGACY_VI = {"tcvn3": "TCVN3 (phông .VnTime, bộ gõ ABC)", "vni": "VNI (phông VNI-Times)"}
