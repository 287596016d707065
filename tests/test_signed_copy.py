"""Signed copies of the biên bản: the QR payload, reading signed PDFs, scans and photos, refusing
bad files, and matching each copy to its unit. Real parts throughout: unit forms as generate makes
them, printed through LibreOffice with the QR code they carry, scans made from them with PDFium
and Pillow, PDFs signed with pyHanko by a test PKI."""
from __future__ import annotations

import dataclasses
import io
import pickle
import struct
import zlib
from pathlib import Path

import pytest

import signing
from conftest import needs_soffice, soffice
from signing import RECEIVED, at
from tracker.intake import signed_copy as sc
from tracker.intake.signed_copy import CopyContext, copy_context, load_trust_roots, read_signed_copy
from tracker.intake.signed_match import BY_FILE_NAME, BY_QR, BY_SENDER, BY_SIGNER, UnitIndex, match_copy, name_keys
from tracker.model import ident
from tracker.model.campaign import campaign_from_data, parse_template, template_path
from tracker.model.findings import IntakeError
from tracker.store.workspace import Workspace

UNIT = "xp-00004"          # Phường Ba Đình
OTHER = "so-yte"           # Sở Y tế
LONG = "so-dantoc-tongiao"  # the longest id: the densest code


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def camp(generated_campaign) -> Workspace:
    return Workspace(generated_campaign)      # read only here


@pytest.fixture(scope="session")
def pki(camp):
    return signing.make_pki(camp.unit_by_id[UNIT].name)


@pytest.fixture(scope="session")
def ctx(camp, pki) -> CopyContext:
    return copy_context(camp.campaign, camp.units, signing.SECRET, (pki.root.der,))


def last_year(campaign):
    """The campaign as it was a year ago: another id and version (the form of an earlier round)."""
    path = template_path(None)
    data = parse_template(path.read_bytes(), path)
    data["campaign"] = {**data["campaign"], "id": "hanoi-ttdt-2025", "version": "2025.1"}
    return campaign_from_data(data, path)


