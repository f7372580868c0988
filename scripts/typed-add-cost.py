#!/usr/bin/env python3
"""Times the 1st and the 10 000th add to one set on a real node (issue #16, "Done when").

Riak's big sets rewrote the whole set per insert, so the n-th insert cost O(n). QuorumKV
stores a set per element; this script checks, over HTTP on one keep-alive connection,
that the last adds cost what the first ones did, then removes most elements and shows
what a remove costs.

    quorumkv cluster up          # or any running node
    scripts/typed-add-cost.py --endpoint http://127.0.0.1:8081 --adds 10000 --removes 9000
    scripts/typed-add-cost.py --endpoint http://127.0.0.1:8081 --n 1 --w 1   # a one-node cluster

It makes a fresh set bucket (`typed-cost-<time>`), adds distinct elements to one key at
the given w, and prints the time of the first and last add, the medians of the first and
last 100 (single requests are noisy), and the same for removes. Exit code 1 when a
request fails.
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse

WINDOW = 100  # requests in the first and last medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8081", help="a node's HTTP address")
    parser.add_argument("--adds", type=int, default=10_000, help="distinct elements added (default 10000)")
    parser.add_argument("--removes", type=int, default=9_000, help="of those, removed afterwards (default 9000)")
    parser.add_argument("--w", default="quorum", help="w of every update (default quorum)")
    parser.add_argument("--n", type=int, help="n of the new bucket (default: the bucket default, 3; 1 for a one-node cluster)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    args = parser.parse_args()
    if not (WINDOW <= args.adds <= 100_000) or not (0 <= args.removes <= args.adds):
        parser.error(f"--adds must be {WINDOW}...100000 and --removes 0...--adds")

    url = urllib.parse.urlsplit(args.endpoint if "://" in args.endpoint else "http://" + args.endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
    bucket = f"typed-cost-{int(time.time() * 1000):x}"

    def request(method: str, path: str, body: object) -> dict:
        connection.request(method, path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {payload[:300]!r}")
        return json.loads(payload)

    def timed(operation: str, count: int) -> list:
        seconds = []
        for index in range(count):
            body = {operation: f"element-{index:08d}"}
            started = time.perf_counter()
            request("POST", f"/types/{bucket}/big?w={args.w}", body)
            seconds.append(time.perf_counter() - started)
        return seconds

    def report(name: str, seconds: list) -> None:
        if not seconds:
            return
        first = statistics.median(seconds[:WINDOW]) * 1000
        last = statistics.median(seconds[-WINDOW:]) * 1000
        print(f"{name}: 1st {seconds[0] * 1000:.2f} ms, #{len(seconds)} {seconds[-1] * 1000:.2f} ms; "
              f"median of the first {WINDOW} {first:.2f} ms, of the last {WINDOW} {last:.2f} ms "
              f"(last/first {last / first:.2f})")

    try:
        props = {"datatype": "set"} if args.n is None else {"datatype": "set", "n": args.n}
        request("PUT", f"/buckets/{bucket}/props", props)
        adds = timed("add", args.adds)
        removes = timed("remove", args.removes)
        connection.request("GET", f"/types/{bucket}/big")
        response = connection.getresponse()
        document = json.loads(response.read())
    except (OSError, RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"bucket {bucket}, key big, w={args.w}, {args.endpoint}")
    report("add", adds)
    report("remove", removes)
    print(f"left: {len(document.get('value', []))} elements (expected {args.adds - args.removes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
