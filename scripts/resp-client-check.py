#!/usr/bin/env python3
"""Drives a QuorumKV cluster's RESP ports with redis-py the way applications do.

Runs the same checks four times: the sync and the asyncio client, each with RESP2 and
RESP3, each in its own database (bucket) so key counts are exact. Every check fails
(non-zero exit, with what differed) when the feature it covers breaks.

    python3 scripts/resp-client-check.py --ports 6381,6382,6383 --databases 11,12,13,14

The buckets used must have w=all (`PUT /buckets/db11/props {"w": "all"}`): SCAN, KEYS
and DBSIZE read each partition at one replica, so a key is listed at once only when
every replica acknowledged it. Integration test: Tests/IntegrationTests/RESPSurfaceTests.swift.
"""
import argparse
import asyncio
import sys
import time

import redis
import redis.asyncio


# Every connection's requests may take up to 20 s (the server's default is 2 s): with w=all
# a write waits for every replica, and the check must pass on a loaded machine.
SLOW_MACHINE_TIMEOUT = ["CONSISTENCY", "TIMEOUT", "20000"]


def on_connect(connection):
    """redis-py's own handshake (HELLO, CLIENT SETINFO, SELECT), then the timeout."""
    connection.on_connect()
    connection.send_command(*SLOW_MACHINE_TIMEOUT)
    expect(text(connection.read_response()), "OK", "CONSISTENCY TIMEOUT on connect")


async def on_connect_async(connection):
    await connection.on_connect()
    await connection.send_command(*SLOW_MACHINE_TIMEOUT)
    expect(text(await connection.read_response()), "OK", "CONSISTENCY TIMEOUT on connect")


def sync_client(port, database, protocol):
    return redis.Redis(
        host="127.0.0.1", port=port, db=database, protocol=protocol, socket_timeout=60, redis_connect_func=on_connect)


def async_client(port, database, protocol):
    return redis.asyncio.Redis(
        host="127.0.0.1", port=port, db=database, protocol=protocol, socket_timeout=60,
        redis_connect_func=on_connect_async)


def text(value):
    """Replies as str, whichever protocol or parser produced them."""
    if isinstance(value, bytes):
        return value.decode()
    return value


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_error(call, prefix, what):
    try:
        result = call()
    except redis.ResponseError as error:
        if not str(error).startswith(prefix):
            raise AssertionError(f"{what}: expected an error starting {prefix!r}, got {error!r}")
        return
    raise AssertionError(f"{what}: expected an error starting {prefix!r}, got the reply {result!r}")


async def expect_error_async(call, prefix, what):
    try:
        result = await call()
    except redis.ResponseError as error:
        if not str(error).startswith(prefix):
            raise AssertionError(f"{what}: expected an error starting {prefix!r}, got {error!r}")
        return
    raise AssertionError(f"{what}: expected an error starting {prefix!r}, got the reply {result!r}")


def check_handshake(client_info, info, keyspace_name, protocol, config, command_table, docs, client_list, now, what):
    expect(client_info.get("resp"), str(protocol), f"{what}: CLIENT INFO resp")
    expect(client_info.get("name"), "checker", f"{what}: CLIENT INFO name after CLIENT SETNAME")
    expect(info.get("redis_version"), "7.0.0", f"{what}: INFO redis_version")
    expect(config, {"maxmemory": "0", "maxmemory-policy": "noeviction"}, f"{what}: CONFIG GET maxmemory*")
    expect(command_table["get"]["acl_categories"] in ({"@read"}, ["@read"], [b"@read"]), True, f"{what}: COMMAND get category")
    expect(sorted(command_table["set"]["flags"]), ["denyoom", "write"], f"{what}: COMMAND set flags")
    # COMMAND DOCS get: {get: {summary: …}} as a RESP3 map, [get, [summary, …]] in RESP2.
    if isinstance(docs, dict):
        fields = {text(key): value for key, value in {text(key): value for key, value in docs.items()}["get"].items()}
    else:
        flat = docs[1]
        fields = {text(flat[index]): flat[index + 1] for index in range(0, len(flat), 2)}
    summary = text(fields["summary"])
    expect(summary, "Returns the value of a key, or nil.", f"{what}: COMMAND DOCS get summary")
    expect(any(entry.get("name") == "checker" for entry in client_list), True, f"{what}: CLIENT LIST lists this client")
    seconds, micros = now
    expect(abs(seconds - time.time()) < 120 and 0 <= micros < 1_000_000, True, f"{what}: TIME {now}")


