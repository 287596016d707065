"""The checked registry is reused only while units.csv and campaign.toml are the very bytes checked."""
from __future__ import annotations

import json

import pytest

from tracker.model.errors import TrackerError
from tracker.model.registry import load_registry
from tracker.store.workspace import Workspace


def fresh(ws) -> Workspace:
    return Workspace(ws.root)        # a new command: nothing loaded yet


def test_the_cached_units_are_the_checked_units(ws):
    first = fresh(ws).units
    assert (ws.state / "units-cache.json").is_file()
    assert fresh(ws).units == first == load_registry(ws.registry_file, ws.campaign)


def test_an_edited_registry_is_read_and_checked_again(ws):
    fresh(ws).units
    text = ws.registry_file.read_text(encoding="utf-8-sig")
    unit = fresh(ws).units[0]
    ws.registry_file.write_text(text.replace(unit.name, unit.name + " mới", 1), encoding="utf-8")
    assert fresh(ws).units[0].name == unit.name + " mới"
    ws.registry_file.write_text(text.replace(f"\n{unit.id},", "\nSAI MÃ,", 1), encoding="utf-8")
    with pytest.raises(TrackerError) as e:
        fresh(ws).units
    assert "SAI MÃ" in "\n".join([str(e.value), *e.value.details])


def test_a_changed_template_is_a_new_key(ws):
    fresh(ws).units
    before = (ws.state / "units-cache.json").read_text(encoding="utf-8")
    ws.campaign_file.write_bytes(ws.campaign_file.read_bytes() + b"\n# ghi chu\n")
    fresh(ws).units
    assert (ws.state / "units-cache.json").read_text(encoding="utf-8") != before


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": 1, "key": 1, "units": [[1]]}', b"[]"])
def test_a_damaged_cache_is_only_a_slower_start(ws, damage):
    good = fresh(ws).units
    cache = ws.state / "units-cache.json"
    cache.write_bytes(damage)
    assert fresh(ws).units == good
    # It was written again, whole: the next command reads it as it is and leaves it alone.
    written = cache.read_bytes()
    assert written != damage and len(json.loads(written)["units"]) == len(good)
    stamp = cache.stat().st_mtime_ns
    assert fresh(ws).units == good
    assert cache.read_bytes() == written and cache.stat().st_mtime_ns == stamp


# ---------------------------------------------------------------------- the template
def test_the_cached_template_is_the_parsed_template(ws):
    from tracker.model.campaign import load_campaign

    first = fresh(ws).campaign
    assert (ws.state / "campaign-cache.json").is_file()
    again = fresh(ws).campaign
    direct = load_campaign(ws.campaign_file)
    assert again == first == direct and again.data == direct.data
    assert again.groups[0].texts == direct.groups[0].texts


def test_toml_dates_and_times_come_back_as_they_were(ws):
    import datetime as dt

    ws.campaign_file.write_bytes(ws.campaign_file.read_bytes() + b'\n[extra]\nday = 2026-06-04\n'
                                 b'at = 2026-06-04T08:30:00\nclock = 07:15:00\nnan = nan\n')
    first = fresh(ws).campaign.section("extra")
    again = fresh(ws).campaign.section("extra")
    assert again["day"] == dt.date(2026, 6, 4) and type(again["day"]) is dt.date
    assert again["at"] == dt.datetime(2026, 6, 4, 8, 30) and again["clock"] == dt.time(7, 15)
    assert again["nan"] != again["nan"] and first["day"] == again["day"]


def test_an_edited_template_is_parsed_and_checked_again(ws):
    fresh(ws).campaign
    text = ws.campaign_file.read_text(encoding="utf-8")
    ws.campaign_file.write_text(text.replace('[answers]', '[answers]\n# sửa\n', 1), encoding="utf-8")
    assert fresh(ws).campaign.answers == ws.campaign.answers
    ws.campaign_file.write_bytes(b"[campaign]\nid = \n")
    with pytest.raises(TrackerError) as e:
        fresh(ws).campaign
    assert "campaign.toml" in str(e.value) and "TOML" in str(e.value)
    ws.campaign_file.write_bytes(text.encode("utf-16"))
    with pytest.raises(TrackerError) as e:
        fresh(ws).campaign
    assert "UTF-8" in str(e.value)


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": 2, "key": 1, "data": []}', b"[]",
                                    b'{"format": 2, "key": "x", "data": {"$toml": "day", "iso": 1}}'])
def test_a_damaged_template_cache_is_only_a_slower_start(ws, damage):
    good = fresh(ws).campaign
    (ws.state / "campaign-cache.json").write_bytes(damage)
    assert fresh(ws).campaign == good
    assert fresh(ws).campaign.data == good.data
