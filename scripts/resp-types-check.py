#!/usr/bin/env python3
"""Drives QuorumKV's counters, sets and maps (issue #16) over RESP with redis-py.

Two modes, both against a running cluster whose typed buckets already exist:

  check --ports P1,P2,P3 --databases C,S,M
      The commands of counter, set and map buckets (databases C, S and M, i.e. buckets
      db<C>, db<S>, db<M>) through the sync client over RESP2 and RESP3, each write on one
      node and read on another: values, replies, DEL as a reset, TYPE, EXISTS, WRONGTYPE,
      a pipeline. Prints "resp types check: ok" and exits 0, or exits 1 saying what differed.

  load --ports P1,P2,P3 --counter-database C --set-database S --counter-clients 8 --set-clients 4
       --max-per-client N --stop-file F --out O
      Concurrent clients, one connection each, spread over the ports: counter clients send
      INCR hits W 1, set clients SADD a unique element to members, until F exists or each
      sent N. Every reply is recorded: an integer
      reply is acknowledged, anything else (an error, a timeout, a dropped connection) is
      attempted but not acknowledged. Writes O as JSON: {"increments": {"acknowledged": a,
      "attempted": t}, "elements": {"acknowledged": [...], "attempted": [...]}}.
"""

import argparse
import json
import os
import sys
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_wrongtype(call, what):
    try:
        result = call()
    except redis.ResponseError as error:
        expect(str(error), WRONGTYPE, what)
        return
    raise AssertionError(f"{what}: expected WRONGTYPE, got the reply {result!r}")


def truthy(value):
    """SISMEMBER, HEXISTS and SMISMEMBER answer 1/0; redis-py turns some into booleans."""
    return bool(value)


def check(ports, databases, protocol):
    counter_db, set_db, map_db = databases
    what = f"RESP{protocol}"
    prefix = f"p{protocol}:"

    def client(index, db):
        return redis.Redis(host="127.0.0.1", port=ports[index % len(ports)], db=db, protocol=protocol,
                           socket_timeout=20)

    # Counters: INCR and friends answer the new value; GET reads it on another node.
    counters, counters_other = client(0, counter_db), client(1, counter_db)
    key = prefix + "visits"
    expect(counters.get(key), None, f"{what}: GET of a counter never incremented")
    expect(counters.incr(key), 1, f"{what}: INCR")
    expect(counters.incrby(key, 41), 42, f"{what}: INCRBY")
    expect(counters.decr(key), 41, f"{what}: DECR")
    expect(counters.decrby(key, 50), -9, f"{what}: DECRBY")
    expect(counters_other.execute_command("GET", key, "R", "ALL"), b"-9", f"{what}: GET R ALL on another node")
    # An operation id makes a retried increment count once (a QuorumKV extension).
    expect(counters.execute_command("INCRBY", key, 10, "ID", prefix + "op-1", "W", "ALL"), 1, f"{what}: INCRBY ID")
    expect(counters.execute_command("INCRBY", key, 10, "ID", prefix + "op-1", "W", "ALL"), 1,
           f"{what}: the same INCRBY ID again")
    expect(counters.type(key) in (b"string", "string"), True, f"{what}: TYPE of a counter")
    expect(counters.exists(key, prefix + "never"), 1, f"{what}: EXISTS")
    pipe = counters.pipeline(transaction=False)
    for _ in range(50):
        pipe.incr(prefix + "piped")
    expect(pipe.execute(), list(range(1, 51)), f"{what}: pipelined INCRs")
    expect(counters.delete(key, prefix + "never"), 1, f"{what}: DEL resets the counter")
    expect(counters_other.execute_command("GET", key, "R", "ALL"), None, f"{what}: GET after DEL")
    expect(counters.incr(key), 1, f"{what}: INCR after DEL starts again")
    expect_wrongtype(lambda: counters.sadd(key, "x"), f"{what}: SADD in a counter bucket")
    expect_wrongtype(lambda: counters.hget(key, "f"), f"{what}: HGET in a counter bucket")

    # Sets: add wins, members come back in byte order.
    sets, sets_other = client(1, set_db), client(2, set_db)
    key = prefix + "tags"
    expect(sets.sadd(key, "red", "green", "blue", "red"), 3, f"{what}: SADD")
    expect(sets.sadd(key, "green", b"\x00\xff"), 1, f"{what}: SADD with one new element")
    expect(sets_other.smembers(key), {b"red", b"green", b"blue", b"\x00\xff"}, f"{what}: SMEMBERS on another node")
    expect(truthy(sets_other.sismember(key, "blue")), True, f"{what}: SISMEMBER")
    expect(truthy(sets_other.sismember(key, "pink")), False, f"{what}: SISMEMBER of an absent element")
    expect([truthy(v) for v in sets_other.smismember(key, ["pink", "red"])], [False, True], f"{what}: SMISMEMBER")
    expect(sets_other.scard(key), 4, f"{what}: SCARD")
    expect(sets.srem(key, "red", "pink"), 1, f"{what}: SREM")
    expect(sets_other.execute_command("SCARD", key, "R", "ALL"), 3, f"{what}: SCARD R ALL")
    expect(sets.type(key) in (b"set", "set"), True, f"{what}: TYPE of a set")
    expect(sets.delete(key), 1, f"{what}: DEL of a set")
    expect(sets_other.smembers(key), set(), f"{what}: SMEMBERS after DEL")
    expect(sets.exists(key), 0, f"{what}: EXISTS after DEL")
    expect_wrongtype(lambda: sets.get(key), f"{what}: GET in a set bucket")
    expect_wrongtype(lambda: sets.incr(key), f"{what}: INCR in a set bucket")

    # Maps: HSET of several fields is one operation; HINCRBY adds to a field.
    maps, maps_other = client(2, map_db), client(0, map_db)
    key = prefix + "user"
    expect(maps.hset(key, mapping={"name": "ada", "visits": "3"}), 2, f"{what}: HSET two fields")
    expect(maps.hset(key, "name", "grace"), 0, f"{what}: HSET of an existing field")
    expect(maps.hincrby(key, "visits", 4), 7, f"{what}: HINCRBY")
    expect(maps_other.hget(key, "name"), b"grace", f"{what}: HGET on another node")
    expect(maps_other.hmget(key, ["visits", "nope", "name"]), [b"7", None, b"grace"], f"{what}: HMGET")
    expect(maps_other.hgetall(key), {b"name": b"grace", b"visits": b"7"}, f"{what}: HGETALL")
    expect(maps_other.hlen(key), 2, f"{what}: HLEN")
    expect(truthy(maps_other.hexists(key, "visits")), True, f"{what}: HEXISTS")
    expect(maps.hdel(key, "visits", "nope"), 1, f"{what}: HDEL")
    expect(maps_other.hgetall(key), {b"name": b"grace"}, f"{what}: HGETALL after HDEL")
    expect(maps.type(key) in (b"hash", "hash"), True, f"{what}: TYPE of a map")
    try:
        maps.hincrby(key, "name", 1)
        raise AssertionError(f"{what}: HINCRBY of a text field must fail")
    except redis.ResponseError as error:
        expect("hash value is not an integer" in str(error), True, f"{what}: HINCRBY of a text field: {error}")
    expect_wrongtype(lambda: maps.sadd(key, "x"), f"{what}: SADD in a map bucket")

    # Plain values refuse the typed commands.
    plain = redis.Redis(host="127.0.0.1", port=ports[0], protocol=protocol, socket_timeout=20)
    expect_wrongtype(lambda: plain.incr(prefix + "plain"), f"{what}: INCR on plain values")
    expect_wrongtype(lambda: plain.hset(prefix + "plain", "f", "v"), f"{what}: HSET on plain values")
    for connection in (counters, counters_other, sets, sets_other, maps, maps_other, plain):
        connection.close()
    print(f"passed: {what}")