def run_sync(ports, database, protocol):
    what = f"sync RESP{protocol} db{database}"
    prefix = f"s{protocol}:"
    first = sync_client(ports[0], database, protocol)
    second = sync_client(ports[1], database, protocol)
    third = sync_client(ports[2], database, protocol)
    # A database left from an earlier run is emptied first (there is no FLUSHDB yet).
    for key in list(first.scan_iter(count=1000)):
        first.delete(key)
    live = set()

    # Handshake and introspection (redis-py sent HELLO 3 for RESP3, CLIENT SETINFO and SELECT on connect).
    expect(first.ping(), True, f"{what}: PING")
    shown = [text(item) for item in first.execute_command("CONSISTENCY")]
    expect(dict(zip(shown[0::2], shown[1::2])).get("timeout"), "20000", f"{what}: the connection's timeout")
    expect(text(first.echo("hi")), "hi", f"{what}: ECHO")
    expect(first.client_setname("checker"), True, f"{what}: CLIENT SETNAME")
    expect(text(first.client_getname()), "checker", f"{what}: CLIENT GETNAME")
    expect(isinstance(first.client_id(), int), True, f"{what}: CLIENT ID")
    check_handshake(
        first.client_info(), first.info(), f"db{database}", protocol, first.config_get("maxmemory*"), first.command(),
        first.execute_command("COMMAND DOCS", "get"), first.client_list(), first.time(), what)
    expect(first.command_count() >= 30, True, f"{what}: COMMAND COUNT")

    # Set, get, delete across nodes; SET XX/GET, GETSET, GETDEL.
    expect(first.set(prefix + "a", "1"), True, f"{what}: SET")
    expect(second.get(prefix + "a"), b"1", f"{what}: GET from another node")
    expect(first.set(prefix + "a", "2", xx=True), True, f"{what}: SET XX on a held key")
    expect(first.set(prefix + "absent", "x", xx=True), None, f"{what}: SET XX on an absent key")
    expect(first.set(prefix + "a", "3", get=True), b"2", f"{what}: SET GET")
    expect(first.getset(prefix + "a", "4"), b"3", f"{what}: GETSET")
    expect(third.getdel(prefix + "a"), b"4", f"{what}: GETDEL")
    expect(second.get(prefix + "a"), None, f"{what}: GET after GETDEL")
    expect(first.set(prefix + "nx", "1", nx=True), True, f"{what}: SET NX")
    expect(first.set(prefix + "nx", "2", nx=True), None, f"{what}: SET NX on a held key")
    live.add(prefix + "nx")
    expect(first.mset({prefix + "b": "bee", prefix + "c": b"\x00\xff"}), True, f"{what}: MSET")
    live |= {prefix + "b", prefix + "c"}
    expect(first.delete(prefix + "nx", prefix + "never"), 1, f"{what}: DEL")
    live.discard(prefix + "nx")
    expect(first.unlink(prefix + "never"), 0, f"{what}: UNLINK of an absent key")

    # EXISTS (duplicates count), TYPE, STRLEN.
    expect(second.exists(prefix + "b", prefix + "b", prefix + "never", prefix + "c"), 3, f"{what}: EXISTS")
    expect(text(second.type(prefix + "b")), "string", f"{what}: TYPE of a held key")
    expect(text(second.type(prefix + "never")), "none", f"{what}: TYPE of an absent key")
    expect(third.strlen(prefix + "b"), 3, f"{what}: STRLEN")
    expect(third.strlen(prefix + "never"), 0, f"{what}: STRLEN of an absent key")

    # Pipelines: without a transaction, and with one (MULTI/EXEC, as django-redis set_many sends).
    plain = first.pipeline(transaction=False)
    for index in range(50):
        plain.set(f"{prefix}p:{index}", index)
        plain.get(f"{prefix}p:{index}")
    results = plain.execute()
    expect(results[0::2], [True] * 50, f"{what}: pipeline SET replies")
    expect(results[1::2], [str(index).encode() for index in range(50)], f"{what}: pipeline GET replies")
    live |= {f"{prefix}p:{index}" for index in range(50)}
    batch = first.pipeline(transaction=True)
    batch.set(prefix + "t:1", "one").get(prefix + "t:1").set(prefix + "t:2", "two").exists(prefix + "t:1", prefix + "t:2")
    batch.getset(prefix + "t:1", "uno").strlen(prefix + "t:2")
    expect(batch.execute(), [True, b"one", True, 2, b"one", 3], f"{what}: MULTI/EXEC pipeline")
    live |= {prefix + "t:1", prefix + "t:2"}
    expect(second.get(prefix + "t:1"), b"uno", f"{what}: GET after EXEC")

    # Key space: SCAN (decimal cursors, MATCH, COUNT), KEYS, DBSIZE, INFO keyspace, WAIT.
    for index in range(120):
        first.set(f"{prefix}s:{index}", "v")
    live |= {f"{prefix}s:{index}" for index in range(120)}
    scanned = [text(key) for key in second.scan_iter(match=prefix + "s:*", count=25)]
    expect(len(scanned) >= 120 and set(scanned) == {f"{prefix}s:{index}" for index in range(120)}, True,
           f"{what}: SCAN MATCH found {len(set(scanned))} of 120 keys")
    everything = {text(key) for key in third.scan_iter(count=1000)}
    expect(everything, live, f"{what}: SCAN of the whole database")
    cursor, page = first.scan(0, count=5)
    expect(isinstance(cursor, int) and cursor > 0 and len(page) <= 5, True, f"{what}: SCAN page and cursor {cursor}")
    expect(sorted(text(key) for key in first.keys(prefix + "s:1?")), sorted(f"{prefix}s:{index}" for index in range(10, 20)),
           f"{what}: KEYS")
    expect(sorted(text(key) for key in first.keys(prefix + "[bc]")), [prefix + "b", prefix + "c"], f"{what}: KEYS with a set")
    expect(second.dbsize(), len(live), f"{what}: DBSIZE")
    keyspace = first.info("keyspace")
    expect(keyspace.get(f"db{database}", {}).get("keys"), len(live), f"{what}: INFO keyspace {keyspace}")
    expect(first.wait(2, 100), 2, f"{what}: WAIT in a w=all bucket")

    # Refused commands say why.
    expect_error(lambda: first.rename(prefix + "b", prefix + "z"), "NOTSUPPORTED RENAME", f"{what}: RENAME")
    expect_error(lambda: first.eval("return 1", 0), "NOTSUPPORTED EVAL", f"{what}: EVAL")
    expect_error(lambda: first.append(prefix + "n", "x"), "NOTSUPPORTED APPEND", f"{what}: APPEND")
    # INCR needs a counter bucket: on plain values it is the wrong type (resp-types-check.py covers counters).
    expect_error(lambda: first.incr(prefix + "n"), "WRONGTYPE", f"{what}: INCR on plain values")
    with first.pipeline() as watched:
        expect_error(lambda: watched.watch(prefix + "b"), "NOTSUPPORTED WATCH", f"{what}: WATCH")
    for client in (first, second, third):
        client.close()
    return what


