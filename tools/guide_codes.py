"""Write the user guide's table of message codes from the findings registry.

    python tools/guide_codes.py            # rewrite docs/huong-dan.md between the markers
    python tools/guide_codes.py --check    # exit 1 when the guide and the registry differ

The registry (tracker/model/findings.py) declares every code once; the guide shows each, grouped as
the registry groups them, with its severity, what it means and what to do. tests/test_docs.py fails
when the guide was not rewritten after the registry changed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "huong-dan.md"
BEGIN = "<!-- codes: begin (tools/guide_codes.py writes this part from tracker/model/findings.py; do not edit) -->"
END = "<!-- codes: end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    """The tables, in Vietnamese (the guide's language)."""
    sys.path.insert(0, str(ROOT))
    from tracker.model.findings import CODES, GROUPS, SEVERITY_TITLE
    from tracker.model.language import in_language

    def vi(text: str) -> str:
        return in_language("vi", text) if text else ""

    out = []
    for group, (heading, when) in GROUPS.items():
        codes = [c for c in CODES.values() if c.group == group]
        out += [f"**{vi(heading)}** ({vi(when)}):", "", "| Mã | Mức độ | Lời báo nói | Việc cần làm |",
                "| --- | --- | --- | --- |"]
        for c in codes:
            todo = " ".join(vi(t) for t in (c.unit, c.staff) if t) or "không cần làm gì"
            cases = {}
            for v in c.variants.values():           # a case whose advice differs says its own
                if v.title and (v.unit, v.staff) != (None, None):
                    cases.setdefault(vi(v.title), " ".join(vi(t) for t in (
                        c.unit if v.unit is None else v.unit, c.staff if v.staff is None else v.staff) if t))
            todo += "".join(f" {title[:1].upper()}{title[1:]}: {advice}" for title, advice in cases.items())
            out.append(f"| `{c.code}` | {vi(SEVERITY_TITLE[c.severity])} | {_cell(vi(c.title))} | {_cell(todo)} |")
        out.append("")
    return "\n".join(out).rstrip("\n")


def written(text: str) -> str:
    """`text` (the guide) with the part between the markers rewritten."""
    head, sep, rest = text.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"{GUIDE}: markers not found ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only say whether the guide is up to date")
    args = ap.parse_args()
    text = GUIDE.read_text(encoding="utf-8")
    new = written(text)
    if args.check:
        sys.exit(0 if new == text else 1)
    if new != text:
        GUIDE.write_text(new, encoding="utf-8")
        print(f"{GUIDE.relative_to(ROOT)}: table of codes rewritten")


if __name__ == "__main__":
    main()