@pytest.fixture(scope="session")
def forms(camp, tmp_path_factory) -> dict[str, Path]:
    """Forms as generate makes them, printed to PDF by LibreOffice (one run): the unit's, the unit
    with the longest id (the densest code, version 5), and the unit's form of last year's round."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    return signing.print_forms({"form": (camp.campaign, camp.unit_by_id[UNIT]),
                                "dense": (camp.campaign, camp.unit_by_id[LONG]),
                                "last-year": (last_year(camp.campaign), camp.unit_by_id[UNIT])},
                               tmp_path_factory.mktemp("printed"), soffice())


@pytest.fixture(scope="session")
def form_pdf(forms) -> Path:
    return forms["form"]


def read(path, ctx, as_of=RECEIVED):
    return read_signed_copy(path, Path(path).name, ctx, as_of)


def refused(path, ctx) -> str:
    with pytest.raises(IntakeError) as e:
        read(path, ctx)
    f = e.value.finding
    assert f.severity == "error" and f.file == Path(path).name and Path(path).name in f.message
    return f.code


def codes(reading) -> list[str]:
    return [f.code for f in reading.findings]


# ------------------------------------------------------------------------------------------ the QR payload
def test_payload_round_trip_and_each_reason(camp):
    secret, cid, version = signing.SECRET, camp.campaign.id, camp.campaign.version
    units = set(camp.unit_by_id)
    text = ident.qr_payload_for(secret, cid, UNIT, version)
    assert text.startswith(f"TRK1|{cid}|{UNIT}|{version}|")
    ok = ident.check_qr(text, cid, units, secret)
    assert ok.ok and (ok.unit_id, ok.version) == (UNIT, version)

    def reason(t):
        return ident.check_qr(t, cid, units, secret).reason

    assert reason(ident.qr_payload_for(secret, "hanoi-ttdt-2025", UNIT, version)) == ident.QR_OTHER_CAMPAIGN
    assert reason(ident.qr_payload_for(secret, cid, "xp-99999", version)) == ident.QR_UNKNOWN_UNIT
    assert reason(ident.qr_payload_for(b"another folder", cid, UNIT, version)) == ident.QR_BAD_TOKEN
    assert reason(text.replace(UNIT, OTHER)) == ident.QR_BAD_TOKEN      # a unit id edited by hand
    assert reason("https://vanban.hanoi.gov.vn/qr/123") == ident.QR_NOT_OURS
    assert reason("TRK1|only|three") == ident.QR_MALFORMED
    # a field holding the separator survives (percent-encoded)
    odd = ident.qr_payload_for(secret, "a|b c", UNIT, version)
    assert odd.count("|") == 4 and ident.check_qr(odd, "a|b c", units, secret).ok


def test_qr_png_is_two_centimetres_and_reads_back(camp):
    import zxingcpp
    from PIL import Image

    def version(unit_id):
        return (len(ident.qr_modules(signing.qr_payload(camp, unit_id))) - 17) // 4

    # version 4 at M: 41 modules with the quiet zone, 0.49 mm a module in 2 cm; the longest unit
    # ids of the registry need version 5 (45 modules, 0.44 mm)
    assert version(UNIT) == 4 and version(LONG) == 5 == max(version(u.id) for u in camp.units)
    text = signing.qr_payload(camp, LONG)
    im = Image.open(io.BytesIO(ident.qr_png(text)))
    assert abs(im.width / im.info["dpi"][0] * 25.4 - ident.QR_WIDTH_MM) < 0.1
    assert [r.text for r in zxingcpp.read_barcodes(im)] == [text]


@needs_soffice
@pytest.mark.parametrize("dpi", [150, 200])
def test_the_densest_code_reads_in_a_poor_scan(forms, ctx, tmp_path, dpi):
    page = signing.degrade(signing.rasterise(forms["dense"], dpi), seed=3, rotate=90, tilt=2.5, noise=20, jpeg=50)
    r = read(signing.save_scan([page], tmp_path / "dense.jpg", dpi), ctx)
    assert (r.qr_unit_id, codes(r)) == (LONG, [])


# ------------------------------------------------------------------------------------------ printed and scanned
@needs_soffice
def test_form_printed_to_pdf_is_matched_by_its_qr(form_pdf, ctx, camp):
    assert abs(signing.printed_qr_mm(form_pdf) - ident.QR_WIDTH_MM) <= 1.0
    r = read(form_pdf, ctx)
    # the form's two pages and the "Hướng dẫn" sheet's
    assert (r.kind, r.pages, r.qr.page, r.qr_unit_id, r.signatures, r.findings) == ("pdf", 3, 1, UNIT, (), ())
    assert r.ok and not r.digitally_signed
    m = match_copy(r, UnitIndex(camp.units), file_name=form_pdf.name, expected_unit_id=UNIT)
    assert (m.unit_id, m.method, m.needs_confirmation, m.findings) == (UNIT, BY_QR, False, ())
    assert m.attachable


SCANS = {   # name: what the scanner or phone did
    "upright": dict(noise=8, jpeg=75),
    "tilt_2.5": dict(tilt=2.5, noise=12, jpeg=60),
    "rot90_tilt": dict(rotate=90, tilt=-2, noise=12, jpeg=60),
    "rot180_tilt": dict(rotate=180, tilt=3, noise=12, jpeg=60),
    "rot270_tilt": dict(rotate=270, tilt=2, noise=12, jpeg=60),
    "skew_tilt_noisy": dict(shear=0.02, tilt=-3, noise=20, jpeg=40),
    "very_noisy": dict(noise=30, jpeg=30, colour=True),
}


@needs_soffice
@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize("scan", sorted(SCANS))
def test_scans_are_read_at_any_turn_tilt_and_noise(form_pdf, ctx, tmp_path, dpi, scan):
    page = signing.degrade(signing.rasterise(form_pdf, dpi), seed=dpi, **SCANS[scan])
    dest = signing.save_scan([page], tmp_path / f"scan-{scan}-{dpi}.jpg", dpi)
    r = read(dest, ctx)
    assert (r.kind, r.qr_unit_id, r.qr.page, codes(r)) == ("image", UNIT, 1, [])


@needs_soffice
@pytest.mark.parametrize("form, dpi, blur, seed, attempt", [("dense", 80, 0, 1, "upscaled"),
                                                         ("form", 200, 1.8, 3, "sharpened")])
def test_coarse_and_blurred_scans_are_read_by_the_later_attempts(forms, ctx, tmp_path, form, dpi, blur, seed,
                                                                 attempt):
    """Below what the form is made for (the densest code at 80 dpi; a blurred scan): zxing-cpp's
    own pass misses these, the ladder's later attempts read them (each case only that attempt)."""
    from PIL import ImageFilter

    page = signing.rasterise(forms[form], dpi)
    if blur:
        page = page.filter(ImageFilter.GaussianBlur(blur))
    page = signing.degrade(page, seed=seed, tilt=2.5, noise=15, jpeg=50)
    r = read(signing.save_scan([page], tmp_path / "coarse.jpg", dpi), ctx)
    assert (r.qr_unit_id, r.qr.attempt, codes(r)) == ({"dense": LONG, "form": UNIT}[form], attempt, [])


