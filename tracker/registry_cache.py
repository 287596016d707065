"""The checked registry, kept beside the campaign so that every command does not check it again.

A national registry (3,321 units) takes about 0.1 s to read and check, which every `merge`,
`stats` and `report` paid. Once checked, the units are written to `.tracker/units-cache.json`
under the SHA-256 of units.csv and campaign.toml as they were read: any change to either file
(staff add an email, the template changes) gives another key, and the registry is read and
checked again. The cache is plain JSON (never pickle: a campaign folder may sit on a shared
drive), and a cache that cannot be read or written is only a slower start.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tracker.registry import Product, Unit, load_registry

FORMAT = 1


def load_registry_cached(registry: Path, campaign_file: Path, campaign, cache: Path) -> list[Unit]:
    try:
        key = hashlib.sha256(registry.read_bytes() + b"\0" + campaign_file.read_bytes()).hexdigest()
    except OSError:
        return load_registry(registry, campaign)        # says what is wrong with the registry
    units = _read(cache, key)
    if units is not None:
        return units
    units = load_registry(registry, campaign)
    _write(cache, key, units)
    return units


def _read(cache: Path, key: str) -> list[Unit] | None:
    try:
        doc = json.loads(cache.read_bytes())
        if doc.get("format") != FORMAT or doc.get("key") != key:
            return None
        same: dict = {}      # one copy of each repeated text (groups, kinds, sources): flat memory
        one = same.setdefault
        units = []
        for *fields, products, source in doc["units"]:
            uid = fields[0]
            units.append(Unit(*(one(f, f) for f in fields), source=one(source, source),
                              products=tuple(Product(p[0], one(p[1], p[1]), p[2], one(p[3], p[3]), uid)
                                             for p in products)))
        return units
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _write(cache: Path, key: str, units: list[Unit]) -> None:
    from tracker.workspace import atomic_write_bytes

    doc = {"format": FORMAT, "key": key, "units": [
        [u.id, u.group, u.name, u.kind, u.official_code, u.domain, u.email, u.phone,
         [[p.id, p.key, p.name, p.kind, p.unit_id] for p in u.products], u.source] for u in units]}
    try:
        atomic_write_bytes(cache, json.dumps(doc, ensure_ascii=False).encode(), durable=False)
    except OSError:
        pass
