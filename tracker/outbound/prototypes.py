"""Fast path for unit workbooks: build one workbook per layout, derive the others from it.

Two units whose workbooks have the same layout (same group, same products, and every
unit-dependent text of the same emptiness and wrapped line count at every width the form uses)
differ only in those texts: xlsxwriter stores text as indices into the shared-string table, so the
sheets, styles and names are identical and only xl/sharedStrings.xml and docProps/core.xml change.
The fast path swaps those two parts and re-zips; the result is byte-identical to a direct build
(tests compare them for every unit). Whenever the swap could be ambiguous (a unit text equal to
another text of the workbook) it builds directly instead.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from xlsxwriter.core import Core
from xlsxwriter.sharedstrings import SharedStrings

from tracker.model.campaign import Campaign
from tracker.outbound import unit_form
from tracker.outbound.styles import lines_needed
from tracker.model.registry import Unit

def layout_key(unit: Unit, texts: dict) -> tuple:
    """Units with equal keys get workbooks that differ only in their texts."""
    measures = unit_form.text_measures(len(unit.products))
    shape = []
    for slot, text in texts.items():
        m = next((v for k, v in measures.items() if slot == k or (k.endswith("_") and slot.startswith(k))), None)
        shape.append((slot, bool(text), lines_needed(text, *m) if m else None))
    return unit.group, tuple((p.key, p.kind) for p in unit.products), tuple(shape)


@dataclass
class _Prototype:
    texts: dict
    strings: list[str]        # the shared-string table, in index order
    count: int                # total string references (the sst "count" attribute)
    members: list[tuple[zipfile.ZipInfo, bytes, bytes]]   # (info, data, data as deflated in the zip)


class _Table:
    """The part of xlsxwriter's SharedStringTable that SharedStrings reads."""

    def __init__(self, strings: list[str], count: int):
        self.string_array, self.count, self.unique_count = strings, count, len(strings)
        self.string_table = {}


def _xml(writer) -> bytes:
    fh = io.StringIO()
    writer._set_xml_writer(fh)
    writer._assemble_xml_file()
    return fh.getvalue().encode("utf-8")


class FastForms:
    """Builds unit workbooks for one campaign, reusing a prototype per layout."""

    def __init__(self, campaign: Campaign, secret: bytes):
        self.campaign, self.secret = campaign, secret
        self.prototypes: dict[tuple, _Prototype] = {}
        self.direct = self.derived = 0
        self._fragments: dict[str, str] = {}

    def build(self, unit: Unit) -> bytes:
        texts = unit_form.unit_texts(self.campaign, unit, self.secret)
        key = layout_key(unit, texts)
        proto = self.prototypes.get(key)
        if proto is not None:
            data = self._derive(proto, texts)
            if data is not None:
                self.derived += 1
                return data
        self.direct += 1
        kept = {}
        data = unit_form.build_unit_workbook(self.campaign, unit, self.secret,
                                             keep=lambda wb: kept.update(sst=wb.str_table))
        if proto is None:
            members = _members(data)
            sst = kept["sst"]
            self.prototypes[key] = _Prototype(texts, list(sst.string_array), sst.count, members)
        return data

    def _si(self, text: str) -> str:
        """The <si> element xlsxwriter writes for one string (memoised: most strings repeat)."""
        frag = self._fragments.get(text)
        if frag is None:
            sst = SharedStrings()
            sst.string_table = _Table([text], 1)
            xml = _xml(sst).decode("utf-8")
            frag = self._fragments[text] = xml[xml.index("<si>"):xml.rindex("</sst>")]
        return frag

    def _sst_frame(self, proto: _Prototype) -> tuple[str, str]:
        """The prototype's sharedStrings.xml around its <si> elements (counts are the same)."""
        if not hasattr(proto, "frame"):
            xml = next(d for i, d, _ in proto.members if i.filename == "xl/sharedStrings.xml").decode("utf-8")
            proto.frame = (xml[:xml.index("<si>")], xml[xml.rindex("</sst>"):])
        return proto.frame

    def _derive(self, proto: _Prototype, texts: dict) -> bytes | None:
        old = [v for k, v in proto.texts.items() if v and not k.startswith("prop_")]
        new = [texts[k] for k, v in proto.texts.items() if v and not k.startswith("prop_")]
        fixed = set(proto.strings) - set(old)
        # The swap must be one-to-one and must not meet any fixed text, or dedup would differ.
        if len(set(old)) != len(old) or len(set(new)) != len(new) or fixed & set(new):
            return None
        swap = dict(zip(old, new))
        body = "".join(self._si(swap.get(s, s)) for s in proto.strings)
        head, tail = self._sst_frame(proto)
        core = Core()
        core._set_properties(unit_form.workbook_properties(self.campaign, texts))
        parts = {"xl/sharedStrings.xml": (head + body + tail).encode("utf-8"), "docProps/core.xml": _xml(core)}
        return _zip(proto.members, parts)


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes, bytes]]:
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
            out.append((info, z.read(info), data[start:start + info.compress_size]))
    return out


def _zip(members, parts: dict[str, bytes]) -> bytes:
    """Write the members as zipfile would, copying the already deflated bytes of unchanged ones."""
    import copy

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for info, data, raw in members:
            if info.filename in parts:
                fresh = zipfile.ZipInfo(info.filename, info.date_time)
                fresh.compress_type = info.compress_type
                z.writestr(fresh, parts[info.filename])
                continue
            # zipfile has no public call for pre-compressed data: write the local header and the
            # bytes ourselves and register the entry, exactly as ZipFile.writestr leaves it.
            same = copy.copy(info)
            same.header_offset = buf.tell()
            buf.write(same.FileHeader(False))
            buf.write(raw)
            z.filelist.append(same)
            z.NameToInfo[same.filename] = same
            z.start_dir = buf.tell()
    return buf.getvalue()
