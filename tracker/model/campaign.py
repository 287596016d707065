"""Campaign: criteria, groups, answers, due date and texts, loaded from a TOML template.

Everything specific to one campaign (the Hà Nội 2026 letter is the built-in one) lives in the
template; the code only knows the shape.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tracker.model.dates import try_parse_date
from tracker.model.errors import TrackerError

BUILTIN = "hanoi-ttdt-2026"
# Ids that become parts of paths (a group's outbox/<group>/ folder) or of the workbooks' defined
# names (a criterion's TRK_A_<product>_<criterion>): safe there whatever the system ('../x', 'a/b',
# 'x:y' or a space never is).
GROUP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
CRITERION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Criterion:
    id: str
    group: str      # "Nhóm tiêu chí"
    detail: str     # "Nội dung đánh giá chi tiết"

    @property
    def name(self) -> str:
        return self.group


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    form: str
    texts: dict = field(hash=False, compare=False)

    def text(self, key: str, **values) -> str:
        value = self.texts.get(key, "")
        if isinstance(value, list):
            return "\n".join(value)
        return value.format(**values) if values else value


@dataclass(frozen=True)
class Campaign:
    id: str
    version: str
    title: str
    due: dt.date
    criteria: tuple[Criterion, ...]
    groups: tuple[Group, ...]
    answer_met: str
    answer_not_met: str
    data: dict = field(hash=False, compare=False, repr=False)
    source: Path | None = None

    @property
    def answers(self) -> tuple[str, str]:
        return (self.answer_met, self.answer_not_met)

    def group(self, group_id: str) -> Group:
        for g in self.groups:
            if g.id == group_id:
                return g
        raise KeyError(group_id)

    def section(self, name: str) -> dict:
        return self.data.get(name, {})

    @property
    def site_key(self) -> str:
        return self.section("products").get("site_key", "site")

    @property
    def kinds(self) -> dict[str, dict]:
        """Defaults per kind of unit ([[kinds]]), by kind case-folded."""
        return {str(k.get("kind", "")).casefold(): k for k in self.data.get("kinds", []) if k.get("kind")}


# ---------------------------------------------------------------------- texts every form and mail share
DOTS = "....."
SIGNED_SCAN = ("required", "requested", "none")


def _month(m: int) -> str:
    # Nghị định 30/2020/NĐ-CP: days below 10 and the months 1 and 2 are written with a leading 0.
    return f"{m:02d}" if m < 3 else str(m)


def letter_date(campaign: Campaign) -> dt.date | None:
    """[campaign].letter_date as a date, None while the Centre has not set it (checked at load)."""
    value = campaign.section("campaign").get("letter_date", "")
    if isinstance(value, dt.date):
        return value
    return try_parse_date(str(value)) if str(value).strip() else None


def letter_reference(campaign: Campaign) -> dict[str, str]:
    """The letter's number and date as the forms cite them; dots where they are not known yet.

    letter_number "/TTDLCNS-HCQLTT" (symbol known, number not) reads "...../TTDLCNS-HCQLTT";
    "123/TTDLCNS-HCQLTT" reads as given."""
    c = campaign.section("campaign")
    number = str(c.get("letter_number", "") or "").strip()
    if not number:
        number = DOTS
    elif number.startswith("/"):
        number = DOTS + number
    day = letter_date(campaign)
    year = c.get("year", "") or (campaign.due.year if campaign.due else "")
    if day is None:
        short, long = f"{DOTS}/{DOTS}/{year}", f"{DOTS} tháng {DOTS} năm {year}"
    else:
        short = f"{day.day:02d}/{_month(day.month)}/{day.year}"
        long = f"{day.day:02d} tháng {_month(day.month)} năm {day.year}"
    return {"letter_number": number, "letter_date": short, "letter_date_long": long}


def submission(campaign: Campaign, *, in_mail: bool = False) -> dict[str, str]:
    """Where and what a unit sends back, as whole phrases ({send_to}, {send_rule}).

    The support email ([support].email) is where to send when it is set; without it the unit
    replies to the email that brought the file. [submission].signed_scan says whether the signed
    scan of the printed form is required, requested (the default) or not asked for; the .xlsx
    file is always required."""
    recipient = campaign.section("issuer").get("recipient", "")
    email = str(campaign.section("support").get("email", "") or "").strip()
    if email:
        how = f"qua thư điện tử tới địa chỉ {email}"
    elif in_mail:
        how = "bằng cách trả lời (Reply) thư này"
    else:
        how = "bằng cách trả lời (Reply) thư điện tử đã gửi tệp này cho đơn vị"
    rule = {
        "required": "Bắt buộc gửi cả tệp Excel (.xlsx) đã điền và bản scan biên bản đã ký, đóng dấu (tệp PDF), "
                    "trong cùng một thư.",
        "requested": "Bắt buộc gửi tệp Excel (.xlsx) đã điền; đề nghị gửi kèm bản scan biên bản đã ký, đóng dấu "
                     "(tệp PDF) trong cùng thư.",
        "none": "Chỉ cần gửi tệp Excel (.xlsx) đã điền; bản giấy đã ký, đóng dấu lưu tại đơn vị.",
    }[signed_scan(campaign)]
    return {"send_to": f"Gửi về {recipient} {how}".replace("  ", " "), "send_rule": rule,
            "support_email": email}


def signed_scan(campaign: Campaign) -> str:
    return str(campaign.section("submission").get("signed_scan", "requested") or "requested")


def builtin_path(filename: str) -> Path:
    """A file shipped in templates/ (installed as the package `tracker.templates`)."""
    return Path(str(resources.files("tracker.templates").joinpath(filename)))


def template_path(name_or_path: str | None) -> Path:
    """A template given by built-in name or by path."""
    if not name_or_path:
        name_or_path = BUILTIN
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise TrackerError(f"Không tìm thấy tệp mẫu chiến dịch '{p}'. Kiểm tra lại đường dẫn.")
        return p
    p = builtin_path(f"{name_or_path}.toml")
    if not p.is_file():
        raise TrackerError(f"Không có mẫu chiến dịch tên '{name_or_path}'. Mẫu có sẵn: {BUILTIN}.")
    return p


def _walk_nfc(value):
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [_walk_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _walk_nfc(v) for k, v in value.items()}
    return value


def load_campaign(path: Path) -> Campaign:
    """Load and check a campaign template; TrackerError in Vietnamese on any problem."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise TrackerError(f"Không đọc được tệp mẫu chiến dịch '{path}': {e.strerror}.") from None
    return campaign_from_data(parse_template(raw, path), path)