@needs_soffice
@pytest.mark.parametrize("suffix", [".pdf", ".png", ".tif"])
def test_two_page_scans_in_every_container(form_pdf, ctx, tmp_path, suffix):
    """A scanner's PDF (one picture a page), a PNG and a multi-page TIFF, the QR on page 1."""
    pages = [signing.degrade(signing.rasterise(form_pdf, 200, i), seed=i, tilt=1.5, noise=10) for i in (0, 1)]
    if suffix == ".png":
        pages = pages[:1]
    dest = signing.save_scan(pages, tmp_path / f"scan{suffix}", 200)
    r = read(dest, ctx)
    assert (r.qr_unit_id, r.qr.page, r.pages, codes(r)) == (UNIT, 1, len(pages), [])
    assert r.kind == ("pdf" if suffix == ".pdf" else "image")


@needs_soffice
def test_qr_on_a_later_page_is_found_and_pages_read_are_bounded(form_pdf, ctx, tmp_path):
    guide = signing.rasterise(form_pdf, 150, 1)              # the form's second page has no QR code
    form = signing.rasterise(form_pdf, 150, 0)
    dest = signing.save_scan([guide, form], tmp_path / "cover-then-form.pdf", 150)
    r = read(dest, ctx)
    assert (r.qr_unit_id, r.qr.page, r.pages_read) == (UNIT, 2, 2)
    # the QR past the pages read is not looked for: the copy needs a person
    late = signing.save_scan([guide] * sc.QR_PAGES + [form], tmp_path / "late.pdf", 150)
    r = read(late, ctx)
    assert (r.qr, r.pages, r.pages_read, codes(r)) == (None, sc.QR_PAGES + 1, sc.QR_PAGES, ["qr_not_found"])
    assert r.ok and f"{sc.QR_PAGES} trang đầu" in r.findings[0].message


@needs_soffice
def test_qr_of_another_campaign_is_an_error_with_the_campaign_named(camp, forms, ctx, tmp_path):
    page = signing.rasterise(forms["last-year"], 200)       # the unit printed last year's form
    dest = signing.save_scan([signing.degrade(page, noise=8, jpeg=70)], tmp_path / "other-campaign.jpg", 200)
    r = read(dest, ctx)
    assert codes(r) == ["qr_other_campaign"] and not r.ok and r.qr_unit_id is None
    assert "hanoi-ttdt-2025" in r.findings[0].message and camp.campaign.id in r.findings[0].message


# ------------------------------------------------------------------------------------------ signed PDFs
@pytest.fixture(scope="session")
def signed(form_pdf, pki):
    """name -> bytes of each signed variant of the printed form."""
    src = form_pdf.read_bytes()
    good = signing.sign_pdf(src, pki.head, pki.root)
    return {
        "good": good,
        "two": signing.sign_pdf(good, pki.organisation, pki.root, at(2026, 6, 3, 10), field="Signature2"),
        "stamped": signing.sign_pdf(src, pki.head, pki.root, tsa=pki.tsa),
        "expired": signing.sign_pdf(src, pki.expired, pki.root, at(2025, 12, 1)),
        "untrusted": signing.sign_pdf(src, pki.untrusted, pki.other_root),
        "appended": good + b"\n% phu luc them sau khi ky\n",
        "line_end": good + b"\r\n",
        "changed": signing.change_after_signing(good),
    }


