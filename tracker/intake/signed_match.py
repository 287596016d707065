"""Which unit a signed copy belongs to: a pure function of its reading, the registry, and where
it came from (file name, sender).

In order of trust: the QR code printed on the form (its token proves the unit); the digital
signer's organisation, compared with the unit names as Vietnamese text (case, tone marks,
"UBND"/"Ủy ban nhân dân" and "thành phố Hà Nội" aside); then the file name or the sender's
address, which anyone can get wrong, so a match by them needs staff confirmation. A copy that
matches no unit, or a unit other than the one whose spreadsheet came with it, is flagged and
never attached by itself.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.utils import parseaddr

from tracker.intake.signed_copy import SignedCopyReading
from tracker.model.findings import Finding
from tracker.model.registry import Unit, ascii_fold, slug

# The keys of findings.CHOICES["method"], which says them to people.
BY_QR, BY_SIGNER, BY_FILE_NAME, BY_SENDER = "qr", "signer", "file_name", "sender"

# Words around a unit's name in certificates and letterheads, compared without tone marks.
_PREFIXES = (("ubnd",), ("uy", "ban", "nhan", "dan"))
_SUFFIXES = (("thanh", "pho", "ha", "noi"), ("tp", "ha", "noi"), ("ha", "noi"), ("tp", "hn"))


@dataclass(frozen=True)
class CopyMatch:
    file: str
    unit_id: str | None
    method: str                     # BY_* or "" when nothing matched
    needs_confirmation: bool        # matched by file name or sender only, or by an unproven signer
    findings: tuple[Finding, ...] = ()

    @property
    def attachable(self) -> bool:
        """The copy may be recorded for `unit_id` without anyone looking: matched by QR or by a
        valid signature, and nothing flagged."""
        return (self.unit_id is not None and not self.needs_confirmation
                and not any(f.severity == "error" for f in self.findings))


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", str(text or "")).casefold()
    return re.findall(r"\w+", text)


def name_keys(text: str) -> tuple[str, str]:
    """(exact, folded): the name's words without the administrative prefix and the city suffix,
    with tone marks and without. "UBND phường Ba Đình, TP Hà Nội" -> ("phường ba đình", "phuong ba dinh")."""
    words = _words(text)
    folded = [ascii_fold(w) for w in words]
    changed = True
    while changed and folded:
        changed = False
        for p in _PREFIXES:
            if tuple(folded[:len(p)]) == p and len(folded) > len(p):
                words, folded, changed = words[len(p):], folded[len(p):], True
        for s in _SUFFIXES:
            if tuple(folded[-len(s):]) == s and len(folded) > len(s):
                words, folded, changed = words[:-len(s)], folded[:-len(s)], True
    return " ".join(words), " ".join(folded)


class UnitIndex:
    """The registry looked up by name, file-name slug, email and mail domain (built once)."""

    def __init__(self, units: list[Unit]):
        self.by_id = {u.id: u for u in units}
        self.exact: dict[str, set[str]] = {}
        self.folded: dict[str, set[str]] = {}
        self.emails: dict[str, set[str]] = {}
        self.slugs: list[tuple[str, str]] = []
        for u in units:
            exact, folded = name_keys(u.name)
            self.exact.setdefault(exact, set()).add(u.id)
            self.folded.setdefault(folded, set()).add(u.id)
            for addr in filter(None, re.split(r"[;,\s]+", u.email or "")):
                self.emails.setdefault(addr.casefold(), set()).add(u.id)
            self.slugs.append((u.id, f"-{u.id}-"))
            self.slugs.append((u.id, f"-{slug(u.name)}-"))

    def by_name(self, text: str) -> set[str]:
        exact, folded = name_keys(text)
        if not folded:
            return set()
        return set(self.exact.get(exact) or self.folded.get(folded) or ())

    def by_file_name(self, file_name: str) -> set[str]:
        stem = file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        stem = stem.rsplit(".", 1)[0] if "." in stem else stem
        hay = f"-{slug(stem)}-"
        hits = [(len(needle), uid) for uid, needle in self.slugs if len(needle) > 2 and needle in hay]
        if not hits:
            return set()
        longest = max(n for n, _ in hits)   # "phuong-ha-dong-moi" over "phuong-ha-dong"
        return {uid for n, uid in hits if n == longest}

    def by_sender(self, sender: str) -> set[str]:
        addr = parseaddr(sender or "")[1].casefold()
        if not addr:
            return set()
        if addr in self.emails:
            return set(self.emails[addr])
        domain = addr.rpartition("@")[2]
        return {u.id for u in self.by_id.values() if u.domain and (domain == u.domain
                                                                   or domain.endswith("." + u.domain))}


def _label(index: UnitIndex, unit_id: str) -> str:
    u = index.by_id.get(unit_id)
    return f"{u.name} ({u.id})" if u else unit_id


def _by_signer(reading: SignedCopyReading | None, index: UnitIndex) -> tuple[set[str], bool]:
    """Units named by any signer's organisation, unit or common name, and whether a signature
    naming one of them holds."""
    found: set[str] = set()
    valid = False
    for s in reading.signatures if reading else ():
        hit: set[str] = set()
        for text in (s.signer.organisation, s.signer.unit, s.signer.name):
            hit |= index.by_name(text) if text else set()
        found |= hit
        valid = valid or (bool(hit) and s.valid)
    return found, valid


def match_copy(reading: SignedCopyReading | None, index: UnitIndex, *, file_name: str = "", sender: str = "",
               expected_unit_id: str | None = None) -> CopyMatch:
    """The unit of one copy. `reading` may be None (the file was refused: it is still worth
    knowing who sent it); `expected_unit_id` is the unit whose spreadsheet came with the copy."""
    name = (reading.file if reading else "") or file_name
    findings: list[Finding] = []
    qr_unit = reading.qr_unit_id if reading else None
    signer_units, signer_valid = _by_signer(reading, index)
    unit_id, method, confirm = None, "", False
    if qr_unit:
        unit_id, method = qr_unit, BY_QR
        others = signer_units - {qr_unit}
        if others:
            findings.append(Finding("copy_signer_other_unit", file=name, value=",".join(sorted(others)),
                                    unit=_label(index, qr_unit),
                                    units=", ".join(_label(index, u) for u in sorted(others))))
    elif len(signer_units) == 1:
        unit_id, method, confirm = next(iter(signer_units)), BY_SIGNER, not signer_valid
    else:
        weak = {BY_FILE_NAME: index.by_file_name(file_name or name), BY_SENDER: index.by_sender(sender)}
        units = {m: (next(iter(u)) if len(u) == 1 else None) for m, u in weak.items()}
        named = {u for u in units.values() if u}
        if len(named) == 1:
            unit_id = named.pop()
            method = BY_FILE_NAME if units[BY_FILE_NAME] == unit_id else BY_SENDER
            confirm = True
        elif len(named) > 1:
            findings.append(Finding("copy_ambiguous", file=name, value=sender,
                                    file_unit=_label(index, units[BY_FILE_NAME]),
                                    sender_unit=_label(index, units[BY_SENDER])))
    if unit_id is None:
        if not any(f.code == "copy_ambiguous" for f in findings):
            findings.append(Finding("copy_unmatched", file=name, value=sender,
                                    units=", ".join(_label(index, u) for u in sorted(signer_units))))
        return CopyMatch(name, None, "", False, tuple(findings))
    if expected_unit_id and unit_id != expected_unit_id:
        findings.append(Finding("copy_other_unit", file=name, value=unit_id, expected=expected_unit_id,
                                unit=_label(index, unit_id), method=method,
                                other_unit=_label(index, expected_unit_id)))
    elif confirm:
        findings.append(Finding("copy_needs_confirmation", file=name, value=unit_id, unit=_label(index, unit_id),
                                method=method))
    return CopyMatch(name, unit_id, method, confirm, tuple(findings))
