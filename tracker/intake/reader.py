"""Reading one return: which campaign and unit it is, and every answer, note and signer field.

Identification comes from the very-hidden sheet and defined names written by `generate`
(they survive renamed files, renamed sheets and inserted rows). When they are gone (a unit copied
its answers into a fresh file) the labels are used instead: the unit's name and the criteria
texts, and the return says so. Every problem is a Finding naming file, sheet and cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.forms import ident
from tracker.intake.findings import Finding, IntakeError
from tracker.intake.normalize import LEGACY_VI, AnswerMap, clean_text, legacy_text
from tracker.intake.xlsx import Cell, XlsxBook, split_ref

_DATE_TEXT = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.I)
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")


@dataclass
class Reading:
    """What a return says, and what is wrong with it."""
    unit_id: str | None = None
    campaign_id: str | None = None
    identified_by: str = "ident"          # "ident" | "labels"
    answers: dict = field(default_factory=dict)     # (product_id, criterion_id) -> met/not_met/blank
    notes: dict = field(default_factory=dict)       # criterion_id -> text
    domains: dict = field(default_factory=dict)     # product_id -> text
    proposals: str = ""
    signer: str = ""
    doc_number: str = ""
    doc_date: str = ""
    findings: list = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


class _Ctx:
    def __init__(self, book: XlsxBook, reading: Reading):
        self.book, self.r = book, reading

    def add(self, code, severity, message, sheet="", cell="", value="", expected=""):
        self.r.findings.append(Finding(code, severity, message, file=self.book.name, sheet=sheet, cell=cell,
                                       value=str(value)[:200], expected=expected))

    def where(self, sheet, cell) -> str:
        return f"Tệp '{self.book.name}', trang '{sheet}', ô {cell}"


def read_return(path, display_name: str, campaign, units_by_id: dict, secret: bytes,
                is_macro: bool = False) -> Reading:
    reading = Reading()
    with XlsxBook(path, display_name) as book:
        ctx = _Ctx(book, reading)
        if is_macro:
            ctx.add("macro_file", "warning", f"Tệp '{display_name}' là sổ tính có macro (.xlsm). Macro không được "
                    "chạy; chỉ đọc dữ liệu. Lần sau đề nghị đơn vị lưu dạng .xlsx.")
        if _is_master(book):
            raise IntakeError(Finding("is_master", "error", f"Tệp '{display_name}' là bảng tổng hợp (master) của "
                                      "chiến dịch, không phải tệp đơn vị gửi về. Các sửa tay trên master được ghi "
                                      "nhận tự động khi chạy merge.", file=display_name))
        unit = _identify(ctx, campaign, units_by_id, secret)
        if reading.identified_by == "ident":
            _read_by_names(ctx, campaign, unit)
        else:
            _read_by_labels(ctx, campaign, unit)
    return reading


def _is_master(book: XlsxBook) -> bool:
    if ident.ID_SHEET not in book.sheet_names:
        return False
    cells = book.cells(ident.ID_SHEET)
    return cells.get("A1") is not None and cells["A1"].value == "kind" and \
        cells.get("B1") is not None and cells["B1"].value == "master"


# ---------------------------------------------------------------------- identification
def _identify(ctx: _Ctx, campaign, units_by_id, secret):
    book, r = ctx.book, ctx.r
    values = {}
    for name, key in ident.ID_FIELDS:
        found = book.named_cell(name)
        values[key] = clean_text(found[2].value) if found and found[2] is not None else None
    if values["campaign_id"] is None and values["unit_id"] is None:
        r.identified_by = "labels"
        return _identify_by_labels(ctx, campaign, units_by_id)
    r.campaign_id = values["campaign_id"]
    if values["campaign_id"] != campaign.id:
        raise IntakeError(Finding("other_campaign", "error",
                                  f"Tệp '{book.name}' thuộc chiến dịch khác ('{values['campaign_id']}'), không phải "
                                  f"'{campaign.id}'. Kiểm tra lại: có thể đơn vị gửi nhầm tệp của đợt khác. Gửi lại "
                                  "đơn vị tệp mẫu đúng của chiến dịch này.", file=book.name,
                                  value=str(values["campaign_id"]), expected=campaign.id))
    unit = units_by_id.get(values["unit_id"] or "")
    if unit is None:
        raise IntakeError(Finding("unknown_unit", "error",
                                  f"Tệp '{book.name}' mang mã đơn vị '{values['unit_id']}' không có trong danh sách "
                                  "đơn vị của chiến dịch. Kiểm tra units.csv hoặc gửi lại đơn vị đúng tệp mẫu của họ.",
                                  file=book.name, value=str(values["unit_id"])))
    if not ident.token_ok(secret, campaign.id, unit.id, values["template_version"] or "", values["token"] or ""):
        raise IntakeError(Finding("bad_token", "error",
                                  f"Tệp '{book.name}': mã xác thực không khớp với đơn vị '{unit.name}' (thông tin "
                                  "định danh trong tệp đã bị sửa, hoặc tệp được tạo từ một thư mục chiến dịch khác). "
                                  "Không ghép tệp này; gửi lại đơn vị tệp mẫu trong outbox/ và đề nghị điền lại.",
                                  file=book.name, value=str(values["unit_id"])))
    if values["template_version"] != campaign.version:
        ctx.add("old_template", "warning", f"Tệp '{book.name}' được tạo từ phiên bản mẫu "
                f"'{values['template_version']}', khác phiên bản hiện tại '{campaign.version}'. Vẫn ghép; nên "
                "kiểm tra lại nội dung.")
    r.unit_id = unit.id
    return unit


def _identify_by_labels(ctx: _Ctx, campaign, units_by_id):
    book = ctx.book
    found = set()
    names = {}
    for u in units_by_id.values():
        names.setdefault(clean_text(u.name).casefold(), []).append(u)
    for sheet in book.sheet_names:
        for cell in book.cells(sheet).values():
            if cell.kind != "s":
                continue
            text = clean_text(cell.value).casefold()
            for key in (text, text.removeprefix("ubnd ").strip()):
                for u in names.get(key, []):
                    found.add(u.id)
    if not found:
        raise IntakeError(Finding("unidentified", "error",
                                  f"Tệp '{book.name}' không có thông tin định danh của chiến dịch (trang ẩn đã bị "
                                  "xóa, hoặc không phải tệp mẫu) và không tìm thấy tên đơn vị nào trong danh sách. "
                                  "Đề nghị đơn vị điền vào đúng tệp mẫu đã gửi (trong outbox/) rồi gửi lại.",
                                  file=book.name))
    if len(found) > 1:
        raise IntakeError(Finding("ambiguous_unit", "error",
                                  f"Tệp '{book.name}' không có thông tin định danh và có tên của nhiều đơn vị "
                                  f"({', '.join(sorted(units_by_id[i].name for i in found))}); không xác định được "
                                  "đơn vị gửi. Đề nghị đơn vị điền vào đúng tệp mẫu của mình.", file=book.name))
    unit = units_by_id[found.pop()]
    ctx.r.unit_id = unit.id
    ctx.add("identified_by_labels", "warning", f"Tệp '{book.name}' không còn thông tin định danh của tệp mẫu (có "
            f"thể đơn vị đã chép sang tệp mới); đã nhận ra đơn vị '{unit.name}' và các câu trả lời theo nhãn. "
            "Nên kiểm tra lại kết quả với đơn vị.")
    return unit


# ---------------------------------------------------------------------- reading by names
def _read_by_names(ctx: _Ctx, campaign, unit) -> None:
    book, r = ctx.book, ctx.r
    amap = AnswerMap(*campaign.answers)
    missing = []
    positions = {}
    for p in unit.products:
        for c in campaign.criteria:
            where = book.resolve(ident.answer_name(p.key, c.id))
            if where is None:
                missing.append((p, c))
            else:
                positions[(p, c)] = where
    if missing or not _rows_match_labels(book, campaign, positions):
        # The names are gone or point elsewhere (a sheet deleted, rows moved by a tool that does not
        # update names): find the answers by their labels instead, and say so.
        ctx.add("layout_changed", "warning", f"Tệp '{book.name}': vị trí các ô trả lời đã thay đổi so với tệp mẫu; "
                "đã tìm câu trả lời theo nhãn tiêu chí. Nên kiểm tra lại kết quả với đơn vị.")
        _read_by_labels(ctx, campaign, unit)
        return
    for (p, c), (sheet, ref) in positions.items():
        _take_answer(ctx, amap, campaign, p, c, sheet, ref, book.cells(sheet).get(ref))
    for c in campaign.criteria:
        found = book.named_cell(ident.note_name(c.id))
        if found:
            r.notes[c.id] = _free_text(ctx, found[0], found[1], found[2], "ghi chú")
    for p in unit.products:
        found = book.named_cell(ident.domain_name(p.key))
        if found:
            r.domains[p.id] = _domain(ctx, found[0], found[1], found[2], unit)
    for attr, name, label in (("proposals", ident.NAME_PROPOSALS, "đề xuất, kiến nghị"),
                              ("signer", ident.NAME_SIGNER, "người ký"),
                              ("doc_number", ident.NAME_DOCNO, "số văn bản"),
                              ("doc_date", ident.NAME_DOCDATE, "ngày văn bản")):
        found = book.named_cell(name)
        if found:
            setattr(r, attr, _free_text(ctx, found[0], found[1], found[2], label))
    _check_signed(ctx, unit, campaign)


def _rows_match_labels(book, campaign, positions) -> bool:
    """Each answer cell still sits on the row of its criterion's label (catches moved rows)."""
    labels = {c.id: clean_text(c.group).casefold() for c in campaign.criteria}
    for (p, c), (sheet, ref) in positions.items():
        row, _ = split_ref(ref)
        cells = book.cells(sheet)
        texts = {clean_text(cell.value).casefold() for key, cell in cells.items()
                 if cell.kind == "s" and _row_of(key) == row}
        if labels[c.id] not in texts:
            return False
    return True


