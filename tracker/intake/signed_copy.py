"""Reading one signed copy of the biên bản: a digitally signed PDF, a scanned PDF, or a photo.

One file in, one `SignedCopyReading` out, made only of picklable values, so it runs inside the
bounded workers (`read_signed_copies`, or `bounded.run_bounded(read_signed_copy, ...)`).

- A PDF with signatures is validated with pyHanko: the signature must cover the whole file (an
  update appended after signing passes only if pyHanko's difference analysis finds nothing but
  further signatures or validation data), the signer's certificate must chain to a root the
  campaign trusts (its `trust/` folder; none is bundled) and be valid at `as_of` (the caller
  passes the time the copy was received, so a re-run judges the same file the same way).
  Revocation is not checked: there is no network.
- Every PDF's first pages are rasterised with PDFium, and every image decoded with Pillow, to
  look for the form's QR code with zxing-cpp (it finds codes at any rotation and a few degrees
  of tilt by itself; an upscaled, a sharpened and a binarised copy are tried after that).
- Whatever cannot be read is refused with an IntakeError (one finding of the registry's "signed"
  group); what was read but does not hold (a signature that is broken, modified, untrusted,
  expired; a QR of another campaign) is a finding of severity "error" in the reading, which keeps
  what it could read (signer, QR), so staff know who sent it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tracker.intake.safety import _fail, _mb, _unreadable
from tracker.model import ident
from tracker.model.dates import show
from tracker.model.findings import Finding, IntakeError

MiB = 1024 * 1024

# --------------------------------------------------------------------------- limits
MAX_COPY_BYTES = 30 * MiB           # a 3-page colour scan at 300 dpi is 2-6 MB
MAX_PDF_PAGES = 20                  # a biên bản is 1-3 pages: more is another document, refused
QR_PAGES = 3                        # the first pages rasterised to look for the QR code
RENDER_DPI = 200                    # 3.9 px a module of a 2 cm QR; the ladder upscales when needed
MAX_RENDER_PIXELS = 40_000_000      # one rendered page (A4 at 200 dpi is 3.9 Mpx): larger boxes render coarser
MAX_PAGE_SIDE_PT = 14_400           # PDF's own largest page (200 in); beyond it the page box is a trap
MAX_IMAGE_PIXELS = 60_000_000       # a photo or scan, and each picture inside a PDF page read
MAX_STREAM_BYTES = 64 * MiB         # one decoded stream (pyHanko's decode limits)
MAX_DECODED_BYTES = 256 * MiB       # all streams decoded while reading one PDF
MAX_SIGNATURES = 10                 # signatures validated in one file
SIGNED_TIMEOUT_S = 60               # one file in a bounded worker
SIGNED_MEMORY_MB = 1024

PDF_KIND, IMAGE_KIND = "pdf", "image"
IMAGE_FORMATS = ("JPEG", "PNG", "TIFF")
TRUST_SUFFIXES = (".pem", ".crt", ".cer", ".der")

# Signature outcomes, from best to worst.
SIG_VALID = "valid"
SIG_UNTRUSTED = "untrusted"
SIG_EXPIRED = "expired"
SIG_NOT_YET_VALID = "not_yet_valid"
SIG_REVOKED = "revoked"
SIG_MODIFIED = "modified"
SIG_BROKEN = "broken"

for _name in ("pyhanko", "pyhanko_certvalidator"):
    # pyHanko logs every failed check with a traceback; the reading says it in Vietnamese instead.
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False


# --------------------------------------------------------------------------- what a reading holds
@dataclass(frozen=True)
class Signer:
    name: str                   # certificate subject common name (a person, or the organisation)
    organisation: str           # O
    unit: str                   # OU
    issuer: str                 # the issuing CA's common name
    serial: str                 # hex
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str            # SHA-256 of the certificate, hex


@dataclass(frozen=True)
class SignatureCheck:
    field: str                  # the PDF signature field
    signer: Signer
    status: str                 # SIG_*
    signed_at: dt.datetime | None
    time_source: str            # "timestamp" (a trusted token), "signer" (the signer's own clock) or ""
    coverage: str               # "entire_file", "entire_revision", "partial"
    modification: str           # pyHanko's modification level after signing, lower case ("none", ...)
    detail: str = ""            # pyHanko's own words, for the log

    @property
    def valid(self) -> bool:
        return self.status == SIG_VALID


@dataclass(frozen=True)
class QrRead:
    check: ident.QrCheck
    page: int                   # 1-based
    attempt: str                # which decoding attempt found it (see QR_ATTEMPTS)


@dataclass(frozen=True)
class SignedCopyReading:
    file: str
    kind: str                   # PDF_KIND or IMAGE_KIND
    pages: int
    pages_read: int             # pages looked at for the QR code
    as_of: dt.datetime | None   # when the signatures were judged
    qr: QrRead | None           # the first code of ours found (checked against the campaign)
    signatures: tuple[SignatureCheck, ...] = ()
    findings: tuple[Finding, ...] = ()
    other_qr: tuple[str, ...] = field(default=())    # codes that are not ours (e-office stamps, links)

    @property
    def ok(self) -> bool:
        """Nothing here stops the copy from counting (no finding of severity "error")."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def digitally_signed(self) -> bool:
        """At least one signature holds: intact, covering the file, by a trusted valid certificate."""
        return any(s.valid for s in self.signatures)

    @property
    def qr_unit_id(self) -> str | None:
        return self.qr.check.unit_id if self.qr and self.qr.check.ok else None