async def run_async(ports, database, protocol):
    what = f"asyncio RESP{protocol} db{database}"
    prefix = f"a{protocol}:"
    first = async_client(ports[0], database, protocol)
    second = async_client(ports[1], database, protocol)
    for key in [key async for key in first.scan_iter(count=1000)]:
        await first.delete(key)
    live = set()

    expect(await first.ping(), True, f"{what}: PING")
    shown = [text(item) for item in await first.execute_command("CONSISTENCY")]
    expect(dict(zip(shown[0::2], shown[1::2])).get("timeout"), "20000", f"{what}: the connection's timeout")
    expect(await first.client_setname("checker"), True, f"{what}: CLIENT SETNAME")
    check_handshake(
        await first.client_info(), await first.info(), f"db{database}", protocol, await first.config_get("maxmemory*"),
        await first.command(), await first.execute_command("COMMAND DOCS", "get"), await first.client_list(),
        await first.time(), what)

    expect(await first.set(prefix + "a", "1"), True, f"{what}: SET")
    expect(await second.get(prefix + "a"), b"1", f"{what}: GET from another node")
    expect(await first.set(prefix + "a", "2", xx=True, get=True), b"1", f"{what}: SET XX GET")
    expect(await second.getdel(prefix + "a"), b"2", f"{what}: GETDEL")
    expect(await first.get(prefix + "a"), None, f"{what}: GET after GETDEL")
    expect(await first.mset({prefix + "b": "bee", prefix + "c": "sea"}), True, f"{what}: MSET")
    live |= {prefix + "b", prefix + "c"}
    expect(await second.exists(prefix + "b", prefix + "b", prefix + "never"), 2, f"{what}: EXISTS")
    expect(text(await second.type(prefix + "c")), "string", f"{what}: TYPE")
    expect(await second.strlen(prefix + "c"), 3, f"{what}: STRLEN")
    expect(await first.delete(prefix + "c"), 1, f"{what}: DEL")
    live.discard(prefix + "c")

    plain = first.pipeline(transaction=False)
    for index in range(30):
        plain.set(f"{prefix}p:{index}", index)
    expect(await plain.execute(), [True] * 30, f"{what}: pipeline")
    live |= {f"{prefix}p:{index}" for index in range(30)}
    batch = first.pipeline(transaction=True)
    batch.set(prefix + "t", "one").get(prefix + "t").getset(prefix + "t", "two")
    expect(await batch.execute(), [True, b"one", b"one"], f"{what}: MULTI/EXEC pipeline")
    live.add(prefix + "t")

    scanned = {text(key) async for key in second.scan_iter(match=prefix + "p:*", count=7)}
    expect(scanned, {f"{prefix}p:{index}" for index in range(30)}, f"{what}: SCAN MATCH")
    everything = {text(key) async for key in first.scan_iter(count=1000)}
    expect(everything, live, f"{what}: SCAN of the whole database")
    expect(sorted(text(key) for key in await first.keys(prefix + "p:2?")), sorted(f"{prefix}p:{index}" for index in range(20, 30)),
           f"{what}: KEYS")
    expect(await second.dbsize(), len(live), f"{what}: DBSIZE")
    expect(await first.wait(1, 50), 2, f"{what}: WAIT")
    await expect_error_async(lambda: first.rename(prefix + "b", prefix + "z"), "NOTSUPPORTED RENAME", f"{what}: RENAME")
    await first.aclose()
    await second.aclose()
    return what


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", required=True, help="three RESP ports, comma-separated")
    parser.add_argument("--databases", required=True, help="four database numbers (buckets with w=all), comma-separated")
    arguments = parser.parse_args()
    ports = [int(port) for port in arguments.ports.split(",")]
    databases = [int(database) for database in arguments.databases.split(",")]
    if len(ports) != 3 or len(databases) != 4:
        parser.error("give three ports and four databases")
    done = [run_sync(ports, databases[0], 2), run_sync(ports, databases[1], 3)]
    done.append(asyncio.run(run_async(ports, databases[2], 2)))
    done.append(asyncio.run(run_async(ports, databases[3], 3)))
    for what in done:
        print(f"passed: {what}")
    print("resp client check: ok", redis.__version__)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