def write(tmp_path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@needs_soffice
def test_valid_signature_records_signer_time_and_qr(signed, ctx, tmp_path, camp):
    r = read(write(tmp_path, "bien-ban-ky-so.pdf", signed["good"]), ctx)
    assert r.ok and r.digitally_signed and r.qr_unit_id == UNIT and r.as_of == RECEIVED
    (s,) = r.signatures
    assert (s.status, s.coverage, s.modification, s.signed_at, s.time_source) == (
        "valid", "entire_file", "none", signing.SIGNED_AT, "signer")
    assert (s.signer.name, s.signer.organisation, s.signer.issuer) == (
        "Nguyễn Văn An", "UBND Phường Ba Đình", "CA thử nghiệm chuyên dùng")
    pickle.loads(pickle.dumps(r))       # crosses the bounded worker's pipe


@needs_soffice
def test_head_then_organisation_signature_both_hold(signed, ctx, tmp_path):
    r = read(write(tmp_path, "two.pdf", signed["two"]), ctx)
    first, second = r.signatures
    assert (first.status, first.modification) == ("valid", "form_filling")    # only a signature added after
    assert (second.status, second.coverage) == ("valid", "entire_file")
    assert second.signer.name == "ỦY BAN NHÂN DÂN PHƯỜNG BA ĐÌNH" and r.ok


@needs_soffice
def test_timestamp_token_gives_the_signing_time(signed, ctx, tmp_path):
    (s,) = read(write(tmp_path, "stamped.pdf", signed["stamped"]), ctx).signatures
    assert (s.status, s.signed_at, s.time_source) == ("valid", signing.SIGNED_AT, "timestamp")


@needs_soffice
@pytest.mark.parametrize("variant, status, code", [
    ("expired", "expired", "signed_cert_expired"),
    ("untrusted", "untrusted", "signed_untrusted"),
    ("appended", "modified", "signed_modified"),
    ("changed", "modified", "signed_modified"),
])
def test_signatures_that_do_not_hold(signed, ctx, tmp_path, variant, status, code):
    r = read(write(tmp_path, f"{variant}.pdf", signed[variant]), ctx)
    (s,) = r.signatures
    assert s.status == status and codes(r) == [code] and not r.ok and not r.digitally_signed
    assert r.qr_unit_id == UNIT          # still says whose copy it is
    msg = r.findings[0].message
    assert f"'{variant}.pdf'" in msg and s.signer.name in msg
    if variant == "expired":
        assert "01/01/2026" in msg and "05/06/2026" in msg
    if variant == "untrusted":
        assert "CA không được tin cậy" in msg and "trust/" in msg


@needs_soffice
def test_validity_is_judged_as_of_the_time_given(signed, ctx, tmp_path):
    path = write(tmp_path, "expired.pdf", signed["expired"])
    assert read(path, ctx, as_of=at(2025, 12, 2)).signatures[0].status == "valid"      # received in time
    assert read(path, ctx, as_of=at(2026, 1, 2)).signatures[0].status == "expired"
    assert read(path, ctx, as_of=at(2022, 6, 1)).signatures[0].status == "not_yet_valid"


@needs_soffice
def test_line_ends_after_the_file_are_not_a_modification(signed, ctx, tmp_path):
    r = read(write(tmp_path, "line-end.pdf", signed["line_end"]), ctx)
    assert r.signatures[0].status == "valid" and r.ok


@needs_soffice
def test_without_trust_roots_every_signature_is_untrusted_and_says_where_to_put_them(signed, ctx, tmp_path):
    bare = dataclasses.replace(ctx, trust_roots=())
    r = read(write(tmp_path, "good.pdf", signed["good"]), bare)
    assert codes(r) == ["signed_untrusted"] and "chưa có chứng thư gốc nào" in r.findings[0].message


def test_trust_folder_reads_pem_bundles_der_and_warns_on_junk(pki, tmp_path):
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "bundle.pem").write_bytes(pki.root.pem + pki.other_root.pem)
    (trust / "root.cer").write_bytes(pki.root.der)               # the same root twice: kept once
    (trust / "ghi-chu.crt").write_bytes(b"khong phai chung thu")
    (trust / "readme.txt").write_text("not read")
    roots, findings = load_trust_roots(trust)
    assert roots == (pki.root.der, pki.other_root.der)
    assert [(f.code, f.file, f.severity) for f in findings] == [("trust_bad_file", "ghi-chu.crt", "warning")]
    assert load_trust_roots(tmp_path / "none") == ((), [])