@dataclass(frozen=True)
class CopyContext:
    """What a worker needs to judge a copy: picklable, made once per merge (`copy_context`)."""
    campaign_id: str
    unit_ids: frozenset
    secret: bytes
    trust_roots: tuple[bytes, ...]      # DER certificates


def copy_context(campaign, units, secret: bytes, trust_roots: tuple[bytes, ...]) -> CopyContext:
    return CopyContext(campaign.id, frozenset(u.id for u in units), secret, tuple(trust_roots))


# --------------------------------------------------------------------------- trust roots
def load_trust_roots(folder: Path) -> tuple[tuple[bytes, ...], list[Finding]]:
    """The certificates in the campaign's trust folder (.pem/.crt/.cer/.der, PEM or DER, several
    to a PEM file), as DER; a file that is not a certificate is a warning, not a stop."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    roots: list[bytes] = []
    findings: list[Finding] = []
    folder = Path(folder)
    if not folder.is_dir():
        return (), findings
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in TRUST_SUFFIXES or not path.is_file():
            continue
        try:
            data = path.read_bytes()
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs = x509.load_pem_x509_certificates(data)
            else:
                certs = [x509.load_der_x509_certificate(data)]
        except (OSError, ValueError) as e:
            findings.append(Finding("trust_bad_file", file=path.name, value=type(e).__name__))
            continue
        for cert in certs:
            der = cert.public_bytes(Encoding.DER)
            if der not in roots:
                roots.append(der)
    return tuple(roots), findings


# --------------------------------------------------------------------------- reading one file
def copy_kind(head: bytes) -> str | None:
    """PDF_KIND or IMAGE_KIND when a file's first bytes say it is a PDF or a JPEG, PNG or TIFF
    picture (what merge reads as a signed copy, whatever the file's name); else None."""
    if b"%PDF-" in head[:1024]:
        return PDF_KIND
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or head[:4] in (b"II*\x00", b"MM\x00*"):
        return IMAGE_KIND
    return None


def read_signed_copy(path, display_name: str, ctx: CopyContext, as_of: dt.datetime) -> SignedCopyReading:
    """Read one signed copy; IntakeError when it cannot be read at all. Signatures are judged as
    of `as_of` (the time the copy was received; a naive time is taken as this machine's local time)."""
    if as_of.tzinfo is None:
        as_of = as_of.astimezone()
    path = Path(path)
    name = display_name or path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as e:
        raise _unreadable(name, e) from None
    if size > MAX_COPY_BYTES:
        raise _fail("signed_file_too_large", name, value=str(size), expected=str(MAX_COPY_BYTES),
                    size_mb=_mb(size), max_mb=str(MAX_COPY_BYTES // MiB))
    kind = copy_kind(head)
    if kind == PDF_KIND:
        return _read_pdf(path, name, ctx, as_of)
    if kind == IMAGE_KIND:
        return _read_image(path, name, ctx)
    raise _fail("signed_not_supported", name)


def _read_pdf(path: Path, name: str, ctx: CopyContext, as_of: dt.datetime) -> SignedCopyReading:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise _encrypted(name) from None
        raise _fail("signed_damaged", name, value=str(e)[:200], problem="pdf") from None
    try:
        pages = len(doc)
        if pages > MAX_PDF_PAGES:
            raise _too_many_pages(name, pages)
        if pages == 0:
            raise _fail("signed_damaged", name, problem="no_pages")
        n_sigs = pdfium_c.FPDF_GetSignatureCount(doc.raw)
        reader = _pyhanko_reader(path, name, must=n_sigs > 0)
        first = min(pages, QR_PAGES)
        if reader is not None:
            _check_pages(reader, name, first)
        findings: list[Finding] = []
        signatures: tuple[SignatureCheck, ...] = ()
        if n_sigs > 0:
            signatures = _validate_signatures(reader, path, name, ctx, as_of, findings)
        images = (_render(doc[i], name) for i in range(first))
        qr, others, read = _find_qr(images, ctx)
    finally:
        doc.close()
    findings.extend(_qr_findings(qr, name, read, ctx))
    return SignedCopyReading(name, PDF_KIND, pages, read, as_of if signatures else None, qr, signatures,
                             tuple(findings), others)


def _encrypted(name: str) -> IntakeError:
    return _fail("signed_encrypted", name)


def _too_many_pages(name: str, pages: int) -> IntakeError:
    return _fail("signed_too_many_pages", name, value=str(pages), expected=f"<= {MAX_PDF_PAGES}",
                 max=str(MAX_PDF_PAGES))


def _bomb(name: str, problem: str = "stream", page: int = 0, width: float = 0, height: float = 0) -> IntakeError:
    """A PDF refused before PDFium decodes it: a stream inflating past MAX_STREAM_BYTES ("stream"),
    a page box ("page_box") or a picture ("image") of `width` x `height`."""
    size = f"{width:g} × {height:g}" if width else ""
    return _fail("signed_pdf_bomb", name, value=" ".join(filter(None, (problem, str(page or ""), size))),
                 problem=problem, max_mb=str(MAX_STREAM_BYTES // MiB), page=str(page or ""), size=size)


def _pyhanko_reader(path: Path, name: str, must: bool):
    """pyHanko's reader over the file, with decode limits; None when a file without signatures
    is beyond its parser (PDFium opened it: it is read as a scan, the worker's limits hold)."""
    from pyhanko.pdf_utils.decode_limits import (
        DecodeLimits,
        DocumentDecodeBudget,
        StreamDecodeLimits,
    )
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError
    from pyhanko.pdf_utils.reader import PdfFileReader

    limits = DecodeLimits(per_stream=StreamDecodeLimits(max_output_size=MAX_STREAM_BYTES),
                          document_budget=DocumentDecodeBudget(base_allowance=MAX_DECODED_BYTES, max_ratio=0))
    try:
        data = path.read_bytes()
        import io

        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=limits)
        if reader.encrypted:
            # PDFium opened it without a password: an owner password only (permissions).
            from pyhanko.pdf_utils.crypt import AuthStatus

            if reader.decrypt(b"").status == AuthStatus.FAILED:
                raise _encrypted(name)
        return reader
    except IntakeError:
        raise
    except PdfDecodeLimitError as e:
        raise _bomb(name) from e
    except Exception as e:
        if must:
            raise _fail("signed_unreadable", name, value=f"{type(e).__name__}: {e}"[:200], signature="") from None
        return None


def _check_pages(reader, name: str, first: int) -> None:
    """The pages to be rendered: their box, their pictures' declared size and their content
    streams decoded under pyHanko's limits, before PDFium decodes anything."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError

    try:
        for i in range(first):
            page_ref, resources = reader.find_page_for_modification(i)
            page = page_ref.get_object()
            box = page.get("/MediaBox")
            if box is not None and len(box) == 4:
                w, h = abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1]))
                if max(w, h) * float(page.get("/UserUnit", 1)) > MAX_PAGE_SIDE_PT:
                    raise _bomb(name, "page_box", i + 1, round(w), round(h))
            contents = page.get("/Contents")
            streams = contents if isinstance(contents, generic.ArrayObject) else [contents] if contents else []
            for s in streams:
                s = s.get_object()
                if isinstance(s, generic.StreamObject):
                    _ = s.data      # decoded under the limits: raises past MAX_STREAM_BYTES
            _check_resources(resources, name, i + 1, depth=0)
    except IntakeError:
        raise
    except PdfDecodeLimitError as e:
        raise _bomb(name) from e
    except Exception:
        return      # a structure pyHanko does not follow: PDFium decides, the worker's limits hold


def _check_resources(resources, name: str, page_no: int, depth: int) -> None:
    from pyhanko.pdf_utils import generic

    if resources is None or depth > 3:
        return
    resources = resources.get_object()
    xobjects = resources.get("/XObject") if isinstance(resources, generic.DictionaryObject) else None
    if not xobjects:
        return
    for _, ref in list(xobjects.get_object().items())[:500]:
        x = ref.get_object()
        if not isinstance(x, generic.StreamObject):
            continue
        if x.get("/Subtype") == "/Image":
            w, h = int(x.get("/Width", 0)), int(x.get("/Height", 0))
            if w * h > MAX_IMAGE_PIXELS:
                raise _bomb(name, "image", page_no, w, h)
        elif x.get("/Subtype") == "/Form":
            _ = x.data
            _check_resources(x.get("/Resources"), name, page_no, depth + 1)


def _render(page, name: str):
    """One page as a grayscale PIL image at RENDER_DPI, coarser if the page is large."""
    w, h = page.get_size()
    scale = RENDER_DPI / 72
    if w * h * scale * scale > MAX_RENDER_PIXELS:
        scale = (MAX_RENDER_PIXELS / (w * h)) ** 0.5
    try:
        return page.render(scale=scale, grayscale=True, may_draw_forms=True).to_pil()
    finally:
        page.close()


def _read_image(path: Path, name: str, ctx: CopyContext) -> SignedCopyReading:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path, formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise _image_too_large(name, None) from None
    except Exception as e:
        raise _fail("signed_damaged", name, value=f"{type(e).__name__}: {e}"[:200], problem="image") from None
    with im:
        frames = getattr(im, "n_frames", 1)
        if frames > MAX_PDF_PAGES:
            raise _too_many_pages(name, frames)
        first = min(frames, QR_PAGES)

        def pages():
            for i in range(first):
                im.seek(i)
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    raise _image_too_large(name, im.size)
                if im.format == "JPEG" and im.width * im.height > MAX_RENDER_PIXELS // 2:
                    # JPEG decodes at 1/2, 1/4, 1/8 scale for almost nothing: a 50 Mpx photo
                    # of an A4 page still has 10 px a module at half size.
                    im.draft("L", (im.width // 2, im.height // 2))
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                        yield im.convert("L")
                except Image.DecompressionBombError:
                    raise _image_too_large(name, im.size) from None
                except (OSError, ValueError, SyntaxError) as e:
                    raise _fail("signed_damaged", name, value=f"{type(e).__name__}: {e}"[:200], problem="image_page",
                                page=str(i + 1)) from None

        qr, others, read = _find_qr(pages(), ctx)
    return SignedCopyReading(name, IMAGE_KIND, frames, read, None, qr, (), tuple(_qr_findings(qr, name, read, ctx)),
                             others)


def _image_too_large(name: str, size) -> IntakeError:
    return _fail("signed_image_too_large", name, value=f"{size[0]}x{size[1]}" if size else "",
                 expected=f"<= {MAX_IMAGE_PIXELS} px", size=f"{size[0]} × {size[1]}" if size else "",
                 max_mpx=str(MAX_IMAGE_PIXELS // 1_000_000))


# --------------------------------------------------------------------------- the QR code
# Measured on forms printed through LibreOffice and scanned at 90-300 dpi (tests/test_signed_copy.py,
# benchmarks/signed_copy.py): zxing-cpp's own pass (it tries 90/270° and downscaled copies itself;
# finder patterns make 180° and a few degrees of tilt free) reads every turned, tilted, skewed, noisy
# and JPEG-compressed page at 150-300 dpi. After it: a 2x upscale rescues pages at 90-120 dpi, an
# unsharp mask blurred scans (Gaussian blur of 1.2-1.6 px at 150-200 dpi), and a global threshold a
# photo under uneven light. A halved copy never found what these missed: zxing-cpp tries that itself.
QR_ATTEMPTS = ("as_is", "upscaled", "sharpened", "binarised")


def _decode(image, attempt: str) -> list[str]:
    import zxingcpp
    from PIL import Image, ImageFilter

    kw = {}
    if attempt == "upscaled":
        if image.width * image.height * 4 > MAX_RENDER_PIXELS:
            return []
        image = image.resize((image.width * 2, image.height * 2), Image.BICUBIC)
    elif attempt == "sharpened":
        image = image.filter(ImageFilter.UnsharpMask(radius=2, percent=250, threshold=0))
    elif attempt == "binarised":
        kw["binarizer"] = zxingcpp.Binarizer.GlobalHistogram
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, **kw)]


def _find_qr(images, ctx: CopyContext) -> tuple[QrRead | None, tuple[str, ...], int]:
    """The first code of ours on the pages given, the other codes seen, and pages looked at."""
    others: list[str] = []
    read = 0
    for page_no, image in enumerate(images, 1):
        read = page_no
        for attempt in QR_ATTEMPTS:
            texts = _decode(image, attempt)
            ours = [t for t in texts if t.split("|", 1)[0] == ident.QR_PREFIX]
            others.extend(t[:200] for t in texts if t not in ours and t[:200] not in others)
            if ours:
                checks = [ident.check_qr(t, ctx.campaign_id, ctx.unit_ids, ctx.secret) for t in ours]
                best = next((c for c in checks if c.ok), checks[0])
                return QrRead(best, page_no, attempt), tuple(others), read
            if texts:
                break       # a code was read here, just not ours: no need to try harder
    return None, tuple(others), read


def _qr_findings(qr: QrRead | None, name: str, read: int, ctx: CopyContext) -> list[Finding]:
    if qr is None:
        return [Finding("qr_not_found", file=name, pages=str(read))]
    c = qr.check
    if c.ok:
        return []
    if c.reason == ident.QR_OTHER_CAMPAIGN:
        return [Finding("qr_other_campaign", file=name, value=c.campaign_id, expected=ctx.campaign_id)]
    if c.reason == ident.QR_UNKNOWN_UNIT:
        return [Finding("qr_unknown_unit", file=name, value=c.unit_id)]
    if c.reason == ident.QR_BAD_TOKEN:
        return [Finding("qr_bad_token", file=name, value=c.unit_id)]
    return [Finding("qr_malformed", file=name, value=c.text[:200])]


# --------------------------------------------------------------------------- signatures
def _validate_signatures(reader, path: Path, name: str, ctx: CopyContext, as_of: dt.datetime,
                         findings: list[Finding]) -> tuple[SignatureCheck, ...]:
    from asn1crypto import x509 as ax509
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    roots = [ax509.Certificate.load(der) for der in ctx.trust_roots]
    # Vietnamese CA certificates for signing carry digitalSignature and usually nonRepudiation:
    # either will do (pyHanko's default asks for nonRepudiation alone).
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    try:
        embedded = reader.embedded_regular_signatures
    except PdfDecodeLimitError as e:
        raise _bomb(name) from e
    except Exception as e:
        raise _fail("signed_unreadable", name, value=f"{type(e).__name__}: {e}"[:200], signature="") from None
    last_revision = reader.xrefs.total_revisions - 1
    data = path.read_bytes()
    checks = []
    for sig in embedded[:MAX_SIGNATURES]:
        vc = ValidationContext(trust_roots=roots, allow_fetching=False, moment=as_of,
                               revocation_mode="soft-fail")
        try:
            st = validate_pdf_signature(sig, vc, key_usage_settings=usage)
        except PdfDecodeLimitError as e:
            raise _bomb(name) from e
        except Exception as e:
            findings.append(Finding("signed_unreadable", file=name, value=f"{type(e).__name__}: {e}"[:200],
                                    signature=str(sig.field_name or "?")))
            continue
        # Bytes after the last signed revision that form no revision of their own: pyHanko sees no
        # modification in them, but the signature does not cover them. Line ends a mail program
        # or an upload may add are let through; anything else is "modified after signing".
        trailing = sig.signed_revision == last_revision and data[_covered_to(sig):].strip(b" \t\r\n\0") != b""
        check = _signature_check(sig, st, as_of, trailing)
        checks.append(check)
        findings.extend(_signature_findings(check, name, as_of, len(roots)))
    return tuple(checks)


def _covered_to(sig) -> int:
    br = sig.byte_range
    return int(br[2]) + int(br[3])


def _signer(cert) -> Signer:
    subject = cert.subject.native
    issuer = cert.issuer.native

    def one(value) -> str:
        return ", ".join(value) if isinstance(value, list) else str(value or "")

    validity = cert["tbs_certificate"]["validity"]
    return Signer(name=one(subject.get("common_name")), organisation=one(subject.get("organization_name")),
                  unit=one(subject.get("organizational_unit_name")), issuer=one(issuer.get("common_name")),
                  serial=format(cert.serial_number, "x"), not_before=validity["not_before"].native,
                  not_after=validity["not_after"].native, fingerprint=hashlib.sha256(cert.dump()).hexdigest())


def _signature_check(sig, st, as_of: dt.datetime, trailing: bool) -> SignatureCheck:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    signer = _signer(st.signing_cert)
    coverage = {SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
                SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision"}.get(st.coverage, "partial")
    level = st.modification_level
    # Allowed after signing: nothing, validation data (LTA), and form filling, which is how a
    # second signature (the organisation's, after the head's) is added. Anything else, and bytes
    # appended that form no revision at all, is "modified after signing".
    allowed = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)
    if coverage == "entire_revision" and sig.signed_revision == sig.reader.xrefs.total_revisions - 1 \
            and not trailing:
        coverage = "entire_file"    # up to line ends after %%EOF (see above)
    modified = (trailing or coverage == "partial" or level is None or level not in allowed
                or st.docmdp_ok is False)
    indic = getattr(st.trust_problem_indic, "name", "") or ""
    if not (st.intact and st.valid):
        status = SIG_BROKEN
    elif modified:
        status = SIG_MODIFIED
    elif st.trusted:
        status = SIG_VALID
    elif st.revoked or "REVOKED" in indic:
        status = SIG_REVOKED
    elif indic in ("OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "EXPIRED") or as_of > signer.not_after:
        status = SIG_EXPIRED
    elif indic == "NOT_YET_VALID" or as_of < signer.not_before:
        status = SIG_NOT_YET_VALID
    else:
        status = SIG_UNTRUSTED
    ts = st.timestamp_validity
    if ts is not None and ts.intact and ts.valid and ts.trusted:
        signed_at, source = ts.timestamp, "timestamp"
    elif st.signer_reported_dt is not None:
        signed_at, source = st.signer_reported_dt, "signer"
    else:
        signed_at, source = None, ""
    detail = indic or ("" if st.diff_result is None or status != SIG_MODIFIED else str(st.diff_result)[:300])
    return SignatureCheck(field=str(sig.field_name or ""), signer=signer, status=status, signed_at=signed_at,
                          time_source=source, coverage=coverage, modification=(level.name.lower() if level else ""),
                          detail=detail)


def _who(s: Signer) -> str:
    """The signer as the findings name them: "Nguyễn Văn An (UBND Phường Ba Đình)"."""
    return s.name + (f" ({s.organisation})" if s.organisation and s.organisation != s.name else "")


def _signature_findings(c: SignatureCheck, name: str, as_of: dt.datetime, roots: int) -> list[Finding]:
    s = c.signer
    who = dict(file=name, value=s.name, expected=c.detail, signer=_who(s))
    if c.status == SIG_VALID:
        return []
    if c.status == SIG_BROKEN:
        return [Finding("signed_invalid", **who)]
    if c.status == SIG_MODIFIED:
        return [Finding("signed_modified", **who)]
    if c.status == SIG_EXPIRED:
        return [Finding("signed_cert_expired", **who, valid_until=show(s.not_after), checked_on=show(as_of))]
    if c.status == SIG_NOT_YET_VALID:
        return [Finding("signed_cert_not_yet_valid", **who, valid_from=show(s.not_before), checked_on=show(as_of))]
    if c.status == SIG_REVOKED:
        return [Finding("signed_revoked", **who)]
    return [Finding("signed_untrusted", **who, issuer=s.issuer, roots=str(roots))]


# --------------------------------------------------------------------------- many files
def read_signed_copies(jobs, ctx: CopyContext, *, on_result=None, timeout_s: float = SIGNED_TIMEOUT_S,
                       memory_mb: int = SIGNED_MEMORY_MB) -> dict:
    """Read many copies in the bounded workers: `jobs` yields (key, display name, path, as_of);
    {key: SignedCopyReading or IntakeError} (or each handed to on_result(key, result))."""
    from tracker.intake.bounded import read_all

    work = ((key, name, (os.fspath(path), name, ctx, as_of)) for key, name, path, as_of in jobs)
    return read_all(read_signed_copy, work, timeout_s=timeout_s, memory_mb=memory_mb, on_result=on_result)
