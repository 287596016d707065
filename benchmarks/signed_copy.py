"""How long identifying a signed copy takes, against rasterising (or decoding) its page alone.

    python benchmarks/signed_copy.py              # 15 runs each, medians (about a minute)
    python benchmarks/signed_copy.py --repeat 50

It makes the Hà Nội campaign in a temporary folder, prints one unit's form (as generate makes it,
with the QR code it carries) to PDF through LibreOffice (tests/signing.py), and makes from it: a scanner's
one-page PDF at 200 dpi and a phone-like JPEG at 300 dpi (tilted, noisy, JPEG-compressed), the
printed PDF signed by a test PKI, and a page without any QR code (every decoding attempt runs).
Each is read with `read_signed_copy` in this process (no worker), and compared with the floor: the
same page rasterised by PDFium at the same resolution, or the image decoded by Pillow, alone.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import signing  # noqa: E402
from conftest import soffice  # noqa: E402
from tracker.intake import signed_copy as sc  # noqa: E402
from tracker.model.campaign import template_path  # noqa: E402
from tracker.store.workspace import init_workspace  # noqa: E402

UNIT = "xp-00004"


def median_s(fn, repeat: int) -> float:
    fn()        # warm: imports, PDFium's fonts
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rasterise_alone(path: Path):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        page = doc[0]
        page.render(scale=sc.RENDER_DPI / 72, grayscale=True).to_pil()
        page.close()
    finally:
        doc.close()


def decode_alone(path: Path):
    from PIL import Image

    with Image.open(path) as im:
        im.convert("L")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-signed-") as tmp:
        tmp = Path(tmp)
        ws = init_workspace(tmp / "camp", template_path(None), None, force=False)
        unit = ws.unit_by_id[UNIT]
        form = signing.print_forms({"form": (ws.campaign, unit)}, tmp / "printed", soffice())["form"]
        pki = signing.make_pki(unit.name)
        ctx = sc.copy_context(ws.campaign, ws.units, signing.SECRET, (pki.root.der,))

        page200 = signing.degrade(signing.rasterise(form, 200), tilt=2, noise=12, jpeg=60)
        scan_pdf = signing.save_scan([page200], tmp / "scan-200dpi.pdf", 200)
        page300 = signing.degrade(signing.rasterise(form, 300), rotate=90, tilt=-2.5, noise=15, jpeg=60)
        scan_jpg = signing.save_scan([page300], tmp / "photo-300dpi.jpg", 300)
        signed = tmp / "signed.pdf"
        signed.write_bytes(signing.sign_pdf(form.read_bytes(), pki.head, pki.root))
        no_qr = signing.save_scan([signing.rasterise(form, 200, 1)], tmp / "no-qr-200dpi.pdf", 200)

        rows = []
        for label, path, floor_name, floor in [
            ("scan PDF, 1 page, 200 dpi", scan_pdf, "rasterise", rasterise_alone),
            ("JPEG, 300 dpi, turned 90°", scan_jpg, "decode", decode_alone),
            ("signed PDF (+ validation)", signed, "rasterise", rasterise_alone),
            ("scan PDF without QR (all tries)", no_qr, "rasterise", rasterise_alone),
        ]:
            r = sc.read_signed_copy(path, path.name, ctx, signing.RECEIVED)
            found = f"{r.qr.check.reason} p{r.qr.page} {r.qr.attempt}" if r.qr else "none"
            ours = median_s(lambda: sc.read_signed_copy(path, path.name, ctx, signing.RECEIVED), args.repeat)
            base = median_s(lambda: floor(path), args.repeat)
            rows.append((label, found, ours, floor_name, base))
    print(f"identify vs floor, medians of {args.repeat} runs (RENDER_DPI {sc.RENDER_DPI})")
    print(f"{'copy':34} {'QR found':22} {'identify':>9} {'floor':>18} {'ratio':>6}")
    for label, found, ours, floor_name, base in rows:
        print(f"{label:34} {found:22} {ours * 1000:7.0f}ms {floor_name:>9} {base * 1000:6.0f}ms {ours / base:6.1f}")


if __name__ == "__main__":
    main()