def test_init_makes_the_trust_folder_saying_what_goes_there(tmp_path):
    from tracker.store.workspace import init_workspace

    ws = init_workspace(tmp_path / "camp", template_path(None), None, force=False)
    readme = ws.trust / "README.txt"
    text = readme.read_bytes().decode("utf-8-sig")
    assert ws.trust == ws.root / "trust" and "\r\n" in text            # Notepad shows it as it is
    assert "Ban Cơ yếu Chính phủ" in text and "không kèm sẵn chứng thư gốc nào" in text and ".cer" in text
    assert load_trust_roots(ws.trust) == ((), [])                         # the README is no certificate
    readme.write_text("ghi chú của cán bộ", encoding="utf-8")
    init_workspace(ws.root, template_path(None), None, force=True)
    assert readme.read_text(encoding="utf-8") == "ghi chú của cán bộ"   # never overwritten


# ------------------------------------------------------------------------------------------ refusals
@needs_soffice
def test_encrypted_pdf_is_refused(form_pdf, ctx, tmp_path):
    assert refused(write(tmp_path, "mat-khau.pdf", signing.encrypt_pdf(form_pdf.read_bytes())), ctx) \
        == "signed_encrypted"


def test_pdf_bombs_are_refused_before_rendering(ctx, tmp_path):
    inflating = signing.stream(b" " * (sc.MAX_STREAM_BYTES + 1024), flate=True)      # ~65 MB from ~65 kB
    assert refused(write(tmp_path, "bomb-stream.pdf", signing.raw_pdf([(signing.A4, inflating)])), ctx) \
        == "signed_pdf_bomb"
    huge_box = (b"/MediaBox [0 0 100000 100000]", signing.stream(b""))
    assert refused(write(tmp_path, "bomb-box.pdf", signing.raw_pdf([huge_box])), ctx) == "signed_pdf_bomb"
    picture = signing.stream(zlib.compress(b"\0" * 100), b"/Type /XObject /Subtype /Image /Width 100000 "
                             b"/Height 100000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode")
    page = (signing.A4 + b" /Resources << /XObject << /Im0 5 0 R >> >>",
            signing.stream(b"q 500 0 0 700 50 50 cm /Im0 Do Q"))
    assert refused(write(tmp_path, "bomb-image.pdf", signing.raw_pdf([page], [picture])), ctx) == "signed_pdf_bomb"


def test_three_hundred_pages_are_refused_with_the_limit(ctx, tmp_path):
    path = write(tmp_path, "ca-tap-ho-so.pdf", signing.raw_pdf([signing.simple_page()] * 300))
    with pytest.raises(IntakeError) as e:
        read(path, ctx)
    f = e.value.finding
    assert (f.code, f.value, f.expected) == ("signed_too_many_pages", "300", f"<= {sc.MAX_PDF_PAGES}")
    assert "300 trang" in f.message


def test_images_beyond_the_pixel_limit_are_refused_without_decoding(ctx, tmp_path):
    def png_header(w, h) -> bytes:
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))

    assert refused(write(tmp_path, "anh-70mpx.png", png_header(10_000, 7_000)), ctx) == "signed_image_too_large"
    assert refused(write(tmp_path, "anh-1600mpx.png", png_header(40_000, 40_000)), ctx) == "signed_image_too_large"