def _row_of(ref: str) -> int:
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return int(ref[i:] or 0)


def _take_answer(ctx: _Ctx, amap: AnswerMap, campaign, product, criterion, sheet, ref, cell: Cell | None) -> None:
    where = ctx.where(sheet, ref)
    label = f"tiêu chí “{criterion.group}”" + (f" ({product.name})" if product.kind != "site" else "")
    if cell is not None and cell.formula is not None:
        ctx.add("formula_in_answer", "error", f"{where} ({label}) chứa công thức '={cell.formula}'. Ô trả lời chỉ "
                f"được chọn {amap.allowed} trong danh sách, không dùng công thức. Đề nghị đơn vị sửa lại.",
                sheet, ref, "=" + cell.formula, amap.allowed)
        return
    if cell is not None and cell.kind not in ("s", ""):
        ctx.add("bad_answer_type", "error", f"{where} ({label}) chứa giá trị '{cell.value}' không phải câu trả "
                f"lời. Chỉ được chọn {amap.allowed}. Đề nghị đơn vị chọn lại trong danh sách thả xuống.",
                sheet, ref, cell.value, amap.allowed)
        return
    text = "" if cell is None else str(cell.value)
    answer, kind = amap.map(text)
    if answer is None:
        ctx.add("bad_answer", "error", f"{where} ({label}) có giá trị '{clean_text(text)}' không hợp lệ. Chỉ được "
                f"chọn {amap.allowed} trong danh sách thả xuống. Đề nghị đơn vị sửa ô này và gửi lại.",
                sheet, ref, text, amap.allowed)
        return
    if kind:
        ctx.add("legacy_font", "warning", f"{where} ({label}) được gõ bằng mã {LEGACY_VI[kind]}: '{text}'. Đã "
                f"chuyển sang Unicode thành '{campaign.answers[0] if answer == 'met' else campaign.answers[1]}'. "
                "Nên đề nghị đơn vị dùng bộ gõ Unicode.", sheet, ref, text)
    if answer == "blank":
        ctx.add("blank_answer", "warning", f"{where} ({label}) để trống. Sản phẩm sẽ ở trạng thái 'Chưa đủ' cho "
                "đến khi đơn vị gửi bổ sung.", sheet, ref, "", amap.allowed)
    ctx.r.answers[(product.id, criterion.id)] = answer


