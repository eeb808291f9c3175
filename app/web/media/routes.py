"""`/media/<key>`: a stored file, streamed from the storage (a local folder or an S3 bucket)
through the app, so pages need no other origin in their Content-Security-Policy and the
bucket can stay private.

Keys are content-addressed, so every answer may be cached for a year by browsers and any CDN
in front; the key itself is the ETag. Files are public to whoever has the key, as the pages of
published spaces show them to everyone.
"""

from __future__ import annotations

from flask import Response, abort, request

from app.media.storage import CACHE_CONTROL, storage, valid_key
from app.web.media import bp


@bp.get("/media/<path:key>")
def file(key: str):
    if not valid_key(key):
        abort(404)
    etag = f'"{key}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:
        stored = storage().get(key)
        if stored is None:
            abort(404)
        response = Response(stored.chunks, mimetype=stored.content_type, direct_passthrough=True)
        if stored.length is not None:
            response.content_length = stored.length
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["ETag"] = etag
    return response