def test_many_page_tiff_is_refused(ctx, tmp_path):
    from PIL import Image

    pages = [Image.new("1", (64, 64), 1) for _ in range(sc.MAX_PDF_PAGES + 1)]
    dest = signing.save_scan(pages, tmp_path / "quet.tif", 150)
    assert refused(dest, ctx) == "signed_too_many_pages"


def test_other_files_are_refused_clearly(ctx, tmp_path):
    assert refused(write(tmp_path, "bien-ban.docx", b"PK\x03\x04 not a scan"), ctx) == "signed_not_supported"
    whole = signing.raw_pdf([signing.simple_page()])
    assert refused(write(tmp_path, "cut.pdf", whole[:40]), ctx) == "signed_damaged"
    big = tmp_path / "big.pdf"
    with open(big, "wb") as fh:
        fh.write(b"%PDF-1.7\n")
        fh.truncate(sc.MAX_COPY_BYTES + 1)       # sparse: nothing is written
    assert refused(big, ctx) == "signed_file_too_large"


def test_plain_pdf_without_qr_is_read_and_flagged(ctx, tmp_path):
    r = read(write(tmp_path, "thu.pdf", signing.raw_pdf([signing.simple_page()])), ctx)
    assert (r.kind, r.pages, r.signatures, codes(r)) == ("pdf", 1, (), ["qr_not_found"]) and r.ok


# ------------------------------------------------------------------------------------------ bounded workers
@needs_soffice
def test_many_copies_in_the_bounded_workers(signed, form_pdf, ctx, tmp_path):
    good = write(tmp_path, "good.pdf", signed["good"])
    locked = write(tmp_path, "locked.pdf", signing.encrypt_pdf(form_pdf.read_bytes()))
    scan = signing.save_scan([signing.degrade(signing.rasterise(form_pdf, 150), tilt=2, noise=10)],
                             tmp_path / "scan.jpg", 150)
    jobs = [(i, p.name, p, RECEIVED) for i, p in enumerate([good, locked, scan])]
    got = sc.read_signed_copies(jobs, ctx)
    assert got[0].digitally_signed and got[0].qr_unit_id == UNIT
    assert isinstance(got[1], IntakeError) and got[1].finding.code == "signed_encrypted"
    assert got[2].qr_unit_id == UNIT and got[2].kind == "image"


# ------------------------------------------------------------------------------------------ matching
def reading(file="copy.pdf", qr_unit=None, signers=(), qr_reason=ident.QR_OK, findings=()):
    """A reading as read_signed_copy makes it, for the pure matching tests."""
    qr = None
    if qr_unit:
        qr = sc.QrRead(ident.QrCheck(qr_reason, "TRK1|...", "hanoi-ttdt-2026", qr_unit, "2026.1"), 1, "as_is")
    sigs = tuple(sc.SignatureCheck("Signature1", sc.Signer(name, org, "", "CA", "1", at(2025, 1, 1),
                                                           at(2028, 1, 1), "00"), status, at(2026, 6, 3),
                                   "signer", "entire_file", "none")
                 for name, org, status in signers)
    return sc.SignedCopyReading(file, "pdf", 1, 1, RECEIVED, qr, sigs, tuple(findings))


@pytest.fixture(scope="module")
def index(generated_campaign):
    units = Workspace(generated_campaign).units
    units = [dataclasses.replace(u, email="vanthu.badinh@hanoi.gov.vn") if u.id == UNIT else u for u in units]
    return UnitIndex(units)


def test_name_keys_compare_vietnamese_names():
    assert name_keys("UBND phường Ba Đình, TP Hà Nội")[0] == name_keys("Phường Ba Đình")[0] == "phường ba đình"
    assert name_keys("ỦY BAN NHÂN DÂN PHƯỜNG BA ĐÌNH THÀNH PHỐ HÀ NỘI")[0] == "phường ba đình"
    assert name_keys("Uỷ ban nhân dân phường Ba Đình")[1] == "phuong ba dinh"      # old tone placement
    assert name_keys("SỞ Y TẾ HÀ NỘI") == name_keys("Sở Y tế")


