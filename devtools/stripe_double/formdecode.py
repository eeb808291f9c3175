"""Decode Stripe's form-encoded bodies (``a[b][c]=v``, ``items[0][x]=v``, ``expand[]=v``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _to_lists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _to_lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def decode(raw: str | bytes) -> dict[str, Any]:
    """Turn a form/query string into nested dicts and lists of strings."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        match = _KEY.match(key)
        if not match:
            root[key] = value
            continue
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # a[] -> append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _to_lists(root)
