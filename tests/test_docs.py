"""The user guide stays true to the tool: its pictures are rendered by one script from real files,
every command it quotes exists, every merge message code is explained, the unit guide matches the
workbook's "Hướng dẫn" sheet; and every command's --help is Vietnamese with examples, or English."""
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracker.cli import choose_language, main, tree
from tracker.model import language

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDE = DOCS / "huong-dan.md"
UNIT_GUIDE = DOCS / "huong-dan-don-vi.md"
NO_LANG = {"TRACKER_LANG": None, "LANG": None}

sys.path.insert(0, str(ROOT / "tools"))
import guide_codes  # noqa: E402
import render_docs_images  # noqa: E402

can_render = shutil.which("soffice") or shutil.which("libreoffice")
if not (can_render and shutil.which("pdftoppm")) and os.environ.get("TRACKER_REQUIRE_SOFFICE"):
    raise RuntimeError("LibreOffice and poppler-utils are required by TRACKER_REQUIRE_SOFFICE=1")


def images_named(md: Path) -> set[str]:
    return set(re.findall(r"!\[[^\]]*\]\(img/([^)]+)\)", md.read_text(encoding="utf-8")))


@pytest.mark.skipif(not (can_render and shutil.which("pdftoppm")), reason="LibreOffice or poppler not installed")
def test_the_pictures_are_rendered_by_one_script(tmp_path):
    out = tmp_path / "img"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "render_docs_images.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    made = {p.name for p in out.glob("*.png")}
    assert made == {s.name for s in render_docs_images.SHOTS}
    # What is checked in is what the script makes (run it again when the forms change).
    assert {p.name for p in (DOCS / "img").glob("*.png")} == made
    for p in out.glob("*.png"):
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(data) < render_docs_images.MAX_BYTES


def test_every_picture_the_guides_show_is_made_by_the_script():
    shown = images_named(GUIDE) | images_named(UNIT_GUIDE)
    scripted = {s.name for s in render_docs_images.SHOTS}
    assert shown <= scripted
    assert scripted <= images_named(GUIDE)           # the guide shows every picture
    for name in shown:
        path = DOCS / "img" / name
        assert path.is_file() and path.stat().st_size < render_docs_images.MAX_BYTES


def quoted_commands(text: str) -> list[str]:
    """Every `tracker ...` command line in code blocks and inline code."""
    found = []
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for line in [ln for b in blocks for ln in b.splitlines()] + spans:
        for part in re.split(r"&&|;", line):
            part = re.split(r"\s[>|]\s", part.strip())[0]
            if part.startswith("tracker "):
                found.append(part)
    return found


def test_every_command_the_guides_quote_exists():
    readme = [c for c in quoted_commands((ROOT / "README.md").read_text(encoding="utf-8"))
              if "[" not in c]             # the README's synopsis lines hold placeholders
    commands = quoted_commands(GUIDE.read_text(encoding="utf-8")) + readme
    assert len(commands) > 30
    paths = set()
    for line in commands:
        args = shlex.split(line)[1:]
        result = CliRunner().invoke(main, args + ["--help"], env=NO_LANG)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        paths.add(tuple(a for a in args if not a.startswith("-"))[:1])
    # The guide walks through every step of a campaign.
    for cmd in ("demo", "init", "generate", "mail", "merge", "stats", "report", "missing", "verify"):
        assert (cmd,) in paths, cmd


def test_every_message_code_is_explained_in_the_guide():
    """The guide's table of codes is written from the registry (tools/guide_codes.py): every code,
    with its meaning and what to do; rewrite it when the registry changes."""
    from tracker.model.findings import CODES

    assert {"bad_answer", "formula_in_answer", "other_campaign", "empty", "email_no_workbook",
            "master_bad_answer", "stale", "verify_setup", "registry_bad_id", "mail_partial"} <= set(CODES)
    text = GUIDE.read_text(encoding="utf-8")
    assert guide_codes.written(text) == text, "run: python tools/guide_codes.py"
    missing = sorted(c for c in CODES if f"| `{c}` |" not in text)
    assert not missing, f"explain these codes in docs/huong-dan.md: {missing}"


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


def test_the_unit_guide_is_the_workbooks_guide_sheet():
    import openpyxl

    from tracker.model.campaign import builtin_path, load_campaign, template_path
    from tracker.model import ident
    from tracker.outbound.unit_form import build_unit_workbook
    from tracker.model.registry import load_registry

    campaign = load_campaign(template_path(None))
    units = load_registry(builtin_path(campaign.section("campaign")["registry"]), campaign)
    page = norm(UNIT_GUIDE.read_text(encoding="utf-8"))
    for unit in (units[0], units[-1]):
        sheet = openpyxl.load_workbook(io.BytesIO(build_unit_workbook(campaign, unit, b"k")))[ident.GUIDE_SHEET]
        steps = [row[1] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int) and row[1]]
        assert len(steps) >= 5
        for i, step in enumerate(steps, 1):
            assert f"{i}. {norm(step)}" in page, step
    assert norm(campaign.section("support")["phone"]) in page


def test_the_readme_quick_start():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start"):readme.index("\n## ", readme.index("## Quick start") + 5)]
    assert re.findall(r"```bash\n(.*?)\n```", quick, flags=re.S) == ["pip install . && tracker demo", "bash .ci/run"]
    assert "tracker init && tracker generate" in quick


# ------------------------------------------------------------------ --help in Vietnamese or English
def commands(lang: str = "vi"):
    """(path, command) of the whole tree built in `lang`."""
    language.use(lang)
    try:
        out = []

        def visit(cmd, path):
            out.append((path, cmd))
            if isinstance(cmd, click.Group):
                ctx = click.Context(cmd, info_name=cmd.name)
                for name in cmd.list_commands(ctx):
                    visit(cmd.get_command(ctx, name), f"{path} {name}".strip())
        visit(tree(), "")
        return out
    finally:
        language.use("vi")


