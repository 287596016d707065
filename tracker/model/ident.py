"""How a workbook says which campaign and unit it belongs to.

A very-hidden sheet holds the facts; defined names point at them and at every input cell, so the
identification survives renamed files, renamed sheets and inserted rows (defined names move with
their cells). The token is an HMAC over campaign, unit and version with the campaign's secret:
a unit id edited by hand no longer matches it.
"""
import hashlib
import hmac
from dataclasses import dataclass

ID_SHEET = "_tracker"
FORM_SHEET = "Biên bản xác nhận"
GUIDE_SHEET = "Hướng dẫn"

NAME_CAMPAIGN = "TRK_CAMPAIGN"
NAME_UNIT = "TRK_UNIT"
NAME_VERSION = "TRK_VERSION"
NAME_TOKEN = "TRK_TOKEN"
NAME_PROPOSALS = "TRK_PROPOSALS"
NAME_SIGNER = "TRK_SIGNER"
NAME_DOCNO = "TRK_DOCNO"
NAME_DOCDATE = "TRK_DOCDATE"
ID_FIELDS = [(NAME_CAMPAIGN, "campaign_id"), (NAME_UNIT, "unit_id"),
             (NAME_VERSION, "template_version"), (NAME_TOKEN, "token")]


def answer_name(product_key: str, criterion_id: str) -> str:
    return f"TRK_A_{product_key}_{criterion_id}"


def note_name(criterion_id: str) -> str:
    return f"TRK_N_{criterion_id}"


def domain_name(product_key: str) -> str:
    return f"TRK_D_{product_key}"


def token(secret: bytes, campaign_id: str, unit_id: str, version: str) -> str:
    msg = f"{campaign_id}|{unit_id}|{version}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:24]


def token_ok(secret: bytes, campaign_id: str, unit_id: str, version: str, given: str) -> bool:
    # bytes: compare_digest refuses str with non-ASCII characters, and a tampered file may hold any text
    return hmac.compare_digest(token(secret, campaign_id, unit_id, version).encode(), str(given or "").encode())


# ---------------------------------------------------------------------- the QR code on the printed form
# The printed biên bản carries a QR code so a signed scan or PDF can be matched to its unit without
# anyone typing. It holds what identifies the form and nothing else: no answers, nothing secret but
# the form's token (which the workbook carries too). Fields are percent-encoded, so "|" never
# appears inside one; a new layout gets a new prefix and the reader keeps knowing the old ones.
QR_PREFIX = "TRK1"
QR_WIDTH_MM = 20.0
# Error correction M (15%) rather than Q/H: the payload (~60 bytes) fits version 4 at M (33 modules,
# 41 with the quiet zone); at Q it needs version 6 (49). In 2 cm that is 0.49 mm a module, 3.9 px at
# 200 dpi and 2.9 px at 150 dpi, where Q's 0.41 mm gives 2.4 px: a scan's blur and JPEG noise are
# beaten by module size, not by more correction. The QR sits away from the signature and stamp.
QR_ERROR = "m"
QR_BORDER = 4               # modules of quiet zone, inside the image: nothing printed can touch the code
QR_PX_PER_MODULE = 10       # ~520 dpi at 2 cm: crisp on any printer, a few kB of PNG

QR_OK = "ok"
QR_NOT_OURS = "not_ours"            # some other QR (an e-office document code, a link)
QR_MALFORMED = "malformed"          # our prefix, but not the fields we write
QR_OTHER_CAMPAIGN = "other_campaign"
QR_UNKNOWN_UNIT = "unknown_unit"
QR_BAD_TOKEN = "bad_token"


def _quote(field: str) -> str:
    from urllib.parse import quote

    return quote(str(field), safe="-._~")


def qr_payload(campaign_id: str, unit_id: str, version: str, form_token: str) -> str:
    """`TRK1|<campaign>|<unit>|<version>|<token>`, each field percent-encoded."""
    return "|".join([QR_PREFIX, *(_quote(f) for f in (campaign_id, unit_id, version, form_token))])


def qr_payload_for(secret: bytes, campaign_id: str, unit_id: str, version: str) -> str:
    return qr_payload(campaign_id, unit_id, version, token(secret, campaign_id, unit_id, version))


def qr_png(payload: str, width_mm: float = QR_WIDTH_MM) -> bytes:
    """The QR code as PNG bytes whose pHYs resolution makes it `width_mm` across (quiet zone
    included) when placed at its natural size: xlsxwriter's insert_image reads that resolution.
    A sheet printed "fit to page" shrinks pictures with it: place it at width_mm / print scale."""
    import io

    import segno

    code = segno.make(payload, error=QR_ERROR, boost_error=False, micro=False)
    side_px = (code.symbol_size(border=QR_BORDER)[0]) * QR_PX_PER_MODULE
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=QR_PX_PER_MODULE, border=QR_BORDER,
              dpi=max(1, round(side_px / (width_mm / 25.4))))
    return buf.getvalue()


@dataclass(frozen=True)
class QrCheck:
    """What a QR code says and whether it belongs to this campaign: `reason` is QR_OK or why not."""
    reason: str
    text: str
    campaign_id: str = ""
    unit_id: str = ""
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.reason == QR_OK


def check_qr(text: str, campaign_id: str, unit_ids, secret: bytes) -> QrCheck:
    """Parse a decoded QR text and check it against the campaign (its id, its units, the token)."""
    from urllib.parse import unquote

    text = str(text or "")
    parts = text.split("|")
    if parts[0] != QR_PREFIX:
        return QrCheck(QR_NOT_OURS, text)
    if len(parts) != 5:
        return QrCheck(QR_MALFORMED, text)
    camp, unit, version, given = (unquote(p) for p in parts[1:])
    found = {"text": text, "campaign_id": camp, "unit_id": unit, "version": version}
    if camp != campaign_id:
        return QrCheck(QR_OTHER_CAMPAIGN, **found)
    if unit not in unit_ids:
        return QrCheck(QR_UNKNOWN_UNIT, **found)
    if not token_ok(secret, camp, unit, version, given):
        return QrCheck(QR_BAD_TOKEN, **found)
    return QrCheck(QR_OK, **found)