def load(args):
    stop = lambda: os.path.exists(args.stop_file)
    lock = threading.Lock()
    totals = {"increments": {"acknowledged": 0, "attempted": 0}, "elements": {"acknowledged": [], "attempted": []}}

    ports = [int(p) for p in args.ports.split(",")]

    def connect(index, db):
        # Short timeouts keep the clients moving while a replica is stopped. No retries:
        # redis-py resends a command after a dropped connection (10 times by default), and
        # an INCR sent twice may count twice, so every send must be one recorded attempt.
        return redis.Redis(host="127.0.0.1", port=ports[index % len(ports)], db=db, protocol=2, socket_timeout=3,
                           socket_connect_timeout=3, retry=Retry(NoBackoff(), 0))

    def counter_client(index):
        connection = connect(index, args.counter_database)
        acknowledged = attempted = 0
        while attempted < args.max_per_client and not stop():
            attempted += 1
            try:
                connection.execute_command("INCR", "hits", "W", "1", "TIMEOUT", "1000")
                acknowledged += 1
            except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.1)  # a refused connection fails at once: don't spin through the attempts
        with lock:
            totals["increments"]["acknowledged"] += acknowledged
            totals["increments"]["attempted"] += attempted

    def set_client(index):
        connection = connect(index, args.set_database)
        acknowledged, attempted = [], []
        while len(attempted) < args.max_per_client and not stop():
            element = f"c{index}-{len(attempted)}"
            attempted.append(element)
            try:
                connection.sadd("members", element)  # w: the bucket's default (the test sets 1)
                acknowledged.append(element)
            except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.1)
        with lock:
            totals["elements"]["acknowledged"] += acknowledged
            totals["elements"]["attempted"] += attempted

    threads = [threading.Thread(target=counter_client, args=(i,)) for i in range(args.counter_clients)]
    threads += [threading.Thread(target=set_client, args=(i,)) for i in range(args.set_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(args.out, "w") as out:
        json.dump(totals, out)
    print(f"load done: {totals['increments']} increments, {len(totals['elements']['acknowledged'])} of "
          f"{len(totals['elements']['attempted'])} elements acknowledged")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_subparsers(dest="mode", required=True)
    checking = modes.add_parser("check")
    checking.add_argument("--ports", required=True)
    checking.add_argument("--databases", required=True, help="counter,set,map database numbers")
    loading = modes.add_parser("load")
    loading.add_argument("--ports", required=True)
    loading.add_argument("--counter-database", type=int, required=True)
    loading.add_argument("--set-database", type=int, required=True)
    loading.add_argument("--counter-clients", type=int, default=8)
    loading.add_argument("--set-clients", type=int, default=4)
    loading.add_argument("--max-per-client", type=int, required=True)
    loading.add_argument("--stop-file", required=True)
    loading.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.mode == "check":
        ports = [int(p) for p in args.ports.split(",")]
        databases = [int(d) for d in args.databases.split(",")]
        if len(databases) != 3:
            parser.error("--databases takes three numbers: counter,set,map")
        try:
            for protocol in (2, 3):
                check(ports, databases, protocol)
        except AssertionError as error:
            print(f"resp types check failed: {error}", file=sys.stderr)
            sys.exit(1)
        print("resp types check: ok", redis.__version__)
    else:
        load(args)


if __name__ == "__main__":
    main()
