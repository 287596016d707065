"""Safety checks on returned files. Every bad input is built here in tmp_path."""
from __future__ import annotations

import concurrent.futures
import io
import os
import random
import shutil
import struct
import time
import unicodedata
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tracker.intake import convert
from tracker.intake.bounded import run_bounded
from tracker.intake.convert import convert_with_libreoffice
from tracker.intake.safety import MAX_FILE_BYTES, MAX_MEMBERS, MiB, check_file, read_member, sniff_kind
from tracker.model.findings import Finding, IntakeError

HAS_SOFFICE = bool(convert.find_soffice())
needs_soffice = pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) chưa được cài")
_VN_ONLY = set("ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐƯƠ")


# --------------------------------------------------------------------------- helpers


def make_xlsx(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Dữ liệu")
    ws.write_row(0, 0, ["Đơn vị", "Số lượng"])
    ws.write_row(1, 0, ["Hà Nội", 42])
    wb.close()
    return path


def refused(code: str, name: str, fn, *args, **kwargs) -> Finding:
    """Call fn, expect IntakeError(code) whose message is Vietnamese and names the file."""
    with pytest.raises(IntakeError) as info:
        fn(*args, **kwargs)
    f = info.value.finding
    assert f.code == code, f
    assert f.severity == "error"
    assert f.file == name
    assert f"'{name}'" in f.message
    assert unicodedata.is_normalized("NFC", f.message)
    assert _VN_ONLY & set(f.message), f.message  # has Vietnamese-only letters
    assert str(info.value) == f.message
    return f


def write_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate-name warning in one test
        with zipfile.ZipFile(path, "w", compression) as zf:
            for name, data in members.items() if isinstance(members, dict) else members:
                zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


CT_XLSX = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
           b'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
           b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')


def patch_central_sizes(data: bytes, member: str, *, file_size=None, compress_size=None) -> bytes:
    """Rewrite the sizes a central directory entry declares (the local header is left alone)."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46:pos + 46 + name_len]).decode() == member:
            if compress_size is not None:
                struct.pack_into("<L", buf, pos + 20, compress_size)
            if file_size is not None:
                struct.pack_into("<L", buf, pos + 24, file_size)
            return bytes(buf)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(member)


def build_cfb(streams: list[str]) -> bytes:
    """A minimal valid Compound File Binary (OLE2) v3 file holding empty streams.

    Layout: 512-byte header, sector 0 = the FAT, sector 1 = the directory (4 entries of
    128 bytes: "Root Entry" + up to 3 streams). Every stream is empty (start sector
    ENDOFCHAIN, size 0), so no data or mini-stream sectors are needed. This is how an
    Excel "password to open" file looks from the outside: a CFB whose directory lists
    "EncryptionInfo" and "EncryptedPackage" instead of a zip package.
    """
    assert len(streams) <= 3
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)  # v3, 512-byte sectors
    struct.pack_into("<LLLLLLLL", header, 0x28, 0, 1, 1, 0, 0x1000, end, 0, end)
    struct.pack_into("<L", header, 0x48, 0)
    difat = [0] + [free] * 108  # the FAT lives in sector 0
    struct.pack_into("<109L", header, 0x4C, *difat)
    fat = struct.pack("<128L", fatsect, end, *([free] * 126))

    def entry(name: str, kind: int, left=nostream, right=nostream, child=nostream) -> bytes:
        raw = (name + "\0").encode("utf-16-le") if name else b""
        e = bytearray(128)
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)  # name length, type, black
        struct.pack_into("<LLL", e, 68, left, right, child)
        struct.pack_into("<LQ", e, 116, end, 0)  # start sector, size
        return bytes(e)

    entries = [entry("Root Entry", 5, child=1 if streams else nostream)]
    for i, name in enumerate(streams, start=1):
        entries.append(entry(name, 2, right=i + 1 if i < len(streams) else nostream))
    while len(entries) < 4:
        entries.append(entry("", 0))
    return bytes(header) + fat + b"".join(entries)


# --------------------------------------------------------------------------- happy paths


def test_xlsx_accepted_whatever_its_name(tmp_path):
    p = make_xlsx(tmp_path / "a.xlsx")
    assert sniff_kind(p) == "xlsx"
    assert check_file(p, "Phường Ba Đình.xlsx") == "xlsx"
    renamed = tmp_path / "bao-cao.xls"
    shutil.copy(p, renamed)
    assert check_file(renamed) == "xlsx"  # magic bytes, not the extension


def test_xlsm_sniffed(tmp_path):
    ct = CT_XLSX.replace(b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
    p = write_zip(tmp_path / "m.xlsm", {"[Content_Types].xml": ct, "xl/workbook.xml": b"<w/>",
                                         "xl/vbaProject.bin": b"\0" * 10})
    assert sniff_kind(p) == "xlsm"
    assert check_file(p) == "xlsm"


def test_read_member_honest(tmp_path):
    p = make_xlsx(tmp_path / "a.xlsx")
    with zipfile.ZipFile(p) as zf:
        data = read_member(zf, "[Content_Types].xml", MiB)
        assert data.startswith(b"<?xml")
        refused("zip_bomb", "a.xlsx", read_member, zf, "[Content_Types].xml", 10)


# --------------------------------------------------------------------------- refusals


def test_missing_and_directory(tmp_path):
    refused("file_missing", "x.xlsx", check_file, tmp_path / "nope.xlsx", "x.xlsx")
    refused("file_unreadable", "d.xlsx", check_file, tmp_path, "d.xlsx")


def test_empty(tmp_path):
    p = tmp_path / "Xã Sóc Sơn.xlsx"
    p.write_bytes(b"")
    assert sniff_kind(p) == "empty"
    f = refused("empty", "Xã Sóc Sơn.xlsx", check_file, p, "Xã Sóc Sơn.xlsx")
    assert f.message == "Tệp 'Xã Sóc Sơn.xlsx' rỗng (0 byte). Đề nghị đơn vị gửi lại tệp .xlsx đã điền."


def test_too_large(tmp_path):
    p = tmp_path / "big.xlsx"
    with open(p, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing written
    f = refused("too_large", "big.xlsx", check_file, p)
    assert f.value == str(MAX_FILE_BYTES + 1)


def test_random_bytes(tmp_path):
    p = tmp_path / "r.xlsx"
    p.write_bytes(random.Random(7).randbytes(4096))
    assert sniff_kind(p) == "unknown"
    refused("not_spreadsheet", "r.xlsx", check_file, p)


def test_text_renamed_xlsx(tmp_path):
    p = tmp_path / "ghi-chu.xlsx"
    p.write_text("Đơn vị: Phường Hoàn Kiếm\nĐã đáp ứng\n", encoding="utf-8")
    assert sniff_kind(p) == "unknown"
    f = refused("not_spreadsheet", "ghi-chu.xlsx", check_file, p)
    assert "Lưu thành (Save As)" in f.message


def test_html_saved_as_xls(tmp_path):
    p = tmp_path / "xuat.xls"
    p.write_text("<html><body><table><tr><td>Hà Nội</td></tr></table></body></html>", encoding="utf-8")
    f = refused("not_spreadsheet", "xuat.xls", check_file, p)
    assert f.value == "html" and "HTML" in f.message


def test_truncated_xlsx(tmp_path):
    full = make_xlsx(tmp_path / "full.xlsx").read_bytes()
    p = tmp_path / "cut.xlsx"
    p.write_bytes(full[: len(full) // 2])
    refused("corrupt_zip", "cut.xlsx", check_file, p)


def _bomb_xlsx(path: Path, size: int) -> Path:
    """xlsx-shaped zip whose sheet is `size` bytes of zeros, streamed in 1 MiB chunks."""
    chunk = bytes(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CT_XLSX)
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            for _ in range(size // MiB):
                fh.write(chunk)
    return path


def test_zip_bomb_refused_without_decompressing(tmp_path, monkeypatch):
    p = _bomb_xlsx(tmp_path / "bomb.xlsx", 150 * MiB)
    assert p.stat().st_size < 1 * MiB  # ~150 KB on disk
    real_open = zipfile.ZipFile.open

    def guarded_open(self, name, *args, **kwargs):
        member = getattr(name, "filename", name)
        assert member != "xl/worksheets/sheet1.xml", "the bomb member was decompressed"
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", guarded_open)
    start = time.perf_counter()
    f = refused("zip_bomb", "bomb.xlsx", check_file, p)
    assert time.perf_counter() - start < 1.0
    assert "sheet1.xml" in f.value


def test_ratio_bomb_below_size_limit(tmp_path):
    p = _bomb_xlsx(tmp_path / "ratio.xlsx", 40 * MiB)  # < 100 MiB but ratio ~1000
    f = refused("zip_bomb", "ratio.xlsx", check_file, p)
    assert "tỉ lệ nén" in f.value


def test_total_uncompressed_limit(tmp_path):
    members = {"[Content_Types].xml": CT_XLSX, "xl/workbook.xml": b"<w/>",
               "xl/a.xml": b"a" * 100, "xl/b.xml": b"b" * 100, "xl/c.xml": b"c" * 100}
    data = write_zip(tmp_path / "t.xlsx", members).read_bytes()
    for m in ("xl/a.xml", "xl/b.xml", "xl/c.xml"):  # each 90 MiB at ratio 90: only the sum fails
        data = patch_central_sizes(data, m, file_size=90 * MiB, compress_size=1 * MiB)
    p = tmp_path / "total.xlsx"
    p.write_bytes(data)
    f = refused("zip_bomb", "total.xlsx", check_file, p)
    assert f.value.startswith("tổng")


def test_lying_central_directory_caught_by_read_member(tmp_path):
    src = write_zip(tmp_path / "src.zip", {"data.bin": bytes(8 * MiB), "ok.txt": b"xin chao"})
    p = tmp_path / "lie.xlsx"
    p.write_bytes(patch_central_sizes(src.read_bytes(), "data.bin", file_size=100))
    with zipfile.ZipFile(p) as zf:
        assert zf.getinfo("data.bin").file_size == 100  # the lie
        assert read_member(zf, "ok.txt", 1000) == b"xin chao"
        start = time.perf_counter()
        f = refused("zip_bomb", "lie.xlsx", read_member, zf, "data.bin", MiB)
        assert time.perf_counter() - start < 1
        assert "khai báo 100" in f.value
        # a limit above the real size exposes the mismatch as corruption
        refused("corrupt_zip", "lie.xlsx", read_member, zf, "data.bin", 9 * MiB)


def test_too_many_members(tmp_path):
    members = {"[Content_Types].xml": CT_XLSX, "xl/workbook.xml": b"<w/>"}
    members.update({f"xl/m{i}.xml": b"" for i in range(MAX_MEMBERS)})
    p = write_zip(tmp_path / "many.xlsx", members, zipfile.ZIP_STORED)
    f = refused("too_many_members", "many.xlsx", check_file, p)
    assert f.value == str(MAX_MEMBERS + 2)


@pytest.mark.parametrize("evil", ["../../etc/cron.d/x", "/etc/passwd", "xl/../../x.xml",
                                  "C:/Windows/x", "..\\..\\x"])
def test_unsafe_member_names(tmp_path, evil):
    p = write_zip(tmp_path / "evil.xlsx", {"[Content_Types].xml": CT_XLSX,
                                           "xl/workbook.xml": b"<w/>", evil: b"x"})
    f = refused("unsafe_member_name", "evil.xlsx", check_file, p)
    assert f.value == evil


def test_duplicate_members(tmp_path):
    p = write_zip(tmp_path / "dup.xlsx", [("[Content_Types].xml", CT_XLSX),
                                          ("xl/workbook.xml", b"<w/>"),
                                          ("xl/workbook.xml", b"<w2/>")])
    f = refused("duplicate_member", "dup.xlsx", check_file, p)
    assert f.value == "xl/workbook.xml"


@pytest.mark.parametrize("alias", ["xl/Workbook.xml", "XL\\workbook.xml", "xl/work%62ook.xml"])
def test_two_members_a_reader_takes_for_one_part_are_refused(tmp_path, alias):
    """Part names are case-insensitive URIs and some zip tools write "\\": the duplicate check compares
    names as the lookup finds them, so the part read is the one Excel reads (issue 14)."""
    p = write_zip(tmp_path / "twins.xlsx", [("[Content_Types].xml", CT_XLSX), ("xl/workbook.xml", b"<w/>"),
                                            (alias, b"<w2/>")])
    f = refused("duplicate_member", "twins.xlsx", check_file, p)
    assert f.value == alias and f.param("other") == "xl/workbook.xml"
    assert "'xl/workbook.xml'" in f.message and f"'{alias}'" in f.message


@pytest.mark.parametrize("evil", ["xl/%2e%2e/%2e%2e/x.xml", "%2Fetc/passwd"])
def test_percent_encoded_unsafe_names_are_refused(tmp_path, evil):
    p = write_zip(tmp_path / "evil.xlsx", {"[Content_Types].xml": CT_XLSX, "xl/workbook.xml": b"<w/>", evil: b"x"})
    refused("unsafe_member_name", "evil.xlsx", check_file, p)


def test_plain_zip_and_xlsb(tmp_path):
    p = write_zip(tmp_path / "nen.xlsx", {"bao-cao.xlsx": b"PK..."})
    assert sniff_kind(p) == "zip"
    refused("zip_not_spreadsheet", "nen.xlsx", check_file, p)
    ct = b'<Types><Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>'
    p = write_zip(tmp_path / "b.xlsx", {"[Content_Types].xml": ct, "xl/workbook.bin": b"\0"})
    refused("xlsb", "b.xlsx", check_file, p)


# --------------------------------------------------------------------------- CFB / encryption


def test_handmade_cfb_is_valid():
    olefile = pytest.importorskip("olefile")
    data = build_cfb(["EncryptionInfo", "EncryptedPackage"])
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert sorted("/".join(e) for e in ole.listdir()) == ["EncryptedPackage", "EncryptionInfo"]


def test_encrypted_ooxml_handmade(tmp_path):
    p = tmp_path / "mat-khau.xlsx"
    p.write_bytes(build_cfb(["EncryptionInfo", "EncryptedPackage"]))
    assert sniff_kind(p) == "encrypted"
    f = refused("encrypted", "mat-khau.xlsx", check_file, p)
    assert "Mã hóa bằng mật khẩu" in f.message and "xóa mật khẩu" in f.message


def test_encrypted_ooxml_msoffcrypto(tmp_path):
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml", reason="msoffcrypto-tool chưa cài")
    plain = make_xlsx(tmp_path / "plain.xlsx")
    p = tmp_path / "enc.xlsx"
    with open(plain, "rb") as src, open(p, "wb") as out:
        ooxml.OOXMLFile(src).encrypt("matkhau", out)
    assert p.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert sniff_kind(p) == "encrypted"
    refused("encrypted", "enc.xlsx", check_file, p)


def test_cfb_kinds(tmp_path):
    xls = tmp_path / "cu.xls"
    xls.write_bytes(build_cfb(["Workbook"]))
    assert sniff_kind(xls) == "xls"
    assert check_file(xls) == "xls"  # legacy .xls is for the caller to convert
    doc = tmp_path / "van-ban.xls"
    doc.write_bytes(build_cfb(["WordDocument"]))
    assert sniff_kind(doc) == "unknown"
    refused("not_spreadsheet", "van-ban.xls", check_file, doc)


# --------------------------------------------------------------------------- LibreOffice


@pytest.fixture(scope="module")
def lo_files(tmp_path_factory):
    """An .ods and an .xls made by LibreOffice from an xlsxwriter workbook (2 soffice runs)."""
    if not HAS_SOFFICE:
        pytest.skip("LibreOffice (soffice) chưa được cài")
    import subprocess
    import tempfile

    d = tmp_path_factory.mktemp("lo")
    src = make_xlsx(d / "mau.xlsx")
    out = {}
    for fmt in ("ods", "xls"):
        with tempfile.TemporaryDirectory() as prof:
            subprocess.run([convert.find_soffice(), "--headless",
                            "--norestore", f"-env:UserInstallation={Path(prof).as_uri()}",
                            "--convert-to", fmt, "--outdir", str(d), str(src)],
                           check=True, capture_output=True, timeout=120)
        out[fmt] = d / f"mau.{fmt}"
        assert out[fmt].is_file()
    return out


@needs_soffice
def test_ods_and_xls_sniffed(lo_files, tmp_path):
    assert sniff_kind(lo_files["ods"]) == "ods"
    assert check_file(lo_files["ods"]) == "ods"
    assert sniff_kind(lo_files["xls"]) == "xls"
    misnamed = tmp_path / "bao-cao.xlsx"  # an .xls saved with the wrong extension
    shutil.copy(lo_files["xls"], misnamed)
    assert check_file(misnamed) == "xls"


@needs_soffice
def test_convert_round_trip_concurrently(lo_files, tmp_path):
    out_dir = tmp_path / "out"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # separate profiles: no clash
        futs = [pool.submit(convert_with_libreoffice, lo_files[k], out_dir / k) for k in ("ods", "xls")]
        results = [f.result(timeout=180) for f in futs]
    for res in results:
        assert res.name == "mau.xlsx" and sniff_kind(res) == "xlsx"
        ws = openpyxl.load_workbook(res).active
        assert ws.title == "Dữ liệu"
        assert [c.value for c in ws[2]] == ["Hà Nội", 42]


def test_needs_libreoffice(tmp_path, monkeypatch):
    monkeypatch.setenv(convert.SOFFICE_ENV, str(tmp_path / "khong-co" / "soffice"))   # named, and not there
    p = tmp_path / "cu.xls"
    p.write_bytes(build_cfb(["Workbook"]))
    f = refused("needs_libreoffice", "cu.xls", convert_with_libreoffice, p, tmp_path)
    assert "Lưu thành (Save As)" in f.message


def test_libreoffice_is_found_where_windows_installs_it(tmp_path):
    """Its Windows installer adds nothing to PATH: Program Files, or Program Files (x86)."""
    x86 = tmp_path / "Program Files (x86)"
    exe = x86 / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"")
    env = {"PATH": str(tmp_path / "empty"), "ProgramFiles": str(tmp_path / "Program Files"), "ProgramFiles(x86)": str(x86)}
    assert convert.find_soffice(env, "win32") == str(exe)
    assert convert.find_soffice({**env, "ProgramFiles(x86)": ""}, "win32") is None
    # TRACKER_SOFFICE: the program, or its folder (LibreOffice's own, or the program folder in it)
    assert convert.find_soffice({**env, convert.SOFFICE_ENV: str(exe)}, "win32") == str(exe)
    assert convert.find_soffice({**env, convert.SOFFICE_ENV: str(x86 / "LibreOffice")}, "win32") == str(exe)
    assert convert.find_soffice({**env, convert.SOFFICE_ENV: str(tmp_path / "khac")}, "win32") is None


def _fake_soffice(tmp_path: Path, monkeypatch, body: str) -> Path:
    """A stand-in for LibreOffice, in Python, named by TRACKER_SOFFICE: a script on POSIX, a batch
    file that runs the script on Windows (as soffice.exe runs soffice.bin: a tree)."""
    import sys

    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "fake_soffice.py"
    script.write_text("import os, subprocess, sys, time\n" + body, encoding="utf-8")
    if os.name == "nt":
        exe = bindir / "soffice.bat"
        exe.write_text(f'@"{sys.executable}" "{script}" %*\r\n', encoding="ascii")
    else:
        exe = bindir / "soffice"
        exe.write_text(f"#!{sys.executable}\n" + script.read_text(encoding="utf-8"), encoding="utf-8")
        exe.chmod(0o755)
    monkeypatch.setenv(convert.SOFFICE_ENV, str(exe))
    return bindir


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_convert_timeout_kills_the_process_tree(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    _fake_soffice(tmp_path, monkeypatch, f"""
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open({str(pids)!r}, "w", encoding="ascii") as fh:
    fh.write(f"{{child.pid}} {{os.getpid()}}")
child.wait()
""")
    p = tmp_path / "cu.xls"
    p.write_bytes(build_cfb(["Workbook"]))
    start = time.perf_counter()
    f = refused("convert_failed", "cu.xls", convert_with_libreoffice, p, tmp_path / "o", timeout=3)
    assert time.perf_counter() - start < 10
    assert "quá 3 giây" in f.message
    assert pids.exists() and not any(_running(int(x)) for x in pids.read_text(encoding="ascii").split())


def test_convert_without_output(tmp_path, monkeypatch):
    _fake_soffice(tmp_path, monkeypatch, "sys.exit(0)\n")
    p = tmp_path / "cu.ods"
    p.write_bytes(b"not really")
    refused("convert_failed", "cu.ods", convert_with_libreoffice, p, tmp_path / "o")


def ods_linking_an_image(path: Path, url: str) -> Path:
    """A real .ods whose picture is not in the file but linked at `url` (a tracking pixel)."""
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Dữ liệu">
<table:shapes><draw:frame svg:width="3cm" svg:height="3cm" svg:x="1cm" svg:y="1cm">
<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>
</draw:frame></table:shapes>
<table:table-row><table:table-cell office:value-type="string"><text:p>Hà Nội</text:p></table:table-cell>
</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"""
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


@pytest.fixture
def listener():
    """A local HTTP server recording every request that reaches it: (base url, requests)."""
    import http.server
    import threading

    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@needs_soffice
def test_converting_an_untrusted_ods_fetches_nothing(tmp_path, listener):
    import subprocess
    import tempfile

    base, asked = listener
    ods = ods_linking_an_image(tmp_path / "tra-loi.ods", f"{base}/pixel.png")
    # The hazard: LibreOffice with a fresh profile of its own fetches the linked picture.
    with tempfile.TemporaryDirectory() as prof:
        subprocess.run([convert._soffice(), "--headless", "--norestore", f"-env:UserInstallation={Path(prof).as_uri()}",
                        "--convert-to", "xlsx", "--outdir", str(tmp_path / "plain"), str(ods)],
                       capture_output=True, timeout=180)
    if not asked:
        pytest.skip("this LibreOffice fetches no linked picture at all: nothing to guard against")
    asked.clear()
    # Ours: the profile's settings alone stop it (the proxy that does not exist), and so does the
    # network namespace where the system allows one; the file is converted all the same.
    for offline in (False, True):
        out = convert_with_libreoffice(ods, tmp_path / f"out-{offline}", offline=offline)
        assert openpyxl.load_workbook(out).active["A1"].value == "Hà Nội"
        assert asked == [], (offline, asked)


def test_the_profile_says_never_to_fetch_update_or_run(tmp_path):
    convert.write_profile(tmp_path / "profile")
    xcu = (tmp_path / "profile" / "user" / "registrymodifications.xcu").read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    oor = "{http://openoffice.org/2001/registry}"
    said = {(item.get(f"{oor}path"), prop.get(f"{oor}name")): prop.findtext("value")
            for item in ET.fromstring(xcu) for prop in item}
    assert said[("/org.openoffice.Inet/Settings", "ooInetProxyType")] == "1"
    assert said[("/org.openoffice.Inet/Settings", "ooInetNoProxy")] in (None, "")
    assert said[("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks")] == "true"
    assert said[("/org.openoffice.Office.Calc/Content/Update", "Link")] == "1"


# --------------------------------------------------------------------------- run_bounded


def _sleep(seconds):
    time.sleep(seconds)
    return "woke"


def _allocate(n_bytes):
    block = b"\x01" * n_bytes       # written to, so resident wherever memory is watched
    return len(block)


def _raise_intake(name):
    raise IntakeError(Finding("encrypted", file=name))


def _crash():
    raise ValueError("hỏng")


def _die():      # a crash in C code: an access violation, on every OS
    import ctypes

    ctypes.string_at(0)


def test_run_bounded_returns_result():
    assert run_bounded(_sleep, 0, timeout_s=10, memory_mb=300) == "woke"
    assert run_bounded(_allocate, 50 * MiB, timeout_s=10, memory_mb=300) == 50 * MiB


def test_run_bounded_timeout():
    start = time.perf_counter()
    f = refused("too_slow", "cham.xlsx", run_bounded, _sleep, 30, timeout_s=0.5, memory_mb=300,
                display_name="cham.xlsx")
    assert time.perf_counter() - start < 3
    assert "0,5" in f.message or "0.5" in f.message


def test_run_bounded_memory():
    start = time.perf_counter()
    refused("too_big", "lon.xlsx", run_bounded, _allocate, 2 * 1024 * MiB, timeout_s=20,
            memory_mb=300, display_name="lon.xlsx")
    assert time.perf_counter() - start < 5


def test_run_bounded_passes_intake_errors_and_wraps_others():
    f = refused("encrypted", "x.xlsx", run_bounded, _raise_intake, "x.xlsx", timeout_s=10, memory_mb=300)
    assert f == Finding("encrypted", file="x.xlsx")
    f = refused("read_failed", "y.xlsx", run_bounded, _crash, timeout_s=10, memory_mb=300,
                display_name="y.xlsx")
    assert "ValueError" in f.value
    refused("too_big", "z.xlsx", run_bounded, _die, timeout_s=10, memory_mb=300, display_name="z.xlsx")