def _free_text(ctx: _Ctx, sheet, ref, cell: Cell | None, label: str) -> str:
    if cell is None:
        return ""
    if cell.formula is not None and cell.kind != "s":
        text = "=" + cell.formula
    elif cell.formula is not None:
        text = str(cell.value) if cell.value not in (None, "") else "=" + cell.formula
        ctx.add("formula_in_text", "warning", f"{ctx.where(sheet, ref)} ({label}) là công thức '={cell.formula}'; "
                "chỉ lấy chữ hiển thị, công thức không được dùng.", sheet, ref, "=" + cell.formula)
    else:
        text = str(cell.value)
    text, kind = legacy_text(clean_text(text) if "\n" not in text else "\n".join(clean_text(x) for x in text.split("\n")))
    if kind:
        ctx.add("legacy_font", "warning", f"{ctx.where(sheet, ref)} ({label}) gõ bằng mã {LEGACY_VI[kind]}; đã "
                f"chuyển sang Unicode: '{text[:80]}'. Nên kiểm tra lại.", sheet, ref, str(cell.value))
    return text[:4000]


def _domain(ctx: _Ctx, sheet, ref, cell, unit) -> str:
    text = _free_text(ctx, sheet, ref, cell, "tên miền").lower().removeprefix("https://").removeprefix("http://")
    text = text.strip().rstrip("/")
    if text and not _DOMAIN.match(text):
        ctx.add("odd_domain", "warning", f"{ctx.where(sheet, ref)}: tên miền '{text}' có vẻ không đúng dạng "
                "(ví dụ đúng: hoankiem.hanoi.gov.vn). Vẫn ghi nhận; nên hỏi lại đơn vị.", sheet, ref, text)
    elif not text:
        ctx.add("no_domain", "warning", f"{ctx.where(sheet, ref)}: chưa ghi địa chỉ tên miền.", sheet, ref)
    return text


