"""Geocoding addresses through geopy's Nominatim client (GEOCODER_* settings): spaces and the
addresses of organisations applying to list spaces use the same lookup."""

from __future__ import annotations

import logging

from flask import current_app
from geopy.adapters import URLLibAdapter
from geopy.geocoders import Nominatim

log = logging.getLogger(__name__)


CACHE_SIZE = 512


def geocode_address(address: str) -> tuple[float, float] | None:
    """(latitude, longitude) of an address through the configured geocoder, or None.

    Never raises: a geocoder that is off, unreachable, slow or answering nonsense means None
    (logged), and the manager enters the coordinates by hand.
    """
    return _geocode(address)[0]


def cached_place(text: str) -> tuple[bool, tuple[float, float] | None]:
    """(known, point) of a place name already looked up by `geocode_place` in this process."""
    cache = current_app.extensions.setdefault("geocode_cache", {})
    key = (current_app.config.get("GEOCODER_DOMAIN"), text.strip())
    if key in cache:
        return True, cache[key]
    return False, None


def geocode_place(text: str) -> tuple[float, float] | None:
    """Like `geocode_address`, for place names people search for ("미아역"): answers (found
    or not) are kept in a small per-process cache, failures are not."""
    point, failed = _geocode(text)
    if not failed:
        cache = current_app.extensions.setdefault("geocode_cache", {})
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[(current_app.config.get("GEOCODER_DOMAIN"), text.strip())] = point
    return point


def _geocode(address: str) -> tuple[tuple[float, float] | None, bool]:
    """(point or None, whether the geocoder failed rather than found nothing)."""
    address = (address or "").strip()
    config = current_app.config
    if not address or config.get("GEOCODER", "none") != "nominatim":
        return None, False
    geocoder = Nominatim(
        domain=config["GEOCODER_DOMAIN"],
        scheme=config["GEOCODER_SCHEME"],
        timeout=config["GEOCODER_TIMEOUT"],
        user_agent=config["GEOCODER_USER_AGENT"],
        # The standard library's client, so tests and production speak HTTP the same way.
        adapter_factory=URLLibAdapter,
    )
    try:
        location = geocoder.geocode(address, exactly_one=True)
        if location is None:
            log.info("geocoder found nothing for %r", address)
            return None, False
        lat, lon = float(location.latitude), float(location.longitude)
    except Exception as exc:  # noqa: BLE001 - any failure of a remote service means "not found"
        log.warning("geocoding %r failed: %s: %s", address, type(exc).__name__, exc)
        return None, True
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        log.warning("geocoder gave an impossible point for %r: %s, %s", address, lat, lon)
        return None, True
    return (lat, lon), False
