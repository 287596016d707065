"""Findings: what is wrong (or worth a look) in a returned file, a folder, a registry or a mailing.

A finding is fields (after frictionless-py's errors): a code, where it is (file, sheet, cell), the
value met and the values allowed, and the parameters its code declares. Its words are not in the
finding: each code is declared once, in CODES below, with its severity, a short title, its message
template and its advice (for the unit, for the staff), all Vietnamese source texts marked for the
catalogs. The text is rendered when it is read, in the language asked for, so the ledger keeps the
fields and a rewording reaches the history too.

    Finding("blank_answer", file="a.xlsx", sheet="Biên bản", cell="E30", criterion="Nội dung", product="")
    f.severity          # "warning", from the registry
    f.text("vi")        # statement and advice, in Vietnamese (documents); f.message: current language

Templates take the finding's fields ({file}, {sheet}, {cell}, {value}, {expected}) and the code's
parameters. A parameter named in CHOICES holds a key whose phrase is shown ({field}: "note" ->
"ghi chú"); one named in BLANK shows a phrase when empty; {label} is the criterion (and product) an
answer cell belongs to. A code may have variants: another template chosen by a field or parameter
(`by`). A wrong code or a missing parameter never stops a user (the placeholder is shown as it is);
tests set STRICT so that it fails there, and render every code (tests/test_findings.py).
"""
from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from types import MappingProxyType

from tracker.model.errors import TrackerError
from tracker.model.language import N_, _, in_language
from tracker.model.text import for_terminal, one_line

SEVERITIES = ("error", "warning", "info")
FIELDS = ("file", "sheet", "cell", "value", "expected")
# Tests: an unknown code or a missing parameter raises. Set through the environment too, so that
# the reading workers (fresh processes, spawned) are as strict as the tests that start them.
STRICT = os.environ.get("TRACKER_STRICT_FINDINGS") == "1"


# ---------------------------------------------------------------------- the registry's vocabulary
@dataclass(frozen=True)
class Variant:
    """Another wording of a code, for one value of its `by` field or parameter. Advice left None is
    the code's; `title` names the case in the guide when its advice differs."""
    template: str
    unit: str | None = None
    staff: str | None = None
    title: str = ""


@dataclass(frozen=True, eq=False)
class Code:
    code: str
    severity: str               # "error" | "warning" | "info"
    group: str                  # section of the guide (GROUPS)
    title: str                  # what the finding means, in a few words
    template: str               # the statement, from fields and params
    unit: str = ""              # advice for the unit (forwarded to it)
    staff: str = ""             # advice for the staff
    params: tuple[str, ...] = ()
    by: str = ""                # field or param choosing a variant
    variants: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def wording(self, key: str | None) -> tuple[str, str, str]:
        """(template, unit advice, staff advice) for a variant key."""
        v = self.variants.get(key) if key is not None else None
        if v is None:
            return self.template, self.unit, self.staff
        return v.template, self.unit if v.unit is None else v.unit, self.staff if v.staff is None else v.staff

    def templates(self) -> list[str]:
        return [self.template] + [v.template for v in self.variants.values()]


GROUPS = {   # guide sections, in order: (heading, when these are seen)
    "file": (N_("Tệp không đọc được"), N_("từ chối trước khi mở tệp")),
    "identity": (N_("Tệp không phải của đơn vị, của đợt này"), N_("từ chối")),
    "content": (N_("Nội dung điền sai"), N_("từ chối; lời báo nêu trang, ô, giá trị gặp")),
    "review": (N_("Tệp được nhận nhưng cần xem lại"), N_("dòng “Lưu ý:”")),
    "info": (N_("Thông tin"), N_("in trong báo cáo ghép, không cần làm gì")),
    "master": (N_("Về bảng tổng hợp"), N_("dòng “Chú ý:” khi ghép; xem mục 7")),
    "signed": (N_("Bản biên bản đã ký: bản quét, ảnh chụp, tệp PDF ký số"),
               N_("khi đọc bản ký; “Lỗi”: bản ký không được công nhận, “Lưu ý”: cần cán bộ xem lại")),
    "registry": (N_("Danh sách đơn vị units.csv"), N_("khi init, generate, ...: lệnh dừng, không ghi gì")),
    "verify": (N_("Kiểm tra thư mục chiến dịch"), N_("tracker verify; mục 11")),
    "mail": (N_("Gửi thư"), N_("tracker mail send, tracker mail remind")),
    "disk": (N_("Ổ đĩa đầy"), N_("lệnh nào cần ghi cũng có thể gặp; lỗi của máy, không phải của đơn vị")),
}

SEVERITY_TITLE = {"error": N_("Lỗi"), "warning": N_("Lưu ý"), "info": N_("Thông tin")}

# Parameters whose value is a key: the phrase is what is shown.
CHOICES = {
    "field": {"note": N_("ghi chú"), "proposals": N_("đề xuất, kiến nghị"), "signer": N_("người ký"),
              "doc_number": N_("số văn bản"), "doc_date": N_("ngày văn bản"), "domain": N_("tên miền")},
    "kept": {"shown": N_("chữ hiển thị"), "formula": N_("nội dung công thức")},
    "legacy": {"tcvn3": N_("TCVN3 (phông .VnTime, bộ gõ ABC)"), "vni": N_("VNI (phông VNI-Times)")},
    "hidden": {"window": N_("cả cửa sổ sổ tính đang bị ẩn (Xem > Ẩn)"),
               "sheet": N_("nằm trên trang tính bị ẩn"),
               "row": N_("nằm trên dòng bị ẩn (dòng ẩn, cao bằng 0 hoặc thuộc nhóm dòng đang thu gọn)"),
               "column": N_("nằm ở cột bị ẩn (cột ẩn, rộng bằng 0 hoặc thuộc nhóm cột đang thu gọn)"),
               "merged": N_("nằm dưới một vùng ô đã gộp (Merge) bắt đầu ở ô khác: vùng gộp chỉ hiện nội dung ô đầu"),
               "format": N_("định dạng số của ô làm ô hiện nội dung khác (ví dụ định dạng ;;;)"),
               "colour": N_("chữ cùng màu hoặc gần cùng màu với nền ô"),
               "font": N_("cỡ chữ quá nhỏ để đọc"),
               "part": N_("một phần chữ trong ô bị ẩn (cùng màu nền, cỡ quá nhỏ hoặc định dạng ẩn)"),
               "line_break": N_("nội dung bắt đầu bằng dòng trống nên ô chỉ hiện dòng trống")},
    "method": {"qr": N_("mã QR"), "signer": N_("chữ ký số"), "file_name": N_("tên tệp"),
               "sender": N_("địa chỉ người gửi")},
}
# Parameters that may be empty: the phrase shown then.
BLANK = {
    "sender": N_("không rõ người gửi"),
    "suffix": N_("không rõ đuôi"),
    "holder": N_("một chương trình khác (phần mềm mở tệp SQLite như DB Browser, công cụ đồng bộ hay sao lưu)"),
}
# The values an answer cell allows, one message: a finding's `expected` holds it in Vietnamese (the
# documents' language: the merge report shows it as it is), shown in the reader's language.
ANSWERS_ALLOWED = N_("“{met}”, “{not_met}” hoặc để trống")
_ANSWERS_ALLOWED = re.compile(re.escape(ANSWERS_ALLOWED).replace(r"\{met\}", "(.*)").replace(r"\{not_met\}", "(.*)"))


def answers_allowed(met: str, not_met: str) -> str:
    """`expected` of a finding about an answer cell (in Vietnamese, as stored)."""
    return ANSWERS_ALLOWED.format(met=met, not_met=not_met)


# {label}: the criterion an answer cell belongs to, and its product when the unit has several.
LABEL = N_("tiêu chí “{criterion}”")
LABEL_OF = N_("tiêu chí “{criterion}” của {product}")

# Advice shared by several codes.
RESAVE = N_("Đề nghị đơn vị mở tệp bằng Excel, chọn Lưu thành (Save As) một tệp Sổ làm việc Excel (.xlsx) mới "
            "rồi gửi lại.")
CHECK_OPENS = N_("Đề nghị đơn vị kiểm tra tệp mở được bằng Excel rồi gửi lại.")
TRIM = N_("Đề nghị đơn vị xóa các dòng, cột, trang tính không dùng đến, lưu lại rồi gửi lại.")
SAVE_ATTACHMENT = N_("Lưu riêng tệp Excel đính kèm rồi ghép tệp đó (với --received là ngày của thư).")
REFILL = N_("Đề nghị đơn vị điền vào đúng tệp mẫu đã gửi, không xóa, không đổi cấu trúc các trang, rồi gửi lại.")
PICK = N_("Đề nghị đơn vị chọn lại câu trả lời trong danh sách thả xuống và gửi lại.")
CHECK_WITH_UNIT = N_("Nên kiểm tra lại kết quả với đơn vị.")
FIX_REGISTRY = N_("Sửa units.csv rồi chạy lại.")
REBUILD_MASTER = N_("Chạy 'tracker merge' (không cần tệp) để dựng lại master.xlsx từ sổ ghi.")
MASTER_KEPT = N_("Các sửa tay trong tệp này (nếu có) chưa được ghi nhận; bảng được dựng lại từ sổ ghi, bản cũ "
                 "giữ trong backups/: chép các dòng đã nhập tay sang master.xlsx mới rồi chạy lại 'tracker merge'.")
RESCAN = N_("Đề nghị đơn vị quét lại biên bản ở 200–300 dpi (ảnh xám hoặc đen trắng), chỉ gồm các trang biên bản, "
            "rồi gửi lại.")
RESCAN_IMAGE = N_("Đề nghị đơn vị chụp hoặc quét lại biên bản (JPG, PNG hoặc PDF) rồi gửi lại.")
RESEND_SIGNED = N_("Đề nghị đơn vị gửi lại đúng tệp đã ký (không qua phần mềm chuyển đổi, nén hay ghép tệp).")
SEE_COPY = N_("Xem tệp; nếu là biên bản của một đơn vị, ghép bằng 'tracker signed confirm SỐ --unit MÃ_ĐƠN_VỊ' "
              "(SỐ: xem 'tracker signed list'); không phải thì 'tracker signed reject SỐ'.")
RESTORE_LEDGER = N_("Khôi phục ledger.sqlite từ bản sao lưu gần nhất, rồi chạy 'tracker merge' lại trên các thư mục "
                    "tệp đã nhận: tệp đã ghép sẽ được nhận ra, tệp còn thiếu được ghép bổ sung.")


def _v(**variants: Variant) -> MappingProxyType:
    return MappingProxyType(variants)


def _codes(*codes: Code) -> MappingProxyType:
    out: dict[str, Code] = {}
    for c in codes:
        if c.code in out:
            raise ValueError(f"finding code declared twice: {c.code}")
        out[c.code] = c
    return MappingProxyType(out)


