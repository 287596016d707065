"""Real signed copies for the tests and the benchmark: a test PKI (cryptography), PDFs signed with
pyHanko at fixed times, generated unit forms printed through LibreOffice (the QR code is theirs),
and "scans" of them (PDFium rasterises; Pillow rotates, tilts, adds noise and JPEG loss; fixed
seeds)."""
from __future__ import annotations

import datetime as dt
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tracker.demo.simulate import root_certificate
from tracker.model import ident

UTC = dt.timezone.utc


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


SIGNED_AT = at(2026, 6, 3, 9, 30)
RECEIVED = at(2026, 6, 5, 8, 0)       # validation "as of": the time the copy arrived


# ------------------------------------------------------------------------------------------ PKI
@dataclass
class Cert:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, o: str = "", ou: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def make_ca(cn: str, start=at(2020, 1, 1), end=at(2040, 1, 1)) -> Cert:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Cert(root_certificate(key, _name(cn, "Tổ chức chứng thực thử nghiệm"), start, end), key)


def make_leaf(ca: Cert, cn: str, o: str = "", ou: str = "", start=at(2025, 1, 1), end=at(2028, 1, 1),
              tsa: bool = False) -> Cert:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    b = (x509.CertificateBuilder().subject_name(_name(cn, o, ou)).issuer_name(ca.cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False))
    if tsa:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        b = b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
    else:   # digitalSignature + nonRepudiation, as Vietnamese CAs issue for signing
        b = b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
    return Cert(b.sign(ca.key, hashes.SHA256()), key)


@dataclass
class Pki:
    root: Cert            # the campaign trusts this one (its trust/ folder)
    other_root: Cert      # and not this one
    head: Cert            # the head of a unit, valid
    organisation: Cert    # the unit's own certificate (CN = the organisation), valid
    expired: Cert
    untrusted: Cert
    tsa: Cert


def make_pki(unit_name: str) -> Pki:
    root = make_ca("CA thử nghiệm chuyên dùng")
    other = make_ca("CA không được tin cậy")
    return Pki(root=root, other_root=other,
               head=make_leaf(root, "Nguyễn Văn An", f"UBND {unit_name}"),
               organisation=make_leaf(root, f"ỦY BAN NHÂN DÂN {unit_name.upper()}", "UBND Thành phố Hà Nội"),
               expired=make_leaf(root, "Trần Thị Bình", f"UBND {unit_name}", start=at(2023, 1, 1),
                                 end=at(2026, 1, 1)),
               untrusted=make_leaf(other, "Lê Văn Cường", f"UBND {unit_name}"),
               tsa=make_leaf(root, "TSA thử nghiệm", "Tổ chức chứng thực thử nghiệm", tsa=True))


