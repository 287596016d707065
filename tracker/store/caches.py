"""The checked template and registry, kept beside the campaign so that every command does not read them again.

Reading and checking a national registry, and parsing the template, were a large part of every
`merge`, `stats` and `report` start (benchmarks/README.md has the figures). Once read, the units are written
to `.tracker/units-cache.json` under the SHA-256 of units.csv and campaign.toml as they were
read, and the parsed template to `.tracker/campaign-cache.json` under the SHA-256 of
campaign.toml: any change to either file (staff add an email, the template changes) gives
another key, and the file is read and checked again. The template is checked again from its
cached form on every load (cheap); the registry is not. The caches are plain JSON (never
pickle: a campaign folder may sit on a shared drive), and a cache that cannot be read or written
is only a slower start.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from tracker.model.campaign import Campaign, campaign_from_data, load_campaign, parse_template
from tracker.model.registry import Product, Unit, load_registry

FORMAT = 3


def load_registry_cached(registry: Path, campaign_file: Path, campaign, cache: Path) -> list[Unit]:
    try:
        key = hashlib.sha256(registry.read_bytes() + b"\0" + campaign_file.read_bytes()).hexdigest()
    except OSError:
        return load_registry(registry, campaign)        # says what is wrong with the registry
    units = _read_units(cache, key)
    if units is not None:
        return units
    units = load_registry(registry, campaign)
    _write_units(cache, key, units)
    return units


def load_campaign_cached(campaign_file: Path, cache: Path) -> Campaign:
    try:
        raw = campaign_file.read_bytes()
    except OSError:
        return load_campaign(campaign_file)             # says what is wrong with the file
    key = hashlib.sha256(raw).hexdigest()
    data = _read_template(cache, key)
    if data is None:
        data = parse_template(raw, campaign_file)
        _write(cache, {"format": FORMAT, "key": key, "data": data})
    return campaign_from_data(data, campaign_file)


# ---------------------------------------------------------------------- the template
def _toml_value(value):
    """TOML dates and times, which JSON has not, as tagged objects."""
    for kind in (dt.datetime, dt.date, dt.time):      # datetime first: it is also a date
        if isinstance(value, kind):
            return {"$toml": kind.__name__, "iso": value.isoformat()}
    raise TypeError(type(value).__name__)


def _from_tagged(obj: dict):
    if len(obj) == 2 and "$toml" in obj and "iso" in obj:
        return {"datetime": dt.datetime, "date": dt.date, "time": dt.time}[obj["$toml"]].fromisoformat(obj["iso"])
    return obj


def _read_template(cache: Path, key: str) -> dict | None:
    try:
        doc = json.loads(cache.read_bytes(), object_hook=_from_tagged)
        if doc.get("format") != FORMAT or doc.get("key") != key or not isinstance(doc.get("data"), dict):
            return None
        return doc["data"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


# ---------------------------------------------------------------------- the registry
def _read_units(cache: Path, key: str) -> list[Unit] | None:
    try:
        doc = json.loads(cache.read_bytes())
        if doc.get("format") != FORMAT or doc.get("key") != key:
            return None
        # Texts that repeat (groups, kinds, sources, product names) are written once and shared:
        # one copy each in memory, and a smaller file to parse.
        same = doc["strings"]
        units = []
        for uid, group, name, kind, code, domain, email, phone, products, source, facts in doc["units"]:
            body, head, copies = facts
            units.append(Unit(uid, same[group], name, same[kind], code, domain, email, phone,
                              tuple(Product(pid, same[pkey], same[pname], same[pkind], uid)
                                    for pid, pkey, pname, pkind in products), same[source],
                              same[body], same[head], tuple(same[c] for c in copies)))
        return units
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


def _write_units(cache: Path, key: str, units: list[Unit]) -> None:
    strings: dict[str, int] = {}

    def ref(text: str) -> int:
        return strings.setdefault(text, len(strings))

    rows = [[u.id, ref(u.group), u.name, ref(u.kind), u.official_code, u.domain, u.email, u.phone,
             [[p.id, ref(p.key), ref(p.name), ref(p.kind)] for p in u.products], ref(u.source),
             [ref(u.governing_body), ref(u.head_title), [ref(c) for c in u.copies]]] for u in units]
    _write(cache, {"format": FORMAT, "key": key, "strings": list(strings), "units": rows})


def _write(cache: Path, doc: dict) -> None:
    from tracker.store.files import atomic_write_bytes

    try:
        atomic_write_bytes(cache, json.dumps(doc, ensure_ascii=False, default=_toml_value).encode(), durable=False)
    except (OSError, TypeError, ValueError):
        pass
