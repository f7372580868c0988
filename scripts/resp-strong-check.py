#!/usr/bin/env python3
"""Drives QuorumKV's strongly consistent buckets (issue #17) over RESP with redis-py.

  check --ports P1,P2,P3 --strong-database S --eventual-database E [--clients 4 --increments 25]
      Against a running cluster where bucket db<S> was created with consistency strong
      and db<E> is an ordinary bucket. Over RESP2 and RESP3, each write on one node and
      the read on another: GET/SET, SET NX|XX (nil when the condition fails), SET IFEQ,
      DELIFEQ, GETSET, SET GET, DEL's count, EXISTS, TYPE; a command that does not apply
      (EXPIRE, INCR) and IFEQ on the eventual bucket answer NOTSUPPORTED errors. Then
      compare-and-set increments: each client reads the counter key and sets it to the
      value + 1 with SET IFEQ, on its own node, until it made its share (or a bounded
      number of attempts); the final value lies between the acknowledged increments and
      those plus the indeterminate ones (UNAVAILABLE saying it may have applied). Prints "resp strong check: ok" and exits 0, or
      exits 1 saying what differed.
"""

import argparse
import sys
import threading

import redis


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_error(call, prefix, what):
    try:
        result = call()
    except redis.ResponseError as error:
        if not str(error).startswith(prefix):
            raise AssertionError(f"{what}: expected an error starting {prefix!r}, got {str(error)!r}")
        return
    raise AssertionError(f"{what}: expected an error starting {prefix!r}, got the reply {result!r}")


def check(ports, strong_db, eventual_db, protocol):
    what = f"RESP{protocol}"
    prefix = f"p{protocol}:"

    def client(index, db=strong_db):
        return redis.Redis(host="127.0.0.1", port=ports[index % len(ports)], db=db, protocol=protocol, socket_timeout=20)

    first, second, third = client(0), client(1), client(2)
    key = prefix + "k"
    expect(first.get(key), None, f"{what}: GET of a key never written")
    expect(first.set(key, "v1"), True, f"{what}: SET")
    expect(second.get(key), b"v1", f"{what}: GET on another node")
    expect(second.type(key), b"string", f"{what}: TYPE")
    expect(third.exists(key, prefix + "absent"), 1, f"{what}: EXISTS")
    expect(third.set(key, "v2", nx=True), None, f"{what}: SET NX on a key that holds a value")
    expect(third.set(prefix + "absent", "x", xx=True), None, f"{what}: SET XX on an absent key")
    expect(first.get(prefix + "absent"), None, f"{what}: a failed XX wrote nothing")
    expect(third.set(key, "v2", xx=True), True, f"{what}: SET XX")
    expect(first.execute_command("SET", key, "v3", "IFEQ", "nope"), None, f"{what}: SET IFEQ of another value")
    expect(second.execute_command("SET", key, "v3", "IFEQ", "v2"), True, f"{what}: SET IFEQ of the value")
    expect(third.getset(key, "v4"), b"v3", f"{what}: GETSET")
    expect(first.set(key, "v5", get=True), b"v4", f"{what}: SET GET")
    expect(second.execute_command("DELIFEQ", key, "v4"), 0, f"{what}: DELIFEQ of another value")
    expect(third.execute_command("DELIFEQ", key, "v5"), 1, f"{what}: DELIFEQ of the value")
    expect(first.get(key), None, f"{what}: GET after DELIFEQ")
    first.set(prefix + "a", "1")
    first.set(prefix + "b", "2")
    expect(second.delete(prefix + "a", prefix + "b", prefix + "never"), 2, f"{what}: DEL counts the keys that held a value")
    expect(third.type(prefix + "a"), b"none", f"{what}: TYPE of a deleted key")

    expect_error(lambda: first.expire(key, 10), "NOTSUPPORTED", f"{what}: EXPIRE on a strong bucket")
    expect_error(lambda: first.incr(prefix + "n"), "NOTSUPPORTED", f"{what}: INCR on a strong bucket")
    eventual = client(0, eventual_db)
    eventual.set(key, "e")
    expect_error(lambda: eventual.execute_command("SET", key, "f", "IFEQ", "e"), "NOTSUPPORTED",
                 f"{what}: IFEQ on an eventual bucket")
    expect_error(lambda: eventual.execute_command("DELIFEQ", key, "e"), "NOTSUPPORTED",
                 f"{what}: DELIFEQ on an eventual bucket")
    expect(eventual.get(key), b"e", f"{what}: the refused commands wrote nothing")


def increments(ports, strong_db, clients, per_client):
    """Concurrent read, then SET IFEQ value+1: only a compare that saw the latest value wins.

    A CAS that answers UNAVAILABLE saying it may have applied is indeterminate: the
    final value lies between the acknowledged increments and those plus the indeterminate
    ones. One that says it was not applied is not counted. Any other error fails."""
    key = "cas:counter"
    redis.Redis(host="127.0.0.1", port=ports[0], db=strong_db, socket_timeout=20).set(key, "0")
    won = [0] * clients
    indeterminate = [0] * clients
    failures = []

    def run(index):
        connection = redis.Redis(host="127.0.0.1", port=ports[index % len(ports)], db=strong_db, socket_timeout=20)
        attempts = 0
        while won[index] < per_client and attempts < per_client * 50:
            attempts += 1
            try:
                current = connection.get(key)
            except redis.ResponseError as error:
                if not str(error).startswith("UNAVAILABLE"):
                    failures.append(f"GET: {error}")
                    return
                continue
            try:
                if connection.execute_command("SET", key, str(int(current) + 1), "IFEQ", current) is True:
                    won[index] += 1
            except redis.ResponseError as error:
                text = str(error)
                if not text.startswith("UNAVAILABLE"):
                    failures.append(f"SET IFEQ: {text}")
                    return
                if "not applied" not in text:
                    indeterminate[index] += 1

    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise AssertionError(f"compare-and-set increments failed: {failures[:3]}")
    final = int(redis.Redis(host="127.0.0.1", port=ports[1 % len(ports)], db=strong_db, socket_timeout=20).get(key))
    acknowledged, unknown = sum(won), sum(indeterminate)
    if not acknowledged <= final <= acknowledged + unknown:
        raise AssertionError(
            f"the counter after compare-and-set increments is {final}, outside [{acknowledged}, {acknowledged + unknown}] "
            f"(acknowledged, plus indeterminate)")
    if min(won) == 0:
        raise AssertionError(f"a client made no increment: {won}")
    return acknowledged, unknown, final


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_subparsers(dest="mode", required=True)
    checking = modes.add_parser("check")
    checking.add_argument("--ports", required=True)
    checking.add_argument("--strong-database", type=int, required=True)
    checking.add_argument("--eventual-database", type=int, required=True)
    checking.add_argument("--clients", type=int, default=4)
    checking.add_argument("--increments", type=int, default=25, help="per client")
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    try:
        for protocol in (2, 3):
            check(ports, args.strong_database, args.eventual_database, protocol)
            print(f"passed: RESP{protocol}")
        acknowledged, unknown, final = increments(ports, args.strong_database, args.clients, args.increments)
        print(f"passed: compare-and-set increments, {acknowledged} acknowledged, {unknown} indeterminate, final {final}")
    except AssertionError as error:
        print(f"resp strong check failed: {error}", file=sys.stderr)
        sys.exit(1)
    print("resp strong check: ok", redis.__version__)


if __name__ == "__main__":
    main()
