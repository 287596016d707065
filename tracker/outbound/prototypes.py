"""Fast path for unit workbooks: build one workbook per layout, derive the others from it.

Two units whose workbooks have the same layout (same group, same products, and every
unit-dependent text of the same emptiness and wrapped line count at every width the form uses)
differ only in those texts: xlsxwriter stores text as indices into the shared-string table, so the
sheets, styles and names are identical and only xl/sharedStrings.xml and docProps/core.xml change,
and the form sheet where a formula's cached value is the unit's text (the conclusion, whose value
is written beside its formula for programs that do not recalculate). The form's QR picture is the
unit's too: xl/media/image1.png is swapped whole; its drawing (position and size) is the same for
every unit, as every QR picture has the same pixel size and resolution (ident.qr_png). The fast
path swaps those strings, values and the picture and re-zips; the result is byte-identical to a
direct build (tests compare them for every unit). Whenever the swap could be ambiguous (a unit
text equal to another text of the workbook, a cached value found other than once) it builds
directly instead.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from xlsxwriter.core import Core
from xlsxwriter.xmlwriter import XMLwriter

from tracker.model.campaign import Campaign
from tracker.model.registry import Unit
from tracker.outbound import unit_form
from tracker.outbound.sheets import SafeSharedStrings, formula_value, stored


def layout_key(campaign: Campaign, unit: Unit, texts: dict, scale: int = 100) -> tuple:
    """Units with equal keys get workbooks that differ only in their texts and QR picture."""
    return unit_form.layout_shape(campaign, unit, texts, scale)


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
        self._fits: dict[tuple, bool] = {}    # layout at 100 % -> whether it prints on MAX_PAGES pages

    def _scale(self, unit: Unit, texts: dict, key: tuple) -> int:
        """The unit's print scale: whether the form fits at 100 % follows from its layout at 100 %
        (measured once per layout); a form that does not is measured at smaller scales."""
        fits = self._fits.get(key)
        if fits is None:
            fits = self._fits[key] = unit_form.form_pages(self.campaign, unit, texts, 100) <= unit_form.MAX_PAGES
        return 100 if fits else unit_form.form_scale(self.campaign, unit, texts)

    def build(self, unit: Unit) -> bytes:
        texts = unit_form.unit_texts(self.campaign, unit, self.secret)
        qr = unit_form.unit_qr(self.campaign, unit, self.secret)
        key = layout_key(self.campaign, unit, texts)
        scale = self._scale(unit, texts, key)
        if scale != 100:
            key = layout_key(self.campaign, unit, texts, scale)
        proto = self.prototypes.get(key)
        if proto is not None:
            data = self._derive(proto, texts, qr)
            if data is not None:
                self.derived += 1
                return data
        self.direct += 1
        kept = {}
        data = unit_form.build_unit_workbook(self.campaign, unit, self.secret, scale=scale, qr=qr,
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
            sst = SafeSharedStrings()
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

    def _derive(self, proto: _Prototype, texts: dict, qr: bytes) -> bytes | None:
        strings = [k for k, v in proto.texts.items()
                   if v and not k.startswith("prop_") and k not in unit_form.VALUE_SLOTS]
        # As the sheets store them (a rich-looking text as a run, a long one cut): the string table's form.
        old = [stored(proto.texts[k]) for k in strings]
        new = [stored(texts[k]) for k in strings]
        fixed = set(proto.strings) - set(old)
        # The swap must be one-to-one and must not meet any fixed text, or dedup would differ.
        if len(set(old)) != len(old) or len(set(new)) != len(new) or fixed & set(new):
            return None
        swap = dict(zip(old, new))
        body = "".join(self._si(swap.get(s, s)) for s in proto.strings)
        head, tail = self._sst_frame(proto)
        core = Core()
        core._set_properties(unit_form.workbook_properties(self.campaign, texts))
        parts = {"xl/sharedStrings.xml": (head + body + tail).encode("utf-8"), "docProps/core.xml": _xml(core),
                 QR_PART: qr}
        changed = [k for k in unit_form.VALUE_SLOTS if proto.texts.get(k) != texts.get(k)]
        if changed:
            sheet = next(d for i, d, _ in proto.members if i.filename == FORM_PART)
            for k in changed:
                before, after = _cached(proto.texts[k]), _cached(texts[k])
                if sheet.count(before) != 1:
                    return None
                sheet = sheet.replace(before, after)
            parts[FORM_PART] = sheet
        return _zip(proto.members, parts)


FORM_PART = "xl/worksheets/sheet1.xml"   # the form: the first sheet
QR_PART = "xl/media/image1.png"          # its QR code: the workbook's only picture


def _cached(value: str) -> bytes:
    """A formula's cached string value as a SafeSheet writes it in the sheet."""
    return f"<v>{XMLwriter()._escape_data(formula_value(value))}</v>".encode()


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
