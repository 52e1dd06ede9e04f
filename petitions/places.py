"""Postcode to region: the longest matching prefix of the country's postcode table."""

from __future__ import annotations

import re
import time

from django.core.cache import cache

from petitions.models import PostcodePrefix, Region

_CLEAN = re.compile(r"[^0-9A-Z]")
CACHE_SECONDS = 3600


def clean_postcode(postcode: str) -> str:
    return _CLEAN.sub("", postcode.upper())


# Per process, for a minute: every signature looks its postcode up, and unpickling the
# table from the shared cache on each request would cost more than the lookup itself.
_local: dict[str, tuple[float, dict[str, int]]] = {}
LOCAL_SECONDS = 60.0


def _prefixes(country: str) -> dict[str, int]:
    """{prefix: region id} for one country, cached: the table changes only when loaded."""
    now = time.monotonic()
    held = _local.get(country)
    if held is not None and held[0] > now:
        return held[1]
    key = f"agora:postcode-prefixes:{country}"
    table: dict[str, int] | None = cache.get(key)
    if table is None:
        table = dict(
            PostcodePrefix.objects.filter(country_id=country).values_list("prefix", "region_id")
        )
        cache.set(key, table, CACHE_SECONDS)
    _local[country] = (now + LOCAL_SECONDS, table)
    return table


def forget_prefixes(country: str | None = None) -> None:
    """Drop the cached tables (of one country, or all from this process)."""
    if country is None:
        _local.clear()
        return
    _local.pop(country, None)
    cache.delete(f"agora:postcode-prefixes:{country}")


def region_id_for(country: str, postcode: str) -> int | None:
    """The finest region the postcode lies in, or None when it is unknown."""
    code = clean_postcode(postcode)
    table = _prefixes(country)
    for length in range(len(code), 0, -1):
        region_id = table.get(code[:length])
        if region_id is not None:
            return region_id
    return None


def ancestors(region_ids: set[int]) -> dict[int, list[int]]:
    """{region id: [itself, its parent, its grandparent...]} for the given regions."""
    parents = dict(Region.objects.values_list("id", "parent_id"))
    chains: dict[int, list[int]] = {}
    for region_id in region_ids:
        chain = [region_id]
        while (parent := parents.get(chain[-1])) is not None and parent not in chain:
            chain.append(parent)
        chains[region_id] = chain
    return chains