def help_of(path: str, *, lang: str | None = None, env: dict | None = None) -> str:
    args = (["--lang", lang] if lang else []) + (path.split() if path else []) + ["--help"]
    result = CliRunner().invoke(main, args, env={**NO_LANG, **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_has_vietnamese_help_with_examples():
    for path, cmd in commands():
        text = help_of(path)
        assert "Ví dụ:" in text and "Cách dùng:" in text and "Tùy chọn:" in text, path
        assert "Hiện hướng dẫn này rồi thoát." in text and "Show this" not in text and "Usage" not in text, path


def test_every_command_and_option_has_an_english_help():
    vietnamese = {path: cmd for path, cmd in commands("vi")}
    for path, cmd in commands("en"):
        vi = {p.name: p for p in vietnamese[path].params}
        for p in cmd.params:
            if isinstance(p, click.Option) and p.help:
                assert p.help != vi[p.name].help, f"translate the help of {p.opts} of 'tracker {path}' (tools/catalogs.py)"
        text = help_of(path, lang="en")
        assert "Example:" in text and "Usage:" in text and "Show this message and exit." in text, path
        assert "Ví dụ" not in text and "Cách dùng" not in text and "Tùy chọn" not in text, path


def test_merge_help_in_english_and_back():
    english = help_of("merge", lang="en")
    assert "Merge what units send back" in english and "--received DATE" in english
    assert "[FILE_OR_FOLDER]..." in english and "-C, --campaign DIRECTORY" in english
    assert "stay in Vietnamese" in help_of("", lang="en")
    vietnamese = help_of("merge")
    assert "Ghép các tệp đơn vị gửi về" in vietnamese and "--received NGÀY" in vietnamese
    assert "[TỆP_HOẶC_THƯ_MỤC]..." in vietnamese and "-C, --campaign THƯ_MỤC" in vietnamese
    # The environment chooses too; --lang wins; TRACKER_LANG wins over LANG.
    assert "Merge what" in help_of("merge", env={"TRACKER_LANG": "en"})
    assert "Merge what" in help_of("merge", env={"LANG": "en_US.UTF-8"})
    assert "Ghép các tệp" in help_of("merge", env={"LANG": "vi_VN.UTF-8"})
    assert "Ghép các tệp" in help_of("merge", env={"LANG": "en_US.UTF-8", "TRACKER_LANG": "vi"})
    assert "Ghép các tệp" in help_of("merge", lang="vi", env={"TRACKER_LANG": "en"})


def test_messages_at_run_time_follow_the_language(tmp_path):
    result = CliRunner().invoke(main, ["--lang", "en", "stats", "-C", str(tmp_path / "none")], env=NO_LANG)
    assert result.exit_code == 1 and result.output.startswith("Error:")
    result = CliRunner().invoke(main, ["--lang", "en", "init", str(tmp_path / "c")], env=NO_LANG)
    assert result.exit_code == 0 and "Made the campaign hanoi-ttdt-2026" in result.output
    result = CliRunner().invoke(main, ["stats", "-C", str(tmp_path / "c"), "--as-of", "10/06/2026"], env=NO_LANG)
    assert "Khối lượng đủ điều kiện nghiệm thu: 0 / 138 sản phẩm" in result.output
    result = CliRunner().invoke(main, ["--lang", "en", "stats", "-C", str(tmp_path / "c"), "--as-of", "10/06/2026"],
                                env=NO_LANG)
    assert "Volume that can be accepted: 0 / 138 products" in result.output and "Khối lượng" not in result.output


def test_click_usage_errors_in_the_chosen_language():
    vi = CliRunner().invoke(main, ["stats", "--bogus"], env=NO_LANG)
    assert vi.exit_code == 2
    assert "Cách dùng: tracker stats [TÙY_CHỌN]" in vi.output and "Lỗi: Không có tùy chọn '--bogus'." in vi.output
    en = CliRunner().invoke(main, ["--lang", "en", "stats", "--bogus"], env=NO_LANG)
    assert en.exit_code == 2
    assert "Usage: tracker stats [OPTIONS]" in en.output and "Error: No such option '--bogus'." in en.output
    missing = CliRunner().invoke(main, ["--lang", "en", "nothing"], env=NO_LANG)
    assert missing.exit_code == 2 and "No such command 'nothing'." in missing.output


def test_choose_reads_only_the_options_before_the_command():
    assert choose_language(["--lang", "en", "merge"], {}) == "en"
    assert choose_language(["--lang=en"], {}) == "en"
    assert choose_language(["merge", "--lang", "en"], {}) == "vi"
    assert choose_language([], {"LANG": "C.UTF-8"}) == "vi"
    assert choose_language([], {"LANG": "en_GB.UTF-8"}) == "en"


def test_the_catalogs_are_up_to_date():
    """Every text of the code is in the English catalog and translated; click's texts in the Vietnamese
    one; each committed .mo is its .po compiled (run tools/catalogs.py after changing a text)."""
    catalogs = pytest.importorskip("catalogs", reason="Babel (test extras) is not installed")
    assert catalogs.problems(click_too=False) == []
    vi = catalogs.read("vi")
    for text in ("Usage:", "Options", "Commands", "Show this message and exit.", "Error: {message}",
                 "No such option {name!r}.", "Try '{command} {option}' for help."):
        assert text in vi and vi[text].string, text


def test_the_guides_are_nfc():
    for path in (GUIDE, UNIT_GUIDE):
        text = path.read_text(encoding="utf-8")
        assert text == unicodedata.normalize("NFC", text), path