def parse_template(raw: bytes, path: Path) -> dict:
    """A template's TOML, its texts in NFC."""
    import tomllib      # here: a command whose template is cached does not parse TOML

    try:
        return _walk_nfc(tomllib.loads(raw.decode("utf-8")))
    except UnicodeDecodeError:
        raise TrackerError(f"Tệp mẫu chiến dịch '{path}' không ở mã UTF-8. Lưu lại dạng UTF-8 rồi chạy lại.") from None
    except tomllib.TOMLDecodeError as e:
        raise TrackerError(f"Tệp mẫu chiến dịch '{path}' sai cú pháp TOML: {e}. Sửa lại rồi chạy lại.") from None


def campaign_from_data(data: dict, path: Path) -> Campaign:
    """Check a parsed template; TrackerError in Vietnamese on any problem."""
    problems = []
    c = data.get("campaign", {})
    for key in ("id", "title", "due"):
        if not c.get(key):
            problems.append(f"thiếu [campaign].{key}")
    criteria = []
    for i, cr in enumerate(data.get("criteria", []), 1):
        if not (cr.get("id") and cr.get("group") and cr.get("detail")):
            problems.append(f"tiêu chí thứ {i} thiếu id, group hoặc detail")
            continue
        if not CRITERION_ID.match(str(cr["id"])):
            problems.append(f"tiêu chí thứ {i}: id '{cr['id']}' không hợp lệ (chỉ chữ không dấu, số, dấu gạch dưới; "
                            "bắt đầu bằng chữ)")
            continue
        criteria.append(Criterion(cr["id"], cr["group"], cr["detail"]))
    if not criteria:
        problems.append("không có tiêu chí nào ([[criteria]])")
    if len({cr.id for cr in criteria}) != len(criteria):
        problems.append("trùng id tiêu chí")
    groups = []
    for i, g in enumerate(data.get("groups", []), 1):
        if not (g.get("id") and g.get("name")):
            problems.append(f"khối thứ {i} thiếu id hoặc name")
            continue
        if not GROUP_ID.match(str(g["id"])):
            problems.append(f"khối thứ {i}: id '{g['id']}' không hợp lệ (chỉ chữ thường không dấu, số, dấu gạch ngang; "
                            "id là tên thư mục trong outbox/)")
            continue
        groups.append(Group(g["id"], g["name"], g.get("form", ""), g))
    if not groups:
        problems.append("không có khối đơn vị nào ([[groups]])")
    ans = data.get("answers", {})
    if not (ans.get("met") and ans.get("not_met")) or ans.get("met") == ans.get("not_met"):
        problems.append("[answers] cần hai giá trị khác nhau: met và not_met")
    for key in ("met", "not_met"):
        # Both are the items of the forms' dropdown list and text in the master's formulas.
        v = str(ans.get(key) or "")
        if any(ch in v for ch in '",') or len(v) > 100 or not v.isprintable():
            problems.append(f"[answers].{key} '{v}' không dùng được trong danh sách thả xuống của Excel: bỏ dấu phẩy, "
                            "dấu nháy kép và ký tự điều khiển, tối đa 100 ký tự")
    due = None
    try:
        due = dt.date.fromisoformat(str(c.get("due", "")))
    except ValueError:
        problems.append(f"[campaign].due '{c.get('due')}' không phải ngày dạng YYYY-MM-DD")
    letter_day = c.get("letter_date", "")
    if not isinstance(letter_day, dt.date) and str(letter_day).strip() and try_parse_date(str(letter_day)) is None:
        problems.append(f"[campaign].letter_date '{letter_day}' không phải ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN "
                            "(để trống khi chưa có ngày công văn)")
    scan = data.get("submission", {}).get("signed_scan", "requested")
    if scan not in SIGNED_SCAN:
        problems.append(f"[submission].signed_scan '{scan}' không hợp lệ; chọn một trong: {', '.join(SIGNED_SCAN)}")
    kinds = set()
    for i, k in enumerate(data.get("kinds", []), 1):
        if not isinstance(k, dict) or not str(k.get("kind", "")).strip():
            problems.append(f"loại đơn vị thứ {i} ([[kinds]]) thiếu kind")
        elif str(k["kind"]).casefold() in kinds:
            problems.append(f"loại đơn vị '{k['kind']}' ([[kinds]]) khai báo hai lần")
        else:
            kinds.add(str(k["kind"]).casefold())
            if "copies" in k and not (isinstance(k["copies"], list) and all(isinstance(x, str) for x in k["copies"])):
                problems.append(f"loại đơn vị '{k['kind']}': copies phải là danh sách chữ")
    if problems:
        raise TrackerError(f"Tệp mẫu chiến dịch '{path}' chưa đúng: " + "; ".join(problems) + ".")
    return Campaign(
        id=c["id"], version=str(c.get("version", "1")), title=c["title"], due=due,
        criteria=tuple(criteria), groups=tuple(groups),
        answer_met=ans["met"], answer_not_met=ans["not_met"], data=data, source=path,
    )