# ---------------------------------------------------------------------- the registry
CODES = _codes(
    # ----- files that cannot be read (refused before they are opened)
    Code("empty", "error", "file", N_("tệp rỗng (0 byte): lỗi khi tải lên hoặc khi lưu"),
         N_("Tệp '{file}' rỗng (0 byte)."), unit=N_("Đề nghị đơn vị gửi lại tệp .xlsx đã điền.")),
    Code("too_large", "error", "file", N_("tệp quá lớn (trên 20 MB)"),
         N_("Tệp '{file}' quá lớn ({size_mb} MB, tối đa {max_mb} MB)."),
         unit=N_("Đề nghị đơn vị xóa các trang tính, hình ảnh, dòng trống không cần thiết, lưu lại rồi gửi lại."),
         params=("size_mb", "max_mb")),
    Code("encrypted", "error", "file", N_("tệp có mật khẩu mở"),
         N_("Tệp '{file}' được đặt mật khẩu để mở nên hệ thống không đọc được."),
         unit=N_("Đề nghị đơn vị mở tệp bằng Excel, vào Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hóa bằng mật "
                 "khẩu, xóa mật khẩu, lưu lại rồi gửi lại tệp.")),
    Code("not_spreadsheet", "error", "file",
         N_("không phải tệp Excel: trang web đổi đuôi .xlsx, tệp đổi đuôi"),
         N_("Tệp '{file}' không phải là tệp bảng tính Excel (có thể tệp đã bị đổi đuôi tên)."), unit=RESAVE,
         by="value", variants=_v(
             html=Variant(N_("Tệp '{file}' thực chất là trang web (HTML) được đặt đuôi Excel, thường do phần mềm "
                             "khác xuất ra.")),
             xml2003=Variant(N_("Tệp '{file}' ở định dạng Bảng tính XML 2003, hệ thống không đọc được.")),
             # PDFs and pictures are read as signed copies of the biên bản now (the "signed" codes): these
             # two say what a ledger of an earlier version recorded of them.
             pdf=Variant(N_("Tệp '{file}' là tệp PDF (thường là bản scan biên bản đã ký); phiên bản tracker dùng khi "
                            "ghép chưa đọc biên bản đã ký."),
                         unit=N_("Đề nghị đơn vị gửi thêm tệp Excel (.xlsx) đã điền trên tệp mẫu."),
                         staff=N_("Chạy lại 'tracker merge' trên tệp này (còn trong archive/) để đọc nó như biên bản "
                                  "đã ký."), title=N_("bản scan PDF, ảnh (ghi bởi phiên bản trước)")),
             image=Variant(N_("Tệp '{file}' là tệp ảnh (thường là bản scan biên bản đã ký); phiên bản tracker dùng khi "
                              "ghép chưa đọc biên bản đã ký."),
                           unit=N_("Đề nghị đơn vị gửi thêm tệp Excel (.xlsx) đã điền trên tệp mẫu."),
                           staff=N_("Chạy lại 'tracker merge' trên tệp này (còn trong archive/) để đọc nó như biên bản "
                                    "đã ký."), title=N_("bản scan PDF, ảnh (ghi bởi phiên bản trước)")))),
    Code("xlsb", "error", "file", N_("tệp lưu dạng “Sổ làm việc nhị phân” .xlsb"),
         N_("Tệp '{file}' được lưu ở định dạng Sổ làm việc nhị phân Excel (.xlsb), hệ thống không đọc được."),
         unit=RESAVE),
    Code("zip_not_spreadsheet", "error", "file", N_("tệp nén (.zip) hoặc tài liệu khác (Word, ...)"),
         N_("Tệp '{file}' là tệp nén hoặc tài liệu khác, không phải bảng tính Excel."),
         unit=N_("Đề nghị đơn vị gửi trực tiếp tệp .xlsx đã điền (không nén, không đổi đuôi tên)."),
         staff=N_("Tệp nén (.zip) có biểu mẫu bên trong thì có thể tự giải nén rồi ghép các tệp .xlsx đó.")),
    Code("corrupt_zip", "error", "file", N_("tệp hỏng hoặc không đầy đủ (tải lên, gửi bị gián đoạn)"),
         N_("Tệp '{file}' bị hỏng hoặc không đầy đủ (có thể việc tải lên hay gửi tệp bị gián đoạn)."),
         unit=CHECK_OPENS, staff=N_("Có thể tải lại tệp đính kèm rồi ghép lại."), params=("problem", "part"),
         by="problem", variants=_v(
             part_unreadable=Variant(N_("Tệp '{file}' bị hỏng (không giải nén được thành phần '{part}').")),
             part_size=Variant(N_("Tệp '{file}' bị hỏng (kích thước thành phần '{part}' không khớp khai báo).")))),
    Code("bad_zip", "error", "file", N_("tệp hỏng, không mở được"),
         N_("Tệp '{file}' bị hỏng, không mở được ({value})."),
         unit=N_("Đề nghị đơn vị lưu lại tệp bằng Excel (.xlsx) và gửi lại."),
         staff=N_("Có thể tải lại tệp đính kèm rồi ghép lại.")),
    Code("damaged", "error", "file", N_("tệp hỏng bên trong (trang, dòng hay ô ghi sai)"),
         N_("Tệp '{file}' bị hỏng."), unit=N_("Đề nghị đơn vị mở tệp bằng Excel, lưu lại (.xlsx) và gửi lại."),
         params=("problem", "part", "row"), by="problem", variants=_v(
             part_unreadable=Variant(N_("Tệp '{file}' bị hỏng: phần {part} không đọc được ({value}).")),
             sheet_missing=Variant(N_("Tệp '{file}' bị hỏng: thiếu nội dung trang '{sheet}'.")),
             bad_row=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}' có dòng mang số thứ tự sai ('{value}').")),
             bad_ref=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', dòng {row} có ô mang địa chỉ sai "
                                "('{value}').")),
             cell_twice=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', ô {cell} được ghi hai lần.")),
             no_string=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', ô {cell} trỏ tới chuỗi không tồn tại.")),
             two_values=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', ô {cell} có hai giá trị.")),
             no_text=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', ô {cell} có nội dung không hợp lệ (chuỗi "
                                "thiếu phần văn bản).")),
             bad_number=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', ô {cell} ghi là số nhưng chứa nội dung "
                                   "không phải số.")),
             bad_type=Variant(N_("Tệp '{file}' bị hỏng: trang '{sheet}', ô {cell} có kiểu dữ liệu không hợp lệ "
                                 "('{value}').")),
             two_parts=Variant(N_("Tệp '{file}' có cấu trúc không hợp lệ: phần {part} chỉ tới {value} phần cùng loại "
                                  "(sổ tính, bảng chuỗi hay bảng định dạng), không biết Excel đọc phần nào.")),
             sheet_twice=Variant(N_("Tệp '{file}' có cấu trúc không hợp lệ: hai trang cùng tên '{sheet}' (chỉ khác "
                                    "chữ hoa, chữ thường).")),
             content_type=Variant(N_("Tệp '{file}' bị hỏng: phần {part} khai báo sai loại nội dung ('{value}'), "
                                     "Excel không mở được tệp này.")),
             name_twice=Variant(N_("Tệp '{file}' có cấu trúc không hợp lệ: tên '{value}' được định nghĩa hai lần, "
                                   "không biết Excel dùng định nghĩa nào.")))),
    Code("not_workbook", "error", "file", N_("tệp nén không chứa sổ tính Excel"),
         N_("Tệp '{file}' không phải sổ tính Excel (.xlsx)."),
         unit=N_("Đề nghị đơn vị lưu bằng Excel dạng .xlsx rồi gửi lại.")),
    Code("read_failed", "error", "file", N_("không đọc được nội dung tệp"),
         N_("Không đọc được nội dung tệp '{file}'."), unit=RESAVE),
    Code("too_many_members", "error", "file", N_("cấu trúc tệp bất thường (quá nhiều thành phần)"),
         N_("Tệp '{file}' có cấu trúc bất thường (chứa {value} thành phần, tối đa {max})."), unit=RESAVE,
         params=("max",)),
    Code("zip_bomb", "error", "file", N_("dữ liệu nén bất thường, bị từ chối để bảo đảm an toàn"),
         N_("Tệp '{file}' có dữ liệu nén bất thường (dung lượng sau khi giải nén quá lớn), hệ thống từ chối mở để "
            "đảm bảo an toàn."), unit=RESAVE),
    Code("unsafe_member_name", "error", "file", N_("thành phần có đường dẫn không an toàn"),
         N_("Tệp '{file}' chứa thành phần có đường dẫn không an toàn ('{value}'), hệ thống từ chối mở."),
         unit=RESAVE),
    Code("duplicate_member", "error", "file",
         N_("thành phần bị lặp lại trong tệp (kể cả hai tên chỉ khác chữ hoa, chữ thường)"),
         N_("Tệp '{file}' có cấu trúc không hợp lệ (thành phần '{value}' bị lặp lại)."), unit=RESAVE,
         params=("why", "other"), by="why", variants=_v(
             alias=Variant(N_("Tệp '{file}' có cấu trúc không hợp lệ: hai thành phần '{other}' và '{value}' thực chất "
                              "cùng một tên (chỉ khác chữ hoa, chữ thường hoặc cách viết), không biết Excel đọc thành "
                              "phần nào.")))),
    Code("xml_unsafe", "error", "file", N_("cấu trúc XML không an toàn"),
         N_("Tệp '{file}' chứa cấu trúc XML không an toàn ({value}) nên bị từ chối."),
         unit=N_("Đề nghị đơn vị điền lại trên tệp mẫu đã gửi và lưu bằng Excel.")),
    Code("needs_libreoffice", "error", "file", N_("tệp .xls hoặc .ods, máy chưa cài LibreOffice"),
         N_("Tệp '{file}' ở định dạng cũ ({suffix}) và máy này chưa cài LibreOffice để tự chuyển đổi."),
         staff=N_("Mở tệp bằng Excel, chọn Tệp > Lưu thành (Save As) > Sổ làm việc Excel (.xlsx), rồi ghép tệp .xlsx "
                  "đó với --received là ngày nhận thật (hoặc cài LibreOffice để hệ thống tự chuyển đổi)."),
         params=("suffix",)),
    Code("convert_failed", "error", "file", N_("LibreOffice không chuyển được tệp .xls/.ods"),
         N_("Không chuyển đổi được tệp '{file}' sang .xlsx ({value})."),
         unit=N_("Đề nghị mở tệp bằng Excel, chọn Lưu thành (Save As) Sổ làm việc Excel (.xlsx) rồi gửi lại; nếu tệp "
                 "có mật khẩu, hãy gỡ mật khẩu trước."),
         params=("why", "seconds", "exit_code"), by="why", variants=_v(
             timeout=Variant(N_("Không chuyển đổi được tệp '{file}' sang .xlsx (quá {seconds} giây).")),
             exit=Variant(N_("Không chuyển đổi được tệp '{file}' sang .xlsx (mã thoát {exit_code}).")))),
    Code("too_slow", "error", "file", N_("tệp cần quá nhiều thời gian để đọc (quá nhiều dòng, cột, định dạng thừa)"),
         N_("Tệp '{file}' cần quá nhiều thời gian để đọc (quá {seconds} giây), có thể do chứa quá nhiều dòng, cột "
            "hoặc định dạng thừa."), unit=TRIM, params=("seconds",)),
    Code("too_big", "error", "file", N_("tệp cần quá nhiều bộ nhớ để đọc (quá nhiều dòng, cột, hình ảnh)"),
         N_("Tệp '{file}' cần quá nhiều bộ nhớ để đọc (quá {megabytes} MB), có thể do chứa quá nhiều dòng, cột, "
            "hình ảnh hoặc định dạng thừa."), unit=TRIM, params=("megabytes",)),
    Code("file_missing", "error", "file", N_("không thấy tệp"),
         N_("Không tìm thấy tệp '{file}'."),
         staff=N_("Kiểm tra lại đường dẫn gõ trong lệnh (tệp OneDrive chưa tải về máy?), hoặc đề nghị đơn vị gửi "
                  "lại tệp.")),
    Code("file_unreadable", "error", "file", N_("không có quyền đọc tệp"),
         N_("Không đọc được tệp '{file}' ({reason})."),
         staff=N_("Kiểm tra quyền truy cập tệp (tệp đang mở trong chương trình khác?), hoặc đề nghị đơn vị gửi lại "
                  "tệp."), params=("reason",)),
    Code("unreadable", "error", "file", N_("không đọc được tệp hoặc thư đã cho"),
         N_("Không đọc được tệp '{file}' ({reason})."),
         staff=N_("Kiểm tra quyền truy cập tệp (tệp đang mở trong chương trình khác?) rồi chạy lại."),
         params=("kind", "reason"), by="kind", variants=_v(
             email=Variant(N_("Không đọc được thư '{file}' ({reason}).")))),
    Code("not_found", "error", "file", N_("không thấy tệp hay thư mục đã gõ trong lệnh"),
         N_("Không tìm thấy '{file}'."), staff=N_("Kiểm tra lại đường dẫn.")),
    Code("not_regular_file", "error", "file",
         N_("không phải tệp thật (liên kết, ống dẫn FIFO, thiết bị): không đọc, không ghép"),
         N_("'{file}' không phải tệp thông thường: không đọc, không ghép."),
         staff=N_("Nếu đây đúng là tệp đơn vị gửi, chép tệp thật vào thư mục rồi ghép lại."),
         params=("kind",), by="kind", variants=_v(
             symlink=Variant(N_("'{file}' là liên kết (symlink) tới tệp hay thư mục khác: không đọc theo liên kết, "
                                "không ghép."), title=N_("liên kết (symlink)")),
             fifo=Variant(N_("'{file}' là ống dẫn (FIFO), không phải tệp: không đọc, không ghép.")),
             device=Variant(N_("'{file}' là thiết bị (như /dev/zero), không phải tệp: không đọc, không ghép.")),
             socket=Variant(N_("'{file}' là socket, không phải tệp: không đọc, không ghép.")))),

    # ----- files that are not this unit's, of this round (refused)
    Code("other_campaign", "error", "identity",
         N_("biểu mẫu của đợt xác nhận khác (thường là tệp của năm trước)"),
         N_("Tệp '{file}' là biểu mẫu của một đợt xác nhận khác (đợt trước hoặc năm khác), không phải biểu mẫu "
            "của đợt này; không ghép tệp này."),
         unit=N_("Đề nghị đơn vị điền vào đúng biểu mẫu của đợt này (tệp được gửi kèm thư mời) rồi gửi lại."),
         staff=N_("Gửi lại đơn vị tệp của đơn vị trong outbox/ của thư mục chiến dịch này.")),
    Code("unknown_unit", "error", "identity", N_("mã đơn vị trong tệp không có trong units.csv"),
         N_("Tệp '{file}' mang mã đơn vị '{value}' không có trong danh sách đơn vị của đợt này."),
         staff=N_("Kiểm tra units.csv (đơn vị bị xóa, đổi mã?), hoặc gửi lại đơn vị đúng tệp mẫu của họ.")),
    Code("bad_token", "error", "identity",
         N_("mã xác thực không khớp: thông tin định danh trong tệp bị sửa, hoặc tệp tạo từ một thư mục chiến dịch "
            "khác (một máy khác, hoặc thư mục đã tạo lại)"),
         N_("Tệp '{file}': mã xác thực không khớp với đơn vị '{unit}' (thông tin định danh trong tệp đã bị sửa, hoặc "
            "tệp được tạo từ một thư mục chiến dịch khác); không ghép tệp này."),
         unit=N_("Đề nghị đơn vị điền lại trên tệp mẫu được gửi lại."),
         staff=N_("Gửi lại đơn vị tệp mẫu trong outbox/ của thư mục chiến dịch này; luôn gửi tệp từ đúng một thư "
                  "mục chiến dịch."), params=("unit",)),
    Code("unidentified", "error", "identity", N_("tệp không có thông tin định danh và không có tên đơn vị nào"),
         N_("Tệp '{file}' không có thông tin định danh của biểu mẫu (trang ẩn đã bị xóa, hoặc không phải tệp mẫu) và "
            "không tìm thấy tên đơn vị nào trong danh sách."),
         unit=N_("Đề nghị đơn vị điền vào đúng tệp mẫu đã gửi rồi gửi lại."),
         staff=N_("Tệp mẫu của từng đơn vị ở outbox/.")),
    Code("ambiguous_unit", "error", "identity", N_("tệp không có thông tin định danh và có tên của nhiều đơn vị"),
         N_("Tệp '{file}' không có thông tin định danh và có tên của nhiều đơn vị ({units}); không xác định được "
            "đơn vị gửi."), unit=N_("Đề nghị đơn vị điền vào đúng tệp mẫu của mình."), params=("units",)),
    Code("is_master", "error", "identity",
         N_("đây là bảng tổng hợp master.xlsx (có người gửi lại), không phải tệp đơn vị"),
         N_("Tệp '{file}' là bảng tổng hợp (master) của chiến dịch, không phải tệp đơn vị gửi về; không ghép tệp "
            "này."),
         staff=N_("Sửa tay trên master.xlsx của thư mục chiến dịch được ghi nhận tự động mỗi lần chạy merge (mục 7); "
                  "nếu đây là bản tổng hợp ai đó đã sửa rồi gửi lại, chép các thay đổi vào master.xlsx rồi chạy "
                  "merge.")),
    Code("unit_mismatch", "error", "identity",
         N_("thông tin định danh (trang ẩn) là của một đơn vị, tên đơn vị nhìn thấy trên biên bản là của đơn vị khác"),
         N_("Tệp '{file}' mang thông tin định danh (trang ẩn) của {unit}, nhưng biên bản nhìn thấy ghi tên "
            "{other_unit} (trang '{sheet}', ô {cell}); không ghép tệp này."),
         unit=N_("Đề nghị đơn vị điền lại trên đúng tệp mẫu của mình (không chép trang, không dán nội dung từ tệp của "
                 "đơn vị khác) rồi gửi lại."),
         staff=N_("Biên bản có thể đã được chép sang tệp của đơn vị khác: kiểm tra với cả hai đơn vị trước khi ghi "
                  "nhận cho đơn vị nào."), params=("unit", "other_unit")),
    Code("email_no_workbook", "error", "identity",
         N_("thư không kèm tệp Excel (chỉ có bản scan, hoặc đường dẫn tải về)"),
         N_("Thư '{file}' (từ {sender}, tiêu đề “{subject}”) không kèm tệp Excel (.xlsx); thư chỉ kèm: "
            "{attachments}."),
         unit=N_("Đề nghị đơn vị trả lời thư, đính kèm tệp biểu mẫu đã điền."),
         staff=N_("Tệp để trên mạng (Google Drive, ...) thì tải về dạng .xlsx rồi ghép với --received là ngày của "
                  "thư."),
         params=("sender", "subject", "attachments"), by="attachments", variants=_v(**{
             "": Variant(N_("Thư '{file}' (từ {sender}, tiêu đề “{subject}”) không kèm tệp Excel (.xlsx); thư không "
                            "có tệp đính kèm."))})),
    Code("email_unreadable", "error", "identity", N_("không đọc được thư .eml/.msg"),
         N_("Không đọc được thư (.eml) '{file}' ({value})."), staff=SAVE_ATTACHMENT,
         params=("format",), by="format", variants=_v(
             msg=Variant(N_("Không đọc được thư Outlook (.msg) '{file}' ({value}).")))),
    Code("email_too_large", "error", "identity", N_("thư quá lớn (trên 100 MB)"),
         N_("Thư '{file}' quá lớn ({size_mb} MB, tối đa {max_mb} MB)."), staff=SAVE_ATTACHMENT,
         params=("size_mb", "max_mb")),
    Code("email_too_complex", "error", "identity",
         N_("thư có quá nhiều tệp đính kèm hoặc lồng quá nhiều lớp thư chuyển tiếp: không ghép tệp nào của thư"),
         N_("Thư '{file}' có quá nhiều thành phần ({value}, tối đa {limit}): không ghép tệp nào của thư này."),
         staff=N_("Lưu riêng các tệp Excel đính kèm vào một thư mục rồi ghép thư mục đó (với --received là thời "
                  "điểm của thư)."),
         params=("what", "limit"), by="what", variants=_v(
             workbooks=Variant(N_("Thư '{file}' kèm quá nhiều tệp Excel ({value}, tối đa {limit}): không ghép tệp "
                                  "nào của thư này, để không tệp nào bị bỏ sót.")),
             depth=Variant(N_("Thư '{file}' lồng quá nhiều lớp thư chuyển tiếp (quá {limit} lớp): không ghép tệp nào "
                              "của thư này.")))),
    Code("email_unsupported", "error", "identity", N_("máy chưa đọc được loại thư này"),
         N_("Chưa đọc được thư '{file}'."), staff=SAVE_ATTACHMENT),

    # ----- content filled in wrongly (refused; the message names sheet, cell and value)
    Code("bad_answer", "error", "content",
         N_("ô trả lời có giá trị khác “Đáp ứng”, “Chưa đáp ứng” (ví dụ gõ tay “Đạt”, “Có”, “x”)"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}"
            " ({label}) có giá trị '{text}' không hợp lệ. Chỉ được chọn {expected} trong danh sách thả "
            "xuống."), unit=N_("Đề nghị đơn vị sửa ô này và gửi lại."), params=("criterion", "product", "text")),
    Code("bad_answer_type", "error", "content", N_("ô trả lời chứa số, ngày hoặc giá trị khác chữ"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}"
            " ({label}) chứa giá trị '{value}' không phải câu trả lời. Chỉ được chọn {expected}."),
         unit=PICK, params=("criterion", "product")),
    Code("formula_in_answer", "error", "content", N_("ô trả lời chứa công thức (ví dụ =D21)"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}"
            " ({label}) chứa công thức '{value}'. Ô trả lời chỉ được chọn {expected} trong danh sách, không "
            "dùng công thức."), unit=PICK, params=("criterion", "product"), by="value", variants=_v(**{
             "=": Variant(N_("Tệp '{file}', trang '{sheet}', ô {cell}"
                             " ({label}) chứa công thức. Ô trả lời chỉ được chọn {expected} trong danh sách, "
                             "không dùng công thức."))})),
    Code("no_answers", "error", "content", N_("chưa có câu trả lời nào (đơn vị gửi lại tệp chưa điền)"),
         N_("Tệp '{file}', trang '{sheet}': chưa có câu trả lời nào ở bảng tiêu chí (có thể đơn vị gửi lại tệp mẫu "
            "chưa điền)."),
         unit=N_("Đề nghị đơn vị chọn câu trả lời cho từng tiêu chí trong danh sách thả xuống, lưu tệp rồi gửi "
                 "lại.")),
    Code("form_missing", "error", "content",
         N_("không còn đủ bảng tiêu chí (trang biên bản bị xóa, dòng tiêu chí bị xóa hoặc sửa)"),
         N_("Tệp '{file}' không còn đủ bảng tiêu chí của biểu mẫu: trang biên bản đã bị xóa, hoặc dòng, nhãn tiêu "
            "chí đã bị xóa, sửa."), unit=REFILL, params=("why", "criteria", "form_sheet"), by="why", variants=_v(
             criteria=Variant(N_("Tệp '{file}' không còn đủ bảng tiêu chí của biểu mẫu (trang '{sheet}' thiếu tiêu chí "
                                 "{criteria}): trang biên bản đã bị xóa, hoặc dòng, nhãn tiêu chí đã bị xóa, sửa.")),
             sheet_deleted=Variant(N_("Tệp '{file}' không còn đủ bảng tiêu chí của biểu mẫu (trang '{form_sheet}' của "
                                      "tệp mẫu đã bị xóa): trang biên bản đã bị xóa, hoặc dòng, nhãn tiêu chí đã bị "
                                      "xóa, sửa.")))),
    Code("columns_unknown", "error", "content", N_("không tìm thấy tiêu đề cột sản phẩm phía trên bảng tiêu chí"),
         N_("Tệp '{file}', trang '{sheet}': không tìm thấy tiêu đề cột {products} phía trên bảng tiêu chí, nên "
            "không xác định được cột trả lời của từng sản phẩm."),
         unit=N_("Đề nghị đơn vị điền vào đúng tệp mẫu đã gửi, giữ nguyên tiêu đề các cột, rồi gửi lại."),
         params=("products",)),
    Code("hidden_cell", "error", "content",
         N_("ô được ghép (câu trả lời, ghi chú, người ký, ...) bị ẩn: dòng, cột, trang ẩn; định dạng ;;;; chữ cùng "
            "màu nền"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell} ({field}) có nội dung '{value}' nhưng {hidden}, nên người điền, "
            "người ký không nhìn thấy nội dung đó; không ghép tệp này."),
         unit=N_("Đề nghị đơn vị hiện lại các dòng, cột, trang tính đang ẩn (chuột phải > Bỏ ẩn), trả lại định dạng và "
                 "màu chữ của ô như tệp mẫu, kiểm tra nội dung hiện trên bảng tính rồi gửi lại."),
         staff=N_("Nội dung ô bị ẩn có thể khác với nội dung đơn vị nhìn thấy và ký (tệp có thể đã bị sửa để số liệu "
                  "ghép khác đi): không ghép cho đến khi đơn vị gửi lại."),
         params=("field", "hidden", "criterion", "product"), by="field", variants=_v(
             answer=Variant(N_("Tệp '{file}', trang '{sheet}', ô {cell} ({label}) có câu trả lời '{value}' nhưng "
                               "{hidden}, nên người điền, người ký không nhìn thấy câu trả lời đó; không ghép tệp "
                               "này.")))),
    Code("duplicate_form", "error", "content",
         N_("tệp có hai bảng tiêu chí với câu trả lời khác nhau (đơn vị chép trang)"),
         N_("Tệp '{file}' có hai bảng tiêu chí với câu trả lời khác nhau: trang '{first_sheet}' (từ dòng "
            "{first_row}) và trang '{sheet}' (từ dòng {row}). Không xác định được bảng nào là chính thức."),
         unit=N_("Đề nghị đơn vị chỉ giữ một bảng đã điền đầy đủ (trong trang biên bản của tệp mẫu), xóa bản sao, "
                 "rồi gửi lại."), params=("first_sheet", "first_row", "row")),

    # ----- accepted, worth a look ("Lưu ý:")
    Code("blank_answer", "warning", "review", N_("một tiêu chí để trống"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell} ({label}) để trống: tiêu chí này chưa có câu trả lời."),
         unit=N_("Đề nghị đơn vị chọn câu trả lời cho ô này trong danh sách thả xuống khi gửi tệp lần sau."),
         staff=N_("Sản phẩm còn tiêu chí chưa trả lời được tính là “Chưa đủ” cho đến khi có bản trả lời đủ (bản "
                  "sau thay bản trước)."), params=("criterion", "product")),
    Code("not_signed", "warning", "review", N_("chưa ghi họ tên Thủ trưởng đơn vị"),
         N_("Tệp '{file}': chưa ghi họ tên Thủ trưởng đơn vị (người ký). Vẫn ghép."),
         unit=N_("Đề nghị đơn vị bổ sung khi gửi bản ký.")),
    Code("no_domain", "warning", "review", N_("chưa ghi địa chỉ tên miền của trang"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}: chưa ghi địa chỉ tên miền của “{product}”. Vẫn ghép."),
         unit=N_("Đề nghị đơn vị ghi địa chỉ tên miền (ví dụ: hoankiem.hanoi.gov.vn) vào ô này khi gửi tệp lần "
                 "sau."),
         staff=N_("Đã biết tên miền thì có thể điền cột domain trong units.csv: biểu mẫu các đợt sau được điền "
                  "sẵn."), params=("product",)),
    Code("odd_domain", "warning", "review", N_("tên miền có vẻ sai dạng"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}"
            ": tên miền '{value}' có vẻ không đúng dạng (ví dụ đúng: hoankiem.hanoi.gov.vn). Vẫn ghi nhận."),
         staff=N_("Nên hỏi lại đơn vị.")),
    Code("legacy_font", "warning", "review",
         N_("chữ gõ bằng mã cũ TCVN3 (.VnTime) hoặc VNI, đã chuyển sang Unicode"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell} ({field}) gõ bằng mã {legacy}; đã chuyển sang Unicode: '{text}'."),
         unit=N_("Đề nghị đơn vị dùng bộ gõ Unicode."), staff=N_("Nên kiểm tra lại nội dung."),
         params=("field", "legacy", "text", "criterion", "product", "answer"), by="field", variants=_v(
             answer=Variant(N_("Tệp '{file}', trang '{sheet}', ô {cell}"
                               " ({label}) được gõ bằng mã {legacy}: '{value}'. Đã chuyển sang Unicode thành "
                               "'{answer}'.")))),
    Code("formula_in_text", "warning", "review",
         N_("ô ghi chú, kiến nghị hoặc người ký là công thức: chỉ ghi nhận dạng chữ"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}"
            " ({field}) là công thức '{value}'; công thức không được dùng, chỉ ghi nhận {kept} dưới dạng "
            "chữ."), staff=N_("Có thể nhắc đơn vị gõ nội dung trực tiếp."), params=("field", "kept")),
    Code("identified_by_labels", "warning", "review",
         N_("tệp mất thông tin định danh (đơn vị chép sang tệp mới); đã nhận ra theo tên đơn vị và nhãn tiêu chí"),
         N_("Tệp '{file}' không còn thông tin định danh của tệp mẫu (có thể đơn vị đã chép sang tệp mới); đã nhận "
            "ra đơn vị '{unit}' và các câu trả lời theo nhãn."),
         staff=N_("Nên đối chiếu kết quả trong master.xlsx với đơn vị."), params=("unit",)),
    Code("layout_changed", "warning", "review", N_("vị trí ô trả lời đã bị thay đổi; đã đọc theo nhãn"),
         N_("Tệp '{file}': vị trí các ô trả lời đã thay đổi so với tệp mẫu; đã tìm câu trả lời theo nhãn tiêu chí và "
            "tiêu đề cột."), staff=CHECK_WITH_UNIT),
    Code("label_edited", "warning", "review", N_("nhãn tiêu chí đã bị sửa hoặc xóa; đã đọc theo tệp mẫu"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell}"
            ": nhãn tiêu chí “{expected}” đã bị sửa hoặc xóa. Vẫn đọc câu trả lời ở ô của tiêu chí này theo "
            "tệp mẫu."), staff=CHECK_WITH_UNIT),
    Code("unit_name_missing", "warning", "review",
         N_("tên đơn vị nhìn thấy trên biên bản (tiêu đề, mở đầu, kết luận) không phải tên đơn vị trong thông tin "
            "định danh"),
         N_("Tệp '{file}' mang thông tin định danh của {unit}, nhưng tên đơn vị nhìn thấy trên biên bản là '{value}' "
            "(trang '{sheet}', ô {cell}); đã ghép cho {unit}."),
         staff=N_("Nên kiểm tra lại với đơn vị: tên đơn vị có thể đã bị sửa, hoặc biên bản được chép từ tệp khác."),
         params=("unit",), by="value", variants=_v(**{
             "": Variant(N_("Tệp '{file}' mang thông tin định danh của {unit}, nhưng không thấy tên đơn vị này ở tiêu "
                            "đề, phần mở đầu hay phần kết luận của biên bản (trang '{sheet}'); đã ghép cho "
                            "{unit}."))})),
    Code("name_mismatch", "warning", "review",
         N_("tệp mang tên tệp của đơn vị khác nhưng nội dung là của đơn vị này; đã ghép theo nội dung"),
         N_("Tệp '{file}' mang tên tệp của {other_unit} nhưng nội dung là biên bản của {unit}; đã ghép cho {unit} "
            "theo nội dung."), staff=N_("Nên kiểm tra lại với hai đơn vị."), params=("other_unit", "unit")),
    Code("old_template", "warning", "review", N_("tệp tạo từ phiên bản mẫu khác"),
         N_("Tệp '{file}' được tạo từ phiên bản mẫu '{value}', khác phiên bản hiện tại '{expected}'. Vẫn ghép."),
         staff=N_("Nên kiểm tra lại nội dung.")),
    Code("products_not_on_form", "warning", "review",
         N_("tệp là biểu mẫu gửi trước khi thêm sản phẩm vào danh sách: sản phẩm mới vẫn chưa nhận"),
         N_("Tệp '{file}' là biểu mẫu gửi {unit} trước khi thêm {products} vào danh sách đơn vị; đã nhận câu trả "
            "lời của các sản phẩm có trong tệp, {products} vẫn tính là chưa nhận."),
         staff=N_("Gửi đơn vị tệp mới trong outbox/ (chạy 'tracker generate' nếu chưa) để xác nhận thêm các sản phẩm "
                  "đó; bản gửi sau thay bản trước."), params=("unit", "products")),
    Code("criteria_not_on_form", "warning", "review",
         N_("tệp là biểu mẫu làm trước khi thêm tiêu chí vào mẫu chiến dịch: tiêu chí mới chưa có câu trả lời"),
         N_("Tệp '{file}' là biểu mẫu làm trước khi thêm tiêu chí {criteria} vào mẫu chiến dịch; các tiêu chí đó "
            "chưa có câu trả lời (sản phẩm tính là “Chưa đủ”)."),
         staff=N_("Gửi đơn vị tệp mới trong outbox/ (chạy 'tracker generate' nếu chưa) để trả lời đủ các tiêu chí."),
         params=("criteria",)),
    Code("macro_file", "warning", "review", N_("tệp có macro (.xlsm); macro không được chạy"),
         N_("Tệp '{file}' là sổ tính có macro (.xlsm). Macro không được chạy; chỉ đọc dữ liệu."),
         unit=N_("Lần sau đề nghị đơn vị lưu dạng .xlsx.")),
    Code("converted", "warning", "review", N_("tệp .xls/.ods đã được chuyển sang .xlsx bằng LibreOffice"),
         N_("Tệp '{file}' ở định dạng .{kind}; đã chuyển sang .xlsx bằng LibreOffice để đọc."),
         unit=N_("Lần sau đề nghị đơn vị lưu dạng .xlsx."), params=("kind",)),
    Code("sender_unknown", "warning", "review", N_("thư gửi từ địa chỉ không có trong units.csv"),
         N_("Tệp '{file}' (biên bản của {unit}) gửi từ địa chỉ {sender}, không có trong units.csv (email của đơn vị: "
            "{registered}). Vẫn ghép."),
         staff=N_("Xác nhận với đơn vị đây đúng là bản trả lời của họ; nếu đúng, thêm địa chỉ này vào cột email của "
                  "đơn vị trong units.csv."),
         params=("sender", "unit", "registered"), by="registered", variants=_v(**{
             "": Variant(N_("Tệp '{file}' (biên bản của {unit}) gửi từ địa chỉ {sender}, không có trong units.csv "
                            "(units.csv chưa có email của đơn vị này). Vẫn ghép."))})),
    Code("sender_other_unit", "warning", "review", N_("thư gửi từ địa chỉ của đơn vị khác"),
         N_("Tệp '{file}' là biên bản của {unit} nhưng gửi từ địa chỉ {sender} của {other_units} (theo units.csv). "
            "Vẫn ghép cho {unit} theo nội dung."),
         staff=N_("Kiểm tra với cả hai đơn vị: đơn vị gửi hộ, hay nhầm tệp của đơn vị khác."),
         params=("sender", "unit", "other_units")),
    Code("same_received_time", "warning", "review",
         N_("hai bản của một đơn vị cùng thời điểm nhận, không biết bản nào mới hơn: dùng bản ghép sau"),
         N_("Tệp '{file}' và bản đang dùng của {unit} ('{earlier}') cùng thời điểm nhận {received}, và thời điểm lưu "
            "trong tệp không phân biệt được bản nào mới hơn: dùng bản ghép sau ('{file}'); bản kia vẫn lưu trong "
            "lịch sử."),
         staff=N_("Hỏi lại đơn vị bản nào là bản cuối; nếu là bản kia, sửa kết quả trên master.xlsx theo bản đó rồi "
                  "chạy 'tracker merge'."),
         params=("received", "unit", "earlier")),
    Code("email_no_date", "warning", "review", N_("thư không có ngày gửi: ngày nhận lấy theo ngày của tệp"),
         N_("Thư '{file}' không có ngày gửi (Date) đọc được: ngày nhận lấy theo ngày sửa tệp."),
         staff=N_("Nếu cần, ghép lại thư đó với --received NGÀY.")),

    # ----- information: nothing to do
    Code("duplicate", "info", "info", N_("tệp đã ghép trước đó"),
         N_("Tệp '{file}' đã được ghép ngày {merged_on} (tệp '{earlier}'); không ghép lại."),
         params=("merged_on", "earlier")),
    Code("replaced", "info", "info", N_("bản mới hơn thay bản trước (theo thời điểm nhận)"),
         N_("Bản nhận {received} là bản đang dùng của {unit} (mới hơn bản nhận {current}); bản trước vẫn lưu trong "
            "lịch sử."),
         params=("unit", "current", "received", "why"), by="why", variants=_v(**{
             "saved": Variant(N_("Bản nhận {received} là bản đang dùng của {unit}: cùng thời điểm nhận với bản trước "
                                 "nhưng được lưu (trong Excel) sau bản đó; bản trước vẫn lưu trong lịch sử."),
                              title=N_("cùng thời điểm nhận, lưu sau")),
             "": Variant(N_("Thay bản trước của {unit} (nhận {current}); bản trước vẫn lưu trong lịch sử."))})),
    Code("stale", "info", "info", N_("bản cũ hơn bản đang dùng, lưu lịch sử"),
         N_("Tệp '{file}' (nhận {received}) cũ hơn bản đang dùng của {unit} (nhận {current}); lưu vào lịch sử, không "
            "thay bản đang dùng."), params=("received", "unit", "current", "why"), by="why", variants=_v(
             saved=Variant(N_("Tệp '{file}' cùng thời điểm nhận ({received}) với bản đang dùng của {unit} nhưng được "
                              "lưu (trong Excel) trước bản đó; lưu vào lịch sử, không thay bản đang dùng."),
                           title=N_("cùng thời điểm nhận, lưu trước")))),

    Code("long_text", "info", "info", N_("chữ dài hơn một ô Excel chứa được: sổ ghi giữ đủ, bảng tính hiện phần đầu"),
         N_("Tệp '{file}', trang '{sheet}', ô {cell} ({field}) dài {length} ký tự: sổ ghi giữ đủ; master.xlsx và báo "
            "cáo .xlsx hiện phần đầu kèm dấu […] (một ô Excel chứa tối đa 32.767 ký tự), báo cáo .docx hiện đủ."),
         params=("field", "length")),

    # ----- the master ("Chú ý:" while merging)
    Code("master_bad_answer", "error", "master", N_("ô tiêu chí gõ tay sai giá trị trên master: dòng được giữ như đã gõ"),
         N_("{file}, trang '{sheet}', ô {cell}: giá trị '{value}' không phải '{met}' hay '{not_met}'. Dòng nhập tay "
            "của {unit} chưa được ghi nhận; dòng được giữ nguyên như đã gõ (ô tô đỏ, có ghi chú) cho đến khi sửa."),
         staff=N_("Sửa ô này rồi chạy lại 'tracker merge'."), params=("met", "not_met", "unit")),
    Code("master_bad_date", "error", "master", N_("ngày nhận gõ tay sai dạng trên master: dòng được giữ như đã gõ"),
         N_("{file}, trang '{sheet}', ô {cell}: ngày nhận '{value}' không hợp lệ (nhập dạng NN/TT/NNNN). Dòng nhập "
            "tay của {unit} chưa được ghi nhận; dòng được giữ nguyên như đã gõ (ô tô đỏ, có ghi chú) cho đến khi "
            "sửa."), staff=N_("Sửa ô này rồi chạy lại 'tracker merge'."),
         params=("unit",)),
    Code("master_beside", "info", "master", N_("đã đọc sửa tay trong bản master ghi bên cạnh (master-<thời điểm>.xlsx)"),
         N_("Đã đọc sửa tay trong {file} (bản ghi bên cạnh khi master.xlsx đang mở): {count} đơn vị được ghi nhận."),
         params=("count", "moved"), by="moved", variants=_v(
             yes=Variant(N_("Đã đọc sửa tay trong {file} (bản ghi bên cạnh khi master.xlsx đang mở): {count} đơn vị "
                            "được ghi nhận; tệp đã được chuyển vào backups/."),
                         title=N_("đã ghi nhận, tệp chuyển vào backups/")))),
    Code("master_unreadable", "warning", "master", N_("master.xlsx hỏng, không đọc được"),
         N_("Không đọc được {file} ({value})."), staff=MASTER_KEPT),
    Code("master_no_snapshot", "warning", "master", N_("master.xlsx mất trang định danh (bị thay)"),
         N_("{file} thiếu trang định danh; không so được sửa tay."), staff=MASTER_KEPT),
    Code("master_other_campaign", "warning", "master", N_("master.xlsx là của chiến dịch khác"),
         N_("{file} thuộc chiến dịch khác ('{value}'); bỏ qua."), staff=MASTER_KEPT),

    # ----- signed copies of the biên bản: scans, photos, digitally signed PDFs
    Code("signed_file_too_large", "error", "signed", N_("bản ký quá lớn (trên 30 MB)"),
         N_("Tệp '{file}' quá lớn ({size_mb} MB, tối đa {max_mb} MB) cho một bản biên bản đã ký."),
         unit=RESCAN, params=("size_mb", "max_mb")),
    Code("signed_not_supported", "error", "signed",
         N_("không phải tệp PDF hay ảnh JPG, PNG, TIF (ví dụ ảnh .heic của điện thoại, tệp Word)"),
         N_("Tệp '{file}' không phải tệp PDF hay ảnh (JPG, PNG, TIF) nên không đọc được như bản biên bản đã ký."),
         unit=N_("Đề nghị đơn vị gửi bản quét dạng PDF hoặc JPG, hoặc tệp PDF đã ký số.")),
    Code("signed_damaged", "error", "signed", N_("tệp PDF hoặc ảnh hỏng, không mở được"),
         N_("Tệp PDF '{file}' bị hỏng, không mở được."),
         unit=N_("Đề nghị đơn vị xuất lại tệp PDF (hoặc quét lại biên bản) rồi gửi lại."),
         staff=N_("Có thể tải lại tệp đính kèm rồi ghép lại."), params=("problem", "page"), by="problem",
         variants=_v(
             no_pages=Variant(N_("Tệp PDF '{file}' không có trang nào.")),
             image=Variant(N_("Ảnh '{file}' bị hỏng hoặc không đúng định dạng, không mở được."), unit=RESCAN_IMAGE,
                           title=N_("ảnh hỏng")),
             image_page=Variant(N_("Ảnh '{file}' bị hỏng (trang {page}), không đọc được."), unit=RESCAN_IMAGE,
                                title=N_("ảnh hỏng")))),
    Code("signed_encrypted", "error", "signed", N_("tệp PDF có mật khẩu"),
         N_("Tệp PDF '{file}' có đặt mật khẩu nên không đọc được."),
         unit=N_("Đề nghị đơn vị bỏ mật khẩu (tệp ký số: bỏ mật khẩu trước rồi mới ký) và gửi lại.")),
    Code("signed_too_many_pages", "error", "signed", N_("tệp quá 20 trang (không phải riêng biên bản)"),
         N_("Tệp '{file}' có {value} trang, quá {max} trang: biên bản xác nhận chỉ có vài trang."),
         unit=N_("Đề nghị đơn vị quét riêng biên bản đã ký, đóng dấu thành một tệp rồi gửi lại."), params=("max",)),
    Code("signed_pdf_bomb", "error", "signed",
         N_("cấu trúc PDF bất thường (dữ liệu giải nén quá lớn, trang hoặc ảnh khổng lồ), bị từ chối để bảo đảm an "
            "toàn"),
         N_("Tệp PDF '{file}' có cấu trúc bất thường (một luồng dữ liệu giải nén quá {max_mb} MB), bị từ chối để bảo "
            "đảm an toàn."),
         unit=N_("Đề nghị đơn vị quét lại biên bản, hoặc in lại ra PDF từ tệp mẫu, rồi gửi lại."),
         staff=N_("Không nên tự mở tệp này."), params=("problem", "max_mb", "page", "size"), by="problem",
         variants=_v(
             page_box=Variant(N_("Tệp PDF '{file}' có cấu trúc bất thường (trang {page} rộng {size} điểm), bị từ chối "
                                 "để bảo đảm an toàn.")),
             image=Variant(N_("Tệp PDF '{file}' có cấu trúc bất thường (ảnh trong trang {page} khai báo {size} điểm "
                              "ảnh), bị từ chối để bảo đảm an toàn.")))),
    Code("signed_image_too_large", "error", "signed", N_("ảnh quá 60 triệu điểm ảnh"),
         N_("Ảnh '{file}' quá lớn ({size} điểm ảnh; tối đa {max_mpx} triệu điểm ảnh)."),
         unit=N_("Đề nghị đơn vị quét lại ở 200–300 dpi hoặc chụp ở độ phân giải thấp hơn rồi gửi lại."),
         params=("size", "max_mpx"), by="size", variants=_v(**{
             "": Variant(N_("Ảnh '{file}' quá lớn (tối đa {max_mpx} triệu điểm ảnh)."))})),
    Code("signed_unreadable", "error", "signed", N_("tệp có chữ ký số nhưng không kiểm tra được chữ ký"),
         N_("Tệp PDF '{file}': không kiểm tra được chữ ký số '{signature}'."), unit=RESEND_SIGNED,
         params=("signature",), by="signature", variants=_v(**{
             "": Variant(N_("Tệp PDF '{file}' có chữ ký số nhưng cấu trúc tệp không kiểm tra được chữ ký."))})),
    Code("signed_invalid", "error", "signed", N_("chữ ký số không hợp lệ (nội dung đã ký bị thay đổi, chữ ký hỏng)"),
         N_("Tệp '{file}': chữ ký số của {signer} không hợp lệ (nội dung đã ký bị thay đổi hoặc chữ ký bị hỏng); "
            "không công nhận bản ký này."),
         unit=N_("Đề nghị đơn vị ký lại trên tệp PDF của biên bản rồi gửi lại."), params=("signer",)),
    Code("signed_modified", "error", "signed", N_("tệp bị sửa hoặc thêm nội dung sau khi ký"),
         N_("Tệp '{file}' đã bị sửa hoặc thêm nội dung sau khi {signer} ký số (chữ ký không còn bao trùm toàn bộ "
            "tệp); không công nhận bản ký này."),
         unit=N_("Đề nghị đơn vị gửi lại đúng tệp vừa ký, không mở ra sửa hay lưu lại bằng phần mềm khác sau khi "
                 "ký."), params=("signer",)),
    Code("signed_untrusted", "error", "signed",
         N_("chứng thư số không do tổ chức chứng thực nào trong thư mục trust/ cấp"),
         N_("Tệp '{file}': chứng thư số của {signer} do '{issuer}' cấp, không thuộc tổ chức chứng thực nào trong "
            "thư mục trust/ của chiến dịch."),
         staff=N_("Nếu đó là tổ chức chứng thực hợp pháp (Ban Cơ yếu Chính phủ, CA công cộng được cấp phép), chép "
                  "chứng thư gốc của họ (.cer, .crt, .pem) vào thư mục trust/: lần 'tracker merge' sau (hoặc 'tracker signed "
                  "check') tự kiểm tra lại bản ký; nếu không, đề nghị đơn "
                  "vị ký bằng chứng thư số do tổ chức chứng thực hợp pháp cấp."),
         params=("signer", "issuer", "roots"), by="roots", variants=_v(**{
             "0": Variant(N_("Tệp '{file}': chưa kiểm tra được chữ ký số của {signer} (chứng thư do '{issuer}' cấp) vì "
                             "thư mục trust/ của chiến dịch chưa có chứng thư gốc nào."),
                          staff=N_("Chép chứng thư gốc của tổ chức chứng thực đã cấp (Ban Cơ yếu Chính phủ hoặc CA "
                                   "công cộng được cấp phép; tệp .cer, .crt, .pem tải từ trang của họ) vào thư mục "
                                   "trust/: lần 'tracker merge' sau (hoặc 'tracker signed check') tự kiểm tra lại bản ký; xem "
                                   "trust/README.txt."),
                          title=N_("thư mục trust/ còn trống"))})),
    Code("signed_cert_expired", "error", "signed", N_("chứng thư số đã hết hạn vào thời điểm nhận"),
         N_("Tệp '{file}': chứng thư số của {signer} đã hết hạn ngày {valid_until}, trước thời điểm kiểm tra "
            "{checked_on}."),
         unit=N_("Đề nghị đơn vị ký lại bằng chứng thư số còn hạn rồi gửi lại."),
         params=("signer", "valid_until", "checked_on")),
    Code("signed_cert_not_yet_valid", "error", "signed", N_("chứng thư số chưa có hiệu lực vào thời điểm nhận"),
         N_("Tệp '{file}': chứng thư số của {signer} chỉ có hiệu lực từ ngày {valid_from}, sau thời điểm kiểm tra "
            "{checked_on}."),
         unit=N_("Đề nghị đơn vị ký lại bằng chứng thư số đang có hiệu lực rồi gửi lại."),
         staff=N_("Trước đó, kiểm tra ngày giờ của máy tính này và ngày nhận đã ghi: ngày giờ sai cũng gây ra lời báo này."),
         params=("signer", "valid_from", "checked_on")),
    Code("signed_revoked", "error", "signed", N_("chứng thư số đã bị thu hồi"),
         N_("Tệp '{file}': chứng thư số của {signer} đã bị thu hồi."),
         unit=N_("Đề nghị đơn vị ký lại bằng chứng thư số hợp lệ rồi gửi lại."), params=("signer",)),
    Code("trust_bad_file", "warning", "signed", N_("một tệp trong thư mục trust/ không phải chứng thư số: bỏ qua tệp đó"),
         N_("Tệp '{file}' trong thư mục trust/ không phải chứng thư số đọc được; đã bỏ qua."),
         staff=N_("Thay bằng tệp chứng thư gốc (.cer, .crt hoặc .pem) tải từ trang của tổ chức chứng thực.")),
    Code("qr_not_found", "warning", "signed",
         N_("không thấy mã QR của biên bản (ảnh mờ, mã bị che, biên bản không in từ tệp mẫu)"),
         N_("Không tìm thấy mã QR của biên bản trên {pages} trang đầu của tệp '{file}' (ảnh mờ, mã bị che, hoặc biên "
            "bản không in từ tệp mẫu)."),
         staff=N_("Xem tệp và xác nhận đây là biên bản của đơn vị nào; nếu cần, đề nghị đơn vị quét lại rõ hơn "
                  "(200–300 dpi)."), params=("pages",), by="pages", variants=_v(**{
             "1": Variant(N_("Không tìm thấy mã QR của biên bản trong tệp '{file}' (ảnh mờ, mã bị che, hoặc biên bản "
                             "không in từ tệp mẫu)."))})),
    Code("qr_other_campaign", "error", "signed", N_("mã QR của đợt xác nhận khác (biên bản in từ tệp của đợt trước)"),
         N_("Mã QR trên tệp '{file}' là của một đợt xác nhận khác (mã đợt '{value}', đợt này là '{expected}'): có "
            "thể đơn vị gửi nhầm biên bản của đợt trước."),
         unit=N_("Đề nghị đơn vị in biên bản từ tệp mẫu của đợt này, ký, đóng dấu rồi gửi lại.")),
    Code("qr_unknown_unit", "error", "signed", N_("mã QR mang mã đơn vị không có trong units.csv"),
         N_("Mã QR trên tệp '{file}' mang mã đơn vị '{value}' không có trong danh sách đơn vị của đợt này."),
         staff=N_("Kiểm tra units.csv (đơn vị bị xóa, đổi mã?), hoặc đề nghị đơn vị in đúng biên bản của mình từ tệp "
                  "mẫu đã gửi.")),
    Code("qr_bad_token", "error", "signed",
         N_("mã xác thực trong mã QR không khớp (mã bị sửa, hoặc biên bản in từ tệp của thư mục chiến dịch khác)"),
         N_("Mã QR trên tệp '{file}': mã xác thực không khớp với đơn vị '{value}' (mã QR bị sửa, hoặc biên bản in từ "
            "tệp của một thư mục chiến dịch khác); không công nhận bản này."),
         staff=N_("Gửi lại đơn vị tệp mẫu trong outbox/ của thư mục chiến dịch này và đề nghị in, ký, đóng dấu lại.")),
    Code("qr_malformed", "error", "signed", N_("mã QR có dạng của tracker nhưng sai cấu trúc (bị sửa hoặc hỏng)"),
         N_("Mã QR trên tệp '{file}' có dạng của tracker nhưng sai cấu trúc (đã bị sửa hoặc hỏng); không công nhận "
            "bản này."),
         unit=N_("Đề nghị đơn vị in lại biên bản từ tệp mẫu đã gửi, ký, đóng dấu rồi gửi lại.")),
    Code("copy_unmatched", "error", "signed", N_("không xác định được bản ký là của đơn vị nào"),
         N_("Không xác định được tệp '{file}' là biên bản của đơn vị nào (chữ ký số khớp nhiều đơn vị: {units}): "
            "không có mã QR hợp lệ; chữ ký số, tên tệp và địa chỉ gửi không chỉ ra đúng một đơn vị."),
         staff=SEE_COPY, params=("units",), by="units", variants=_v(**{
             "": Variant(N_("Không xác định được tệp '{file}' là biên bản của đơn vị nào: không có mã QR hợp lệ; chữ "
                            "ký số, tên tệp và địa chỉ gửi không chỉ ra đúng một đơn vị."))})),
    Code("copy_ambiguous", "error", "signed", N_("tên tệp và địa chỉ gửi chỉ hai đơn vị khác nhau"),
         N_("Tệp '{file}': tên tệp chỉ {file_unit}, còn địa chỉ gửi chỉ {sender_unit}; không tự ghép."),
         staff=SEE_COPY, params=("file_unit", "sender_unit")),
    Code("copy_other_unit", "error", "signed",
         N_("bản ký của một đơn vị gửi kèm bảng tính của đơn vị khác: không tự ghép"),
         N_("Tệp '{file}' là biên bản của {unit} (theo {method}) nhưng được gửi kèm bảng tính của {other_unit}; "
            "không tự ghép."), staff=N_("Kiểm tra với đơn vị gửi, rồi ghép cho đúng đơn vị bằng 'tracker signed confirm "
                                       "SỐ --unit MÃ_ĐƠN_VỊ' (SỐ: xem 'tracker signed list')."),
         params=("unit", "method", "other_unit")),
    Code("copy_needs_confirmation", "warning", "signed",
         N_("chỉ nhận ra đơn vị theo tên tệp, địa chỉ gửi, hoặc chữ ký số chưa kiểm tra được"),
         N_("Tệp '{file}' được nhận là biên bản của {unit} theo {method}, không có mã QR hay chữ ký số hợp lệ xác "
            "nhận."), staff=N_("Xem tệp; đúng đơn vị thì xác nhận bằng 'tracker signed confirm SỐ' (SỐ: xem 'tracker "
                               "signed list'), sai thì thêm --unit MÃ_ĐƠN_VỊ, không phải biên bản thì 'tracker signed "
                               "reject SỐ'. Chưa xác nhận thì chưa tính là đã có biên bản."), params=("unit", "method")),
    Code("copy_signer_other_unit", "warning", "signed",
         N_("mã QR của một đơn vị, người ký số thuộc đơn vị khác: vẫn nhận theo mã QR"),
         N_("Tệp '{file}': mã QR là của {unit} nhưng người ký số thuộc {units}. Vẫn nhận theo mã QR."),
         staff=N_("Nên kiểm tra lại với đơn vị."), params=("unit", "units")),

    # ----- the registry (units.csv); the command stops with these, listed under one line naming the file
    Code("registry_not_nfc", "error", "registry", N_("chữ chưa chuẩn hóa Unicode dựng sẵn (NFC)"),
         N_("dòng {row}, cột {column}: chữ chưa chuẩn hóa Unicode dựng sẵn (NFC) '{value}'."),
         staff=N_("Lưu lại tệp bằng bộ gõ Unicode dựng sẵn."), params=("row", "column")),
    Code("registry_no_unit_id", "error", "registry", N_("dòng có sản phẩm nhưng cột id trống"),
         N_("dòng {row}: sản phẩm không thuộc đơn vị nào (cột id trống)."), staff=N_("Điền mã đơn vị."),
         params=("row",)),
    Code("registry_bad_id", "error", "registry", N_("mã đơn vị sai dạng"),
         N_("dòng {row}: mã đơn vị '{value}' không hợp lệ (chỉ chữ thường không dấu, số, dấu gạch ngang)."),
         staff=N_("Sửa mã ở cột id."), params=("row",)),
    Code("registry_duplicate_id", "error", "registry", N_("mã đơn vị trùng"),
         N_("dòng {row}: mã đơn vị '{value}' trùng với dòng {other_row}."),
         staff=N_("Mỗi đơn vị một mã riêng: sửa mã, hoặc xóa dòng thừa."), params=("row", "other_row")),
    Code("registry_unknown_group", "error", "registry", N_("khối không có trong mẫu chiến dịch"),
         N_("dòng {row}: khối '{value}' không có trong mẫu chiến dịch (có: {expected})."),
         staff=N_("Ghi ở cột group một khối có trong mẫu."), params=("row",)),
    Code("registry_no_name", "error", "registry", N_("thiếu tên đơn vị"),
         N_("dòng {row}: thiếu tên đơn vị."), staff=N_("Điền tên đơn vị ở cột name."), params=("row",)),
    Code("registry_duplicate_name", "error", "registry", N_("tên đơn vị trùng trong một khối"),
         N_("dòng {row}: tên đơn vị '{value}' trùng với dòng {other_row}."),
         staff=N_("Sửa cho hai tên khác nhau, hoặc xóa dòng thừa."), params=("row", "other_row")),
    Code("registry_bad_email", "error", "registry", N_("email sai dạng"),
         N_("dòng {row}: email '{value}' không hợp lệ."),
         staff=N_("Sửa địa chỉ; nhiều địa chỉ cách nhau bằng dấu chấm phẩy (;)."), params=("row",)),
    Code("registry_bad_domain", "error", "registry", N_("tên miền sai dạng"),
         N_("dòng {row}: tên miền '{value}' không hợp lệ (ví dụ đúng: soyte.hanoi.gov.vn)."),
         staff=N_("Ghi tên miền không kèm http:// và dấu / ở cuối, hoặc để trống."), params=("row",)),
    Code("registry_bad_product", "error", "registry", N_("sản phẩm sai dạng"),
         N_("dòng {row}: sản phẩm '{value}' sai dạng; cần 'mã=Tên sản phẩm', cách nhau bởi '|'."),
         staff=N_("Sửa cột products theo dạng đó."), params=("row",)),
    Code("registry_no_products", "error", "registry", N_("đơn vị không có sản phẩm nào"),
         N_("dòng {row}: đơn vị không có sản phẩm nào (cột products trống)."),
         staff=N_("Điền sản phẩm, ví dụ site=Trang TTĐT của Sở."), params=("row",)),
    Code("registry_duplicate_product", "error", "registry", N_("trùng mã sản phẩm của một đơn vị"),
         N_("dòng {row}: trùng mã sản phẩm trong cột products."),
         staff=N_("Mỗi sản phẩm của một đơn vị một mã riêng."), params=("row",)),
    Code("registry_missing_facts", "error", "registry",
         N_("đơn vị thiếu cơ quan chủ quản, chức danh thủ trưởng hoặc nơi nhận"),
         N_("dòng {row}: chưa có {facts} của đơn vị '{unit}' (loại '{value}': mẫu chiến dịch không có giá trị mặc "
            "định cho loại này); cần điền cột {columns}, hoặc ghi cột kind là một loại có sẵn ({expected})."),
         staff=N_("Điền các cột còn thiếu của dòng này, hoặc sửa cột kind, rồi chạy lại."),
         params=("row", "unit", "facts", "columns"), by="value", variants=MappingProxyType({"": Variant(
             N_("dòng {row}: chưa có {facts} của đơn vị '{unit}' (cột kind để trống); cần ghi cột kind là một loại có "
                "sẵn ({expected}), hoặc điền cột {columns}."))})),
    Code("registry_duplicate_column", "error", "registry", N_("một tên cột có hai lần ở dòng tiêu đề"),
         N_("dòng {row}: cột '{column}' có hai lần ở dòng tiêu đề (ô {cells})."),
         staff=N_("Mỗi tên cột chỉ một lần: xóa cột thừa (hoặc đổi tên nó), lưu lại rồi chạy lại."),
         params=("row", "column", "cells")),
    Code("registry_extra_cells", "error", "registry", N_("ô có nội dung dưới cột không có tên (các ô bị lệch)"),
         N_("dòng {row}, cột {letter}: có nội dung '{value}' nhưng cột này không có tên ở dòng tiêu đề (thường do "
            "một ô có dấu phẩy mà không đặt trong ngoặc kép, làm các ô sau bị lệch)."),
         staff=N_("Mở units.csv bằng Excel, đưa nội dung về đúng cột, lưu lại dạng “CSV UTF-8 (Comma delimited)” rồi "
                  "chạy lại."), params=("row", "letter")),
    Code("registry_control_char", "error", "registry", N_("ô có ký tự điều khiển không in được"),
         N_("dòng {row}, cột {column}: có ký tự điều khiển không in được (mã {value}); ký tự đó làm hỏng tệp Excel "
            "tạo ra."),
         staff=N_("Xóa ký tự đó (thường do chép từ phần mềm khác; gõ lại ô cho chắc) rồi lưu lại."),
         params=("row", "column")),
    Code("registry_unreadable_line", "error", "registry", N_("dòng không đọc được (ký tự lạ)"),
         N_("dòng {row}: không đọc được ({value})."),
         staff=N_("Mở units.csv bằng Excel, kiểm tra dòng này (ký tự lạ, dấu ngoặc kép thiếu), lưu lại dạng “CSV "
                  "UTF-8 (Comma delimited)” rồi chạy lại."), params=("row",)),
    Code("registry_empty", "error", "registry", N_("danh sách không có đơn vị nào"),
         N_("không có đơn vị nào."), staff=FIX_REGISTRY),

    # ----- verify: a campaign folder after a disk or sync problem
    Code("verify_setup", "error", "verify", N_("mẫu chiến dịch hoặc danh sách đơn vị không nạp được"),
         N_("{problem}"), staff=N_("Sửa campaign.toml hoặc units.csv (bản cũ có trong backups/), rồi chạy lại."),
         params=("problem",)),
    Code("verify_ledger_unreadable", "error", "verify", N_("sổ ghi hỏng, không mở được"),
         N_("Sổ ghi {file} hỏng, không mở được ({value})."), staff=RESTORE_LEDGER),
    Code("verify_ledger_busy", "error", "verify", N_("sổ ghi đang bận (chương trình khác đang giữ): chưa kiểm tra được"),
         N_("Sổ ghi {file} đang bận, chưa kiểm tra được: đang được dùng bởi {holder}. Sổ ghi không hỏng."),
         staff=N_("Chờ lệnh đó xong (hoặc đóng chương trình đang mở sổ ghi) rồi chạy lại 'tracker verify'."),
         params=("holder",)),
    Code("verify_ledger_no_access", "error", "verify", N_("không mở được sổ ghi để kiểm tra (quyền truy cập, ổ đĩa)"),
         N_("Không mở được sổ ghi {file} để kiểm tra ({value}). Đây không phải dấu hiệu sổ ghi hỏng."),
         staff=N_("Kiểm tra quyền đọc tệp và thư mục chiến dịch (ổ mạng còn kết nối?) rồi chạy lại 'tracker verify'.")),
    Code("verify_ledger_integrity", "error", "verify", N_("sổ ghi không toàn vẹn"),
         N_("Sổ ghi {file} không toàn vẹn: {value}."), staff=RESTORE_LEDGER),
    Code("verify_ledger_links", "error", "verify", N_("sổ ghi có liên kết hỏng giữa các bảng"),
         N_("Sổ ghi có {value} liên kết hỏng giữa các bảng."), staff=RESTORE_LEDGER),
    Code("verify_archive_missing", "error", "verify", N_("thiếu tệp lưu trữ của một tệp đã nhận"),
         N_("Thiếu tệp lưu trữ của '{name}' ({file})."),
         staff=N_("Tìm lại tệp gốc (trong thư hoặc thư mục đã nhận) và chép vào đúng đường dẫn lưu trữ nêu trên; "
                  "hoặc khôi phục thư mục archive/ từ bản sao lưu."), params=("name",)),
    Code("verify_archive_changed", "error", "verify", N_("tệp lưu trữ đã bị thay đổi"),
         N_("Tệp lưu trữ {file} (tệp '{name}') đã bị thay đổi: mã băm không còn khớp."),
         staff=N_("Khôi phục tệp đó từ bản sao lưu, hoặc chép lại tệp gốc vào đúng đường dẫn đó. Không sửa tệp trong "
                  "archive/."), params=("name",)),
    Code("verify_archive_unknown", "warning", "verify", N_("tệp lưu trữ không có trong sổ ghi"),
         N_("Tệp lưu trữ {file} không có trong sổ ghi (lần ghép trước có thể đã bị ngắt giữa chừng)."),
         staff=N_("Chạy lại 'tracker merge' trên thư mục tệp đã nhận để ghép nốt.")),
    Code("verify_outbox_missing", "warning", "verify", N_("thiếu tệp gửi đơn vị trong outbox/"),
         N_("Thiếu {count} tệp gửi đơn vị trong outbox/ (ví dụ: {examples})."),
         staff=N_("Chạy 'tracker generate' để tạo lại."), params=("count", "examples")),
    Code("verify_outbox_bad", "error", "verify", N_("tệp trong outbox/ hỏng hoặc không khớp đơn vị"),
         N_("{count} tệp trong outbox/ hỏng hoặc không khớp đơn vị/mã xác thực (ví dụ: {examples})."),
         staff=N_("Chạy 'tracker generate': tệp sai được chuyển vào backups/ và tạo lại."),
         params=("count", "examples")),
    Code("verify_key_missing", "error", "verify", N_("mất khóa xác thực .tracker/secret.key"),
         N_("Không thấy khóa xác thực {file}, trong khi thư mục đã có tệp gửi đơn vị hoặc sổ ghi làm bằng khóa đó; chưa "
            "kiểm tra được mã xác thực các tệp trong outbox/. Có bản sao khóa ở {backup}."),
         staff=N_("Khôi phục khóa (chép bản sao trong backups/, hoặc từ bản sao lưu cả thư mục, về .tracker/secret.key; "
                  "xem mục 11) rồi chạy lại. Không tạo khóa mới, không chạy 'tracker generate' trước khi khôi phục: khóa "
                  "mới làm mọi tệp đã gửi đơn vị bị từ chối."),
         params=("backup",), by="backup", variants=_v(**{
             "": Variant(N_("Không thấy khóa xác thực {file}, trong khi thư mục đã có tệp gửi đơn vị hoặc sổ ghi làm bằng "
                            "khóa đó; chưa kiểm tra được mã xác thực các tệp trong outbox/."))})),
    Code("verify_leftover_temp", "warning", "verify", N_("tệp tạm do lệnh bị ngắt để lại"),
         N_("Còn {count} tệp tạm do lệnh bị ngắt giữa chừng để lại (ví dụ: {examples})."),
         staff=N_("Chạy lại lệnh đã bị ngắt ('tracker generate' cho outbox/, 'tracker merge' cho archive/, reports/ "
                  "và master.xlsx): tệp tạm của lệnh đã dừng được dọn. Các tệp này không chứa gì cần giữ."),
         params=("count", "examples")),
    Code("verify_no_master", "warning", "verify", N_("chưa có master.xlsx"),
         N_("Chưa có master.xlsx."), staff=N_("Chạy 'tracker merge' (không cần tệp) hoặc 'tracker generate'.")),
    Code("verify_master_unreadable", "error", "verify", N_("master.xlsx hỏng, không đọc được"),
         N_("Không đọc được {file} ({value})."), staff=REBUILD_MASTER),
    Code("verify_master_no_snapshot", "error", "verify", N_("master.xlsx mất trang định danh"),
         N_("{file} thiếu trang định danh; không so được sửa tay."), staff=REBUILD_MASTER),
    Code("verify_master_other_campaign", "error", "verify", N_("master.xlsx là của chiến dịch khác"),
         N_("{file} thuộc chiến dịch khác ('{value}')."), staff=REBUILD_MASTER),
    Code("verify_master_stale", "warning", "verify", N_("master.xlsx chưa cập nhật theo sổ ghi"),
         N_("master.xlsx chưa cập nhật theo sổ ghi ở {count} dòng (ví dụ: {examples})."),
         staff=N_("Chạy 'tracker merge' (không cần tệp): sửa tay trên master (nếu có) được ghi nhận trước, rồi "
                  "master được dựng lại."), params=("count", "examples")),

    # ----- mail: a message the server did not take
    Code("mail_recipients_refused", "error", "mail", N_("máy chủ thư từ chối mọi địa chỉ nhận của đơn vị"),
         N_("Máy chủ từ chối địa chỉ nhận ({value})."),
         staff=N_("Kiểm tra email của đơn vị trong units.csv rồi chạy lại lệnh (thư đã gửi không gửi lại).")),
    Code("mail_sender_refused", "error", "mail", N_("máy chủ thư từ chối địa chỉ người gửi; dừng gửi"),
         N_("Máy chủ thư từ chối địa chỉ người gửi {sender} ({value})."),
         staff=N_("Kiểm tra --from: thường phải trùng với tài khoản đăng nhập."), params=("sender",)),
    Code("mail_data_refused", "error", "mail", N_("máy chủ thư không nhận thư"),
         N_("Máy chủ không nhận thư ({value})."), staff=N_("Chạy lại lệnh để gửi lại các thư lỗi.")),
    Code("mail_partial", "warning", "mail", N_("đã gửi, nhưng máy chủ từ chối một số địa chỉ"),
         N_("Đã gửi, nhưng máy chủ từ chối một số địa chỉ ({value})."),
         staff=N_("Kiểm tra các địa chỉ đó trong units.csv.")),
    Code("disk_full", "error", "disk", N_("ổ đĩa đầy: không ghi được tệp"),
         N_("Ổ đĩa đầy: không ghi được tệp '{file}' vào thư mục '{folder}' (ổ đĩa đó còn trống {free})."),
         staff=N_("Giải phóng chỗ trống trên ổ đĩa đó (xóa tệp không cần, dọn Thùng rác) hoặc chép cả thư mục chiến "
                  "dịch sang ổ đĩa khác, rồi chạy lại lệnh. Những gì đã ghi trước đó vẫn an toàn."),
         params=("folder", "free", "during"), by="during", variants=_v(
             merge=Variant(N_("Ổ đĩa của chiến dịch đầy: chưa lưu được tệp '{file}' vào thư mục '{folder}' (ổ đĩa "
                              "đó còn trống {free}), nên tệp chưa được ghép. Tệp không có lỗi gì; không báo đơn vị."),
                           staff=N_("Giải phóng chỗ trống trên ổ đĩa đó rồi chạy lại 'tracker merge' với tệp này."),
                           title=N_("khi ghép: tệp chưa được ghép, không phải lỗi của đơn vị")))),
    Code("mail_connection_lost", "error", "mail", N_("mất kết nối với máy chủ thư khi đang gửi; dừng gửi"),
         N_("Mất kết nối với máy chủ thư {server} khi đang gửi cho {unit} ({value})."),
         staff=N_("Chạy lại lệnh để gửi tiếp các đơn vị còn lại."), params=("server", "unit")),
)