def test_match_by_qr_wins_and_a_disagreeing_signer_is_a_warning(index):
    m = match_copy(reading(qr_unit=UNIT, signers=[("Phạm Văn D", "Sở Y tế", "valid")]), index, file_name="x.pdf")
    assert (m.unit_id, m.method, m.needs_confirmation) == (UNIT, BY_QR, False)
    assert [f.code for f in m.findings] == ["copy_signer_other_unit"] and m.attachable


def test_match_by_a_valid_signer_organisation(index):
    for org in ("UBND phường Ba Đình", "ỦY BAN NHÂN DÂN PHƯỜNG BA ĐÌNH", "Uỷ ban nhân dân Phuong Ba Dinh"):
        m = match_copy(reading(signers=[("Nguyễn Văn An", org, "valid")]), index, file_name="scan01.pdf")
        assert (m.unit_id, m.method, m.needs_confirmation, m.findings) == (UNIT, BY_SIGNER, False, ()), org
    # an organisation certificate names the unit in its common name, its parent in O
    m = match_copy(reading(signers=[("SỞ Y TẾ", "UBND Thành phố Hà Nội", "valid")]), index)
    assert (m.unit_id, m.method) == (OTHER, BY_SIGNER)
    # a signature that does not hold still tells the unit, for staff to confirm
    m = match_copy(reading(signers=[("Nguyễn Văn An", "UBND phường Ba Đình", "untrusted")]), index)
    assert (m.unit_id, m.needs_confirmation, [f.code for f in m.findings]) == (
        UNIT, True, ["copy_needs_confirmation"]) and not m.attachable


def test_match_by_file_name_or_sender_needs_confirmation(index):
    m = match_copy(reading(file="Bien ban - Phuong Ba Dinh (da ky).jpg"), index,
                   file_name="Bien ban - Phuong Ba Dinh (da ky).jpg")
    assert (m.unit_id, m.method, m.needs_confirmation) == (UNIT, BY_FILE_NAME, True)
    assert [f.code for f in m.findings] == ["copy_needs_confirmation"] and not m.attachable
    assert "tên tệp" in m.findings[0].message
    m = match_copy(reading(file="scan0001.pdf"), index, file_name="scan0001.pdf",
                   sender="Văn thư <VanThu.BaDinh@hanoi.gov.vn>")
    assert (m.unit_id, m.method, m.needs_confirmation) == (UNIT, BY_SENDER, True)
    m = match_copy(None, index, file_name="xp-00004-phuong-ba-dinh.pdf")     # a refused file
    assert (m.unit_id, m.method) == (UNIT, BY_FILE_NAME)
    m = match_copy(reading(file="so-y-te.pdf"), index, file_name="so-y-te.pdf")
    assert m.unit_id == OTHER


def test_unmatched_ambiguous_and_other_unit_copies_are_flagged_never_attached(index):
    m = match_copy(reading(file="scan0001.pdf"), index, file_name="scan0001.pdf", sender="ai@gmail.com")
    assert (m.unit_id, [f.code for f in m.findings]) == (None, ["copy_unmatched"]) and not m.attachable
    m = match_copy(reading(file="so-y-te.pdf"), index, file_name="so-y-te.pdf", sender="vanthu.badinh@hanoi.gov.vn")
    assert (m.unit_id, [f.code for f in m.findings]) == (None, ["copy_ambiguous"])
    m = match_copy(reading(qr_unit=UNIT), index, file_name="a.pdf", expected_unit_id=OTHER)
    assert (m.unit_id, [f.code for f in m.findings]) == (UNIT, ["copy_other_unit"]) and not m.attachable
    assert "Sở Y tế (so-yte)" in m.findings[0].message and "Phường Ba Đình (xp-00004)" in m.findings[0].message
    # a QR that failed its check is not used to match; the reading's own error stands
    m = match_copy(reading(file="scan.pdf", qr_unit=UNIT, qr_reason=ident.QR_BAD_TOKEN), index, file_name="scan.pdf")
    assert (m.unit_id, [f.code for f in m.findings]) == (None, ["copy_unmatched"])
