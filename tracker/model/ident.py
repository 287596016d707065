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


def note_name(criterion_id: str, product_key: str | None = None) -> str:
    """The note cell of a criterion: the product's own on a form of several products; without a
    product, the form's one "Ghi chú" column (a form of one product, or one sent before notes
    were per product, where it is the whole unit's)."""
    return f"TRK_N_{criterion_id}" if product_key is None else f"TRK_N_{product_key}_{criterion_id}"


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
QR_WIDTH_MM = 20.0          # on paper, quiet zone included
# Error correction M (15%) rather than Q/H: the payload (~60 bytes) fits version 4 at M (33 modules,
# 41 with the quiet zone); at Q it needs version 6 (49). In 2 cm that is 0.49 mm a module, 3.9 px at
# 200 dpi and 2.9 px at 150 dpi, where Q's 0.41 mm gives 2.4 px: a scan's blur and JPEG noise are
# beaten by module size, not by more correction. The QR sits away from the signature and stamp.
QR_ERROR = "M"
QR_BORDER = 4               # modules of quiet zone, inside the image: nothing printed can touch the code
QR_SIDE_PX = 500            # the picture, whatever the code's version: 635 dpi at 2 cm, 10-12 px a module

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


def qr_modules(payload: str) -> list[bytes]:
    """The symbol's rows, one byte a module (0 dark, 255 light), without quiet zone. zxing-cpp
    encodes (the library that reads them back), in C++: segno took 17 ms a code choosing its
    mask in Python, a minute of CPU for a national campaign's 3,321 forms; this takes 1 ms."""
    import zxingcpp

    image = memoryview(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR)
                       .to_image(scale=1, add_quiet_zones=False))
    side = image.shape[1]
    data = image.tobytes()
    return [data[r * side:(r + 1) * side] for r in range(image.shape[0])]


def qr_png(payload: str, width_mm: float = QR_WIDTH_MM) -> bytes:
    """The QR code as a black and white PNG of QR_SIDE_PX pixels a side whose pHYs resolution makes
    it `width_mm` across (quiet zone included) at its natural size: xlsxwriter reads it. A sheet
    printed at a scale shrinks pictures with it: place it at width_mm / print scale.

    The same pixel size for every version of code (a longer unit id can need version 5): every
    form's picture then has the same drawing, and generate's fast path swaps the picture alone.
    A module is 10 to 12 pixels (nearest pixel), 0.02 mm apart on paper, which no printer shows.

    Written here rather than by Pillow: its PNG encoder takes 2 ms for this one picture, more than
    the rest of a unit's workbook on the fast path. Each row of modules is one filtered row and its
    repeats are "same as above" (PNG filter 2: zeros), which deflate almost for free."""
    import struct
    import zlib

    rows = qr_modules(payload)
    n = len(rows[0]) + 2 * QR_BORDER
    side = QR_SIDE_PX
    width = (side + 7) // 8
    edges = [round(i * side / n) for i in range(n + 1)]        # module i covers pixels edges[i]:edges[i+1]
    runs = [edges[i + 1] - edges[i] for i in range(n)]
    quiet = b"\xff" * QR_BORDER
    lines = []
    for i, row in enumerate([b"\xff" * (n - 2 * QR_BORDER)] * QR_BORDER + rows + [b"\xff" * (n - 2 * QR_BORDER)]
                            * QR_BORDER):
        bits = "".join(("1" if m else "0") * k for m, k in zip(quiet + row + quiet, runs))
        lines.append(b"\0" + int(bits.ljust(width * 8, "0"), 2).to_bytes(width, "big")
                     + (b"\2" + bytes(width)) * (runs[i] - 1))
    per_metre = round(side / (width_mm / 1000))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
            + chunk(b"IDAT", zlib.compress(b"".join(lines), 6)) + chunk(b"IEND", b""))


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
