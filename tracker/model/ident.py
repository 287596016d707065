"""How a workbook says which campaign and unit it belongs to.

A very-hidden sheet holds the facts; defined names point at them and at every input cell, so the
identification survives renamed files, renamed sheets and inserted rows (defined names move with
their cells). The token is an HMAC over campaign, unit and version with the campaign's secret:
a unit id edited by hand no longer matches it.
"""
import hashlib
import hmac

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