# ------------------------------------------------------------------------------------------ signing
def _asn1(cert: Cert):
    from asn1crypto import keys, x509 as ax509

    c = ax509.Certificate.load(cert.der)
    k = keys.PrivateKeyInfo.load(cert.key.private_bytes(serialization.Encoding.DER,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return c, k


def sign_pdf(src: bytes, signer: Cert, issuer: Cert, when: dt.datetime = SIGNED_AT, field: str = "Signature1",
             tsa: Cert | None = None) -> bytes:
    """`src` signed (PAdES) by `signer` at `when`: the signing time is fixed (signed attribute and
    /M), and with `tsa` a timestamp token at the same fixed time is embedded."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert, key = _asn1(signer)
    ca_cert, _ = _asn1(issuer)

    class FixedTimePdfSigner(signers.PdfSigner):
        def init_signing_session(self, *args, **kw):
            session = super().init_signing_session(*args, **kw)
            session.system_time = when          # pyHanko takes the wall clock otherwise
            return session

    signer_obj = signers.SimpleSigner(signing_cert=cert, signing_key=key,
                                      cert_registry=SimpleCertificateStore.from_certs([ca_cert]))
    stamper = None
    if tsa is not None:
        tsa_cert, tsa_key = _asn1(tsa)
        stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=[ca_cert], fixed_dt=when)
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(io.BytesIO(src))
    out = io.BytesIO()
    FixedTimePdfSigner(meta, signer_obj, timestamper=stamper).sign_pdf(writer, output=out)
    return out.getvalue()


def change_after_signing(signed: bytes) -> bytes:
    """An incremental update that adds text to the first page after it was signed."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref, _ = w.find_page_for_modification(0)
    page = page_ref.get_object()
    extra = w.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (Khong dap ung) Tj ET"))
    contents = page.raw_get("/Contents")
    items = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    page["/Contents"] = generic.ArrayObject(items + [extra])
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def encrypt_pdf(src: bytes, user_password: str = "matkhau") -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    w = copy_into_new_writer(PdfFileReader(io.BytesIO(src)))
    w.encrypt("chu-so-huu", user_password)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ hand-made PDFs
def raw_pdf(pages: list[tuple[bytes, bytes]], extra_objects: list[bytes] = ()) -> bytes:
    """A minimal PDF: each page is (page dictionary entries, content stream dictionary + data);
    `extra_objects` are appended after the pages' objects (numbered from 3 + 2 * len(pages))."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages))).encode()
    objs.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(len(pages)).encode() + b" >>")
    for i, (entries, content) in enumerate(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R " + entries + b" /Contents " + str(4 + 2 * i).encode()
                    + b" 0 R >>")
        objs.append(content)
    objs.extend(extra_objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def stream(data: bytes, entries: bytes = b"", flate: bool = False) -> bytes:
    if flate:
        data = zlib.compress(data, 9)
        entries += b" /Filter /FlateDecode"
    return b"<< /Length " + str(len(data)).encode() + b" " + entries + b" >>\nstream\n" + data + b"\nendstream"


A4 = b"/MediaBox [0 0 595 842]"


def simple_page(text: bytes = b"Bien ban") -> tuple[bytes, bytes]:
    return (A4 + b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>",
            stream(b"BT /F1 12 Tf 72 760 Td (" + text + b") Tj ET"))


# ------------------------------------------------------------------------------------------ the printed form
# A campaign folder's secret is random, and so would be the token and the module pattern of every
# QR code: whether a code at the edge of legibility reads would change from run to run.
SECRET = b"a fixed secret: the same QR pattern every run"


def qr_payload(ws, unit_id: str) -> str:
    return ident.qr_payload_for(SECRET, ws.campaign.id, unit_id, ws.campaign.version)


def print_forms(forms: dict[str, tuple], outdir: Path, soffice: str) -> dict[str, Path]:
    """Each unit's form as `generate` makes it (with SECRET), printed to PDF by LibreOffice in one
    run: {name: (campaign, unit)} -> {name: PDF}."""
    import subprocess

    from tracker.outbound.unit_form import build_unit_workbook

    books = outdir / "xlsx"
    books.mkdir(parents=True, exist_ok=True)
    for name, (campaign, unit) in forms.items():
        build_unit_workbook(campaign, unit, SECRET, str(books / f"{name}.xlsx"))
    profile = outdir / "lo-profile"       # private: runs never clash
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(outdir), *(str(books / f"{n}.xlsx") for n in forms)],
                   check=True, capture_output=True, timeout=300)
    return {name: outdir / f"{name}.pdf" for name in forms}


def printed_qr_mm(pdf: Path) -> float:
    """How wide the QR code (quiet zone included) is on the first page of a PDF, from the code
    read back at 300 dpi."""
    import pypdfium2 as pdfium
    import zxingcpp

    doc = pdfium.PdfDocument(str(pdf))
    try:
        image = doc[0].render(scale=300 / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    code = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)[0]
    p = code.position
    side_px = ((p.top_right.x - p.top_left.x) ** 2 + (p.top_right.y - p.top_left.y) ** 2) ** 0.5
    modules = len(ident.qr_modules(code.text))    # zxing's corners are the symbol's outer corners
    return side_px / modules * (modules + 2 * ident.QR_BORDER) / 300 * 25.4


# ------------------------------------------------------------------------------------------ scans
def rasterise(pdf: Path, dpi: int, page: int = 0):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return doc[page].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()


def degrade(image, *, seed: int = 7, rotate: int = 0, tilt: float = 0.0, shear: float = 0.0, noise: float = 0.0,
            jpeg: int | None = None, colour: bool = False):
    """What a scanner or a phone does to a page: skew (shear), tilt, quarter turns, sensor noise
    and JPEG loss. Deterministic for a seed."""
    import numpy as np
    from PIL import Image

    im = image.convert("L")
    if shear:
        im = im.transform(im.size, Image.AFFINE, (1, shear, -shear * im.height / 2, 0, 1, 0),
                          resample=Image.BICUBIC, fillcolor=255)
    if tilt:
        im = im.rotate(tilt, resample=Image.BICUBIC, expand=True, fillcolor=255)
    if rotate:
        im = im.rotate(rotate, expand=True)
    if noise:
        rng = np.random.default_rng(seed)
        a = np.asarray(im, dtype=np.float32) + rng.normal(0, noise, (im.height, im.width))
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if colour:
        im = Image.merge("RGB", (im, im.point(lambda v: min(255, v + 6)), im.point(lambda v: max(0, v - 10))))
    if jpeg:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=jpeg)
        im = Image.open(io.BytesIO(buf.getvalue()))
        im.load()
    return im


def save_scan(images, dest: Path, dpi: int) -> Path:
    """Pages saved as a scanner would: .pdf (one image a page), .jpg, .png or .tif (multi-page)."""
    images = list(images)
    fmt = {".pdf": "PDF", ".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF"}[dest.suffix]
    kw = {"resolution": dpi} if fmt == "PDF" else {"dpi": (dpi, dpi)}
    if fmt == "JPEG":
        kw["quality"] = 75
    if fmt == "TIFF":
        kw["compression"] = "tiff_lzw"
    if len(images) > 1:
        kw.update(save_all=True, append_images=images[1:])
    images[0].save(dest, fmt, **kw)
    return dest