# ---------------------------------------------------------------------- rendering
def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _tr(lang: str | None, text: str) -> str:
    return _(text) if lang is None else in_language(lang, text)


class _Missing(dict):
    def __missing__(self, key):
        if STRICT:
            raise KeyError(f"finding parameter missing: {key}")
        return "{" + key + "}"      # shown as it is, never a failure at a user's desk


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------------- a finding
@dataclass(frozen=True, init=False)
class Finding:
    """One finding, as fields; severity and words come from CODES (see the module's doc)."""
    code: str
    file: str = ""          # file name as given
    sheet: str = ""
    cell: str = ""
    value: str = ""         # value found, if any
    expected: str = ""      # values allowed, if any
    params: tuple = ()      # (name, value) pairs, sorted: the code's declared parameters
    stored: str = ""        # an old ledger's rendered text, shown when the fields cannot say it

    def __init__(self, code: str, *, file: str = "", sheet: str = "", cell: str = "", value: str = "",
                 expected: str = "", params=(), stored: str = "", **named):
        set_ = object.__setattr__
        set_(self, "code", code)
        for name, v in (("file", file), ("sheet", sheet), ("cell", cell), ("value", value), ("expected", expected)):
            set_(self, name, "" if v is None else str(v))
        given = dict(params) if params else {}
        given.update(named)
        set_(self, "params", tuple(sorted((k, "" if v is None else str(v)) for k, v in given.items())))
        set_(self, "stored", stored or "")
        if STRICT and not stored:
            problems = check(self)
            if problems:
                raise ValueError(f"{code}: {'; '.join(problems)}")

    # --------------------------------------------------------- what the registry says
    @property
    def spec(self) -> Code | None:
        return CODES.get(self.code)

    @property
    def severity(self) -> str:
        spec = self.spec
        return spec.severity if spec is not None else "error"

    def param(self, name: str) -> str:
        return dict(self.params).get(name, "")

    def _key(self) -> str | None:
        spec = self.spec
        if spec is None or not spec.by:
            return None
        return getattr(self, spec.by) if spec.by in FIELDS else self.param(spec.by)

    def _wording(self) -> tuple[str, str, str] | None:
        """The code's words for this finding, or None when only the stored text can say it."""
        spec = self.spec
        if spec is None:
            return None
        wording = spec.wording(self._key())
        if self.stored:
            # A finding of an old ledger: its fields say it only when the code takes no parameter
            # and every field the template names was recorded.
            needed = placeholders(wording[0])
            if spec.params or any(n not in FIELDS or not getattr(self, n) for n in needed):
                return None
        return wording

    def _namespace(self, lang: str | None) -> dict:
        # The values are what units and staff typed or named (a file "a\x1b[2J.xlsx", a note of
        # several lines): on the screen (the current language) escaped, in a document on one line.
        shown = for_terminal if lang is None else one_line
        ns = _Missing({name: shown(getattr(self, name)) for name in FIELDS})
        allowed = _ANSWERS_ALLOWED.fullmatch(self.expected or "")
        if allowed:         # the answers allowed, in `lang` (old ledgers stored the same words)
            ns["expected"] = _tr(lang, ANSWERS_ALLOWED).format(met=allowed[1], not_met=allowed[2])
        params = {k: shown(v) for k, v in self.params}
        for name, v in params.items():
            if name in CHOICES and v in CHOICES[name]:
                v = _tr(lang, CHOICES[name][v])
            elif not v and name in BLANK:
                v = _tr(lang, BLANK[name])
            ns[name] = v
        if "criterion" in params:
            label = LABEL_OF if params.get("product") else LABEL
            ns["label"] = _tr(lang, label).format(criterion=params["criterion"], product=params.get("product", ""))
        return ns

    # --------------------------------------------------------- the words
    def statement(self, lang: str | None = None) -> str:
        """What is wrong, in `lang` (None: the current language)."""
        wording = self._wording()
        if wording is None:
            return self.stored or _join(self.code, *(v for v in (self.file, self.sheet, self.cell, self.value) if v))
        return _tr(lang, wording[0]).format_map(self._namespace(lang))

    def advice(self, lang: str | None = None, to: str | None = None) -> str:
        """What to do: for the unit (`to="unit"`), the staff (`to="staff"`), or both."""
        wording = self._wording()
        if wording is None:
            return ""
        unit, staff = (_tr(lang, t) if t else "" for t in wording[1:])
        return unit if to == "unit" else staff if to == "staff" else _join(unit, staff)

    def text(self, lang: str | None = None) -> str:
        """The whole message: what is wrong and what to do (an old ledger's text as it was stored)."""
        return _join(self.statement(lang), self.advice(lang))

    @property
    def message(self) -> str:
        """The message in the current language (what the command line prints)."""
        return self.text()

    def __str__(self) -> str:
        return self.text()

    # --------------------------------------------------------- in the ledger
    def record(self) -> dict:
        """The fields, as the ledger stores them (returns.findings): never the words."""
        return {"code": self.code, "file": self.file, "sheet": self.sheet, "cell": self.cell, "value": self.value,
                "expected": self.expected, "params": dict(self.params)}

    @classmethod
    def from_record(cls, rec: dict) -> Finding:
        """A finding read back from the ledger; an old ledger's record (its rendered `message`, no
        `params`) keeps that text for when its fields cannot say it."""
        fields = {k: rec.get(k) or "" for k in FIELDS}
        if "params" in rec:
            return cls(rec.get("code") or "", params=rec.get("params") or {}, **fields)
        return cls(rec.get("code") or "", stored=rec.get("message") or "?", **fields)

    def with_code(self, code: str) -> Finding:
        return Finding(code, file=self.file, sheet=self.sheet, cell=self.cell, value=self.value,
                       expected=self.expected, params=self.params)


def check(finding: Finding) -> list[str]:
    """What is wrong with how a finding was built: an unknown code, a parameter its code does not
    declare, or one its template needs and was not given."""
    spec = finding.spec
    if spec is None:
        return [f"unknown finding code {finding.code!r}"]
    given = dict(finding.params)
    problems = [f"parameter {n!r} not declared" for n in given if n not in spec.params]
    needed = placeholders(spec.wording(finding._key())[0]) - set(FIELDS)
    if "label" in needed:
        needed = (needed - {"label"}) | {"criterion"}
    problems += [f"parameter {n!r} missing" for n in sorted(needed) if n not in given]
    return problems


# ---------------------------------------------------------------------- the exceptions
class FindingError(TrackerError):
    """A TrackerError that is one finding; `str(err)` is its message in the current language."""

    def __init__(self, finding: Finding, details: list | None = None):
        super().__init__(finding.code, details)
        self.finding = finding

    def __str__(self) -> str:
        return self.finding.text()

    def __reduce__(self):  # keep picklable across run_bounded's process boundary
        return (type(self), (self.finding, self.listed))


class IntakeError(FindingError):
    """Raised by intake functions: the file is refused for this finding."""