def _check_signed(ctx: _Ctx, unit, campaign) -> None:
    r = ctx.r
    if not r.signer:
        ctx.add("not_signed", "warning", f"Tệp '{ctx.book.name}': chưa ghi họ tên Thủ trưởng đơn vị (người ký). Vẫn "
                "ghép; đề nghị đơn vị bổ sung khi gửi bản ký.")
    m = _DATE_TEXT.search(r.doc_date or "")
    if m:
        r.doc_date = f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}"
    elif r.doc_date and "ngày" in r.doc_date and not re.search(r"\d", r.doc_date):
        r.doc_date = ""  # the untouched template text


# ---------------------------------------------------------------------- reading by labels
def _read_by_labels(ctx: _Ctx, campaign, unit) -> None:
    """Find each criterion's row by its label, and the answers on that row."""
    book, r = ctx.book, ctx.r
    amap = AnswerMap(*campaign.answers)
    labels = {clean_text(c.group).casefold(): c for c in campaign.criteria}
    best = None
    for sheet in book.sheet_names:
        if sheet == ident.ID_SHEET:
            continue
        rows = {}
        for ref, cell in book.cells(sheet).items():
            if cell.kind == "s" and clean_text(cell.value).casefold() in labels:
                rows.setdefault(labels[clean_text(cell.value).casefold()].id, (ref, cell))
        if best is None or len(rows) > len(best[1]):
            best = (sheet, rows)
    if best is None or len(best[1]) < len(campaign.criteria):
        raise IntakeError(Finding("form_missing", "error",
                                  f"Tệp '{book.name}' không còn bảng tiêu chí của biểu mẫu (trang biên bản đã bị xóa "
                                  "hoặc sửa nhãn tiêu chí). Đề nghị đơn vị điền vào đúng tệp mẫu đã gửi và không xóa, "
                                  "không đổi cấu trúc các trang.", file=book.name))
    sheet, rows = best
    cells = book.cells(sheet)
    # Answer columns: to the right of the label, the cells of each criterion row; a column per product,
    # in order (product headers may name them).
    for c in campaign.criteria:
        ref, _ = rows[c.id]
        row, col = split_ref(ref)
        on_row = sorted((split_ref(k)[1], k, v) for k, v in cells.items() if _row_of(k) == row and split_ref(k)[1] > col)
        candidates = [(k, v) for _, k, v in on_row if v.kind == "s" and amap.map(str(v.value))[0] not in (None, "blank")
                      or v.formula is not None]
        for i, p in enumerate(unit.products):
            if i < len(candidates):
                k, v = candidates[i]
                _take_answer(ctx, amap, campaign, p, c, sheet, k, v)
            else:
                r.answers[(p.id, c.id)] = "blank"
                ctx.add("blank_answer", "warning", f"Tệp '{book.name}', trang '{sheet}', dòng {row}: tiêu chí "
                        f"“{c.group}” ({p.name}) không có câu trả lời.", sheet, f"{row}")
    if not r.signer:
        ctx.add("not_signed", "warning", f"Tệp '{book.name}': không tìm thấy họ tên người ký. Vẫn ghép; đề nghị "
                "đơn vị bổ sung khi gửi bản ký.")
