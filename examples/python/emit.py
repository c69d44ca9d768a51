#!/usr/bin/env python3
"""Emit an event through the forrealtime gateway and read the channel's history, with the
standard library only.

    FORREALTIME_URL=http://127.0.0.1:8787 python3 examples/python/emit.py chat '{"user":"py","text":"hi"}'

FORREALTIME_EMIT_TOKEN, when set, goes in `Authorization: Bearer`. The Idempotency-Key lets
a retry after a lost answer store the event once (on a gateway that honours it).
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

GATEWAY = os.environ.get("FORREALTIME_URL", "http://127.0.0.1:8787").rstrip("/")


def request(method, path, body=None, headers=None):
    headers = dict(headers or {})
    token = os.environ.get("FORREALTIME_EMIT_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(GATEWAY + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)


def emit(channel, event, data):
    """Stores one event; returns its id."""
    key = str(uuid.uuid4())
    for attempt in range(5):
        try:
            return request("POST", "/api/emit", {"channel": channel, "event": event, "data": data},
                           {"Idempotency-Key": key})["id"]
        except urllib.error.HTTPError as e:
            if e.code not in (503, 504) or attempt == 4:
                raise


def history(channel, limit=20):
    q = urllib.parse.urlencode({"channel": channel, "limit": limit})
    return request("GET", f"/api/history?{q}")


if __name__ == "__main__":
    channel = sys.argv[1] if len(sys.argv) > 1 else "chat"
    data = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {"user": "python", "text": "hello"}
    event_id = emit(channel, "chat.message", data)
    stored = [m for m in history(channel, 1000) if m["id"] == event_id]
    assert stored and stored[0]["data"] == data, "the event is not in the history"
    print(event_id)
