"""Geocoding addresses through geopy's Nominatim client (GEOCODER_* settings): spaces and the
addresses of organisations applying to list spaces use the same lookup."""

from __future__ import annotations

import logging

from flask import current_app
from geopy.adapters import URLLibAdapter
from geopy.geocoders import Nominatim

log = logging.getLogger(__name__)


def geocode_address(address: str) -> tuple[float, float] | None:
    """(latitude, longitude) of an address through the configured geocoder, or None.

    Never raises: a geocoder that is off, unreachable, slow or answering nonsense means None
    (logged), and the manager enters the coordinates by hand.
    """
    address = (address or "").strip()
    config = current_app.config
    if not address or config.get("GEOCODER", "none") != "nominatim":
        return None
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
            return None
        lat, lon = float(location.latitude), float(location.longitude)
    except Exception as exc:  # noqa: BLE001 - any failure of a remote service means "not found"
        log.warning("geocoding %r failed: %s: %s", address, type(exc).__name__, exc)
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        log.warning("geocoder gave an impossible point for %r: %s, %s", address, lat, lon)
        return None
    return lat, lon
