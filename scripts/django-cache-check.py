#!/usr/bin/env python3
"""Drives a QuorumKV cluster through Django's cache framework with django-redis, as a
Django site uses it for its cache and its sessions.

Each node's RESP port in turn is the cache's LOCATION; every check fails (non-zero exit,
with what differed) when the feature it covers breaks: set with a timeout, get, add,
delete, get_many/set_many, touch, ttl, has_key, delete_many, clear (FLUSHDB), keys that
expire (they are gone from every node), and a session stored in the cache.

    python3 scripts/django-cache-check.py --ports 6381,6382,6383 --database 21

The bucket (database) used must have w=all, so a value written through one node reads back
through any other at once. Integration test: Tests/IntegrationTests/DjangoCacheTests.swift.
"""
import argparse
import sys
import time

import django
from django.conf import settings

# Every request may take up to 20 s (the server's default is 2 s): with w=all a write waits
# for every replica, and the check must pass on a loaded machine.
SLOW_MACHINE_TIMEOUT_MS = 20000
# How long an expired key may take to disappear: its expiry, plus the wait for a write's
# copies on a loaded machine. Checked by polling, never by sleeping a fixed time.
EXPIRY_WAIT_SECONDS = 30


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def expect(actual, wanted, what):
    if actual != wanted:
        fail(f"{what}: got {actual!r}, wanted {wanted!r}")


def configure(ports, database):
    caches = {}
    for index, port in enumerate(ports):
        caches["default" if index == 0 else f"node{index + 1}"] = {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/{database}",
            "TIMEOUT": 300,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_TIMEOUT": 60,
                "SOCKET_CONNECT_TIMEOUT": 10,
                "CONNECTION_POOL_KWARGS": {"redis_connect_func": on_connect},
            },
        }
    settings.configure(
        CACHES=caches,
        INSTALLED_APPS=["django.contrib.sessions"],
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        SECRET_KEY="django-cache-check",
        USE_TZ=True,
    )
    django.setup()


def on_connect(connection):
    """redis-py's own handshake (HELLO, SELECT), then the long request timeout."""
    connection.on_connect()
    connection.send_command("CONSISTENCY", "TIMEOUT", str(SLOW_MACHINE_TIMEOUT_MS))
    reply = connection.read_response()
    expect(reply in (b"OK", "OK"), True, f"CONSISTENCY TIMEOUT on connect answered {reply!r}")


def wait_until(what, condition):
    deadline = time.monotonic() + EXPIRY_WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            fail(f"{what}: not within {EXPIRY_WAIT_SECONDS} s")
        time.sleep(0.05)


def check(aliases):
    from django.core.cache import caches

    first, others = caches[aliases[0]], [caches[alias] for alias in aliases[1:]]
    everyone = [first] + others

    first.clear()
    for cache in everyone:
        expect(cache.get("greeting"), None, "a key after clear()")

    # set with a timeout, get from every node, ttl
    first.set("greeting", {"text": "hello", "n": 1}, timeout=120)
    for cache in everyone:
        expect(cache.get("greeting"), {"text": "hello", "n": 1}, "get() of a pickled value through every node")
    ttl = first.ttl("greeting")
    expect(isinstance(ttl, int) and 100 <= ttl <= 120, True, f"ttl() right after set(timeout=120) is {ttl}")
    expect(first.has_key("greeting"), True, "has_key() of a key")
    expect(first.has_key("nobody"), False, "has_key() of no key")

    # add only creates
    expect(first.add("greeting", "other"), False, "add() over a key")
    expect(first.add("fresh", "new", timeout=120), True, "add() of a new key")
    expect(others[0].get("fresh"), "new", "the added value through another node")

    # timeout=None: no expiry; ttl() answers None
    first.set("forever", "stays", timeout=None)
    expect(first.ttl("forever"), None, "ttl() of a key set with timeout=None")

    # touch changes the expiry, and persists with None
    expect(first.touch("forever", 60), True, "touch() of a key")
    ttl = first.ttl("forever")
    expect(isinstance(ttl, int) and 40 <= ttl <= 60, True, f"ttl() after touch(60) is {ttl}")
    expect(first.touch("forever", None), True, "touch(None) of a key")
    expect(first.ttl("forever"), None, "ttl() after touch(None)")
    expect(first.touch("nobody", 60), False, "touch() of no key")

    # get_many / set_many (a MULTI/EXEC pipeline in django-redis) / delete_many
    first.set_many({"a": 1, "b": [2, 2], "c": "three"}, timeout=120)
    for cache in everyone:
        expect(cache.get_many(["a", "b", "c", "missing"]), {"a": 1, "b": [2, 2], "c": "three"}, "get_many()")
    expect(first.delete("a"), True, "delete() of a key")
    expect(first.delete("a"), False, "delete() of a deleted key")
    first.delete_many(["b", "c"])
    for cache in everyone:
        expect(cache.get_many(["a", "b", "c"]), {}, "get_many() after delete_many()")

    # keys expire, and are gone through every node
    first.set("short", "lived", timeout=1)
    first.set_many({"short1": 1, "short2": 2}, timeout=1)
    expect(first.get("short"), "lived", "a key with a 1 s timeout, at once")
    for cache in everyone:
        wait_until("a key set with timeout=1 is gone from every node", lambda cache=cache: cache.get("short") is None)
        wait_until("keys set_many(timeout=1) set are gone", lambda cache=cache: cache.get_many(["short1", "short2"]) == {})
    expect(first.ttl("short"), 0, "ttl() of an expired key (django-redis answers 0 for a key that does not exist)")
    expect(first.add("short", "again", timeout=120), True, "add() over an expired key")
    expect(others[-1].get("short"), "again", "the value added over an expired key")

    # a session in the cache
    from django.contrib.sessions.backends.cache import SessionStore

    session = SessionStore()
    session["user"] = "alice"
    session.set_expiry(300)
    session.save()
    expect(SessionStore(session_key=session.session_key).get("user"), "alice", "a cached session read back")
    session.delete()
    expect(SessionStore(session_key=session.session_key).get("user"), None, "a deleted session")

    # clear() is FLUSHDB: everything is gone from every node
    first.set("left", "over", timeout=None)
    first.clear()
    for cache in everyone:
        expect(cache.get_many(["left", "greeting", "fresh", "forever"]), {}, "get_many() after clear()")
    first.set("after", "clear")
    expect(others[0].get("after"), "clear", "a value written after clear()")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", required=True, help="RESP ports of the nodes, comma-separated")
    parser.add_argument("--database", type=int, default=21, help="database number: the bucket db<N> (must have w=all)")
    arguments = parser.parse_args()
    ports = [int(port) for port in arguments.ports.split(",")]
    configure(ports, arguments.database)
    check(["default"] + [f"node{index + 1}" for index in range(1, len(ports))])
    print(f"django cache check: ok (django {django.get_version()}, {len(ports)} nodes)")


if __name__ == "__main__":
    main()
