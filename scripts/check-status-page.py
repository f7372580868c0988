#!/usr/bin/env python3
"""Checks a status page as headless Chromium rendered it (scripts/check-status-page.sh).

Inputs: the DOM Chromium dumped, its screenshot (PNG), and the node's /status and /ring
taken just before. The DOM must agree with /status and /ring; the screenshot must show
each member's ring colour (faded for a member that is down), so the ring is drawn, not
only present in the markup. Standard library only.
"""
import argparse
import json
import struct
import sys
import zlib
from html.parser import HTMLParser


class Page(HTMLParser):
    """Collects ring sectors, member rows, latency rows and the text of elements with ids."""

    def __init__(self):
        super().__init__()
        self.cells, self.members, self.latency = [], [], []
        self.text_by_id, self.open_ids, self.title = {}, [], ""
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "path" and a.get("class") == "cell":
            self.cells.append(a)
        if tag == "tr" and a.get("class") == "member":
            self.members.append(a)
        if tag == "tr" and a.get("class") == "latency":
            self.latency.append(a)
        if tag == "title":
            self.in_title = True
        if "id" in a:
            self.text_by_id[a["id"]] = ""
        self.open_ids.append(a.get("id"))

    def handle_endtag(self, tag):
        self.in_title = False
        if self.open_ids:
            self.open_ids.pop()

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        for open_id in self.open_ids:
            if open_id:
                self.text_by_id[open_id] += data


def png_colors(path, rows_max=700):
    """Every RGB colour in the top `rows_max` rows of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    if depth != 8 or color_type not in (2, 6) or interlace:
        raise ValueError(f"unexpected PNG format (depth {depth}, colour type {color_type}, interlace {interlace})")
    channels = 3 if color_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous, colors = bytearray(stride), set()
    for y in range(min(height, rows_max)):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 2:
                row[i] = (row[i] + up) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            elif kind == 4:
                up_left = previous[i - channels] if i >= channels else 0
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        colors.update(bytes(row[i:i + 3]) for i in range(0, stride, channels))
        previous = row
    return {tuple(c) for c in colors}


def hex_rgb(text):
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dom")
    parser.add_argument("png")
    parser.add_argument("status")
    parser.add_argument("ring")
    parser.add_argument("--requests", nargs="*", default=[], help="operation=minimum count of recent requests")
    parser.add_argument("--down", nargs="*", default=[], help="members that must show as down")
    args = parser.parse_args()
    status, ring = json.load(open(args.status)), json.load(open(args.ring))
    page = Page()
    page.feed(open(args.dom, encoding="utf-8").read())
    problems = []

    def check(condition, message):
        if not condition:
            problems.append(message)

    check(status["node"] in page.title, f"title {page.title!r} does not name node {status['node']}")
    down = set(args.down)
    members = {m["node"]: m for m in status["members"]}
    check(down <= {n for n, m in members.items() if not m["reachable"]}, f"/status does not show {sorted(down)} down")

    # The ring: one sector per partition, owned as /ring says, faded where the owner is down.
    check(len(page.cells) == ring["partition_count"], f"{len(page.cells)} ring sectors for {ring['partition_count']} partitions")
    fills = {}
    for cell in page.cells:
        partition, owner = int(cell["data-partition"]), cell["data-owner"]
        check(ring["owners"][partition] == owner, f"partition {partition} drawn for {owner}, /ring says {ring['owners'][partition]}")
        state = "down" if owner in down else "up"
        check(cell["data-owner-state"] == state, f"partition {partition} of {owner} drawn as {cell['data-owner-state']}")
        check(fills.setdefault(owner, cell["fill"]) == cell["fill"], f"{owner}'s partitions have different colours")
    check(len(set(fills.values())) == len(fills), f"two members share a colour: {fills}")

    # Members up and down.
    shown = {row["data-node"]: row["data-state"] for row in page.members}
    check(set(shown) == set(members), f"member rows {sorted(shown)}, /status has {sorted(members)}")
    for node, state in shown.items():
        check(state == ("down" if node in down else "up"), f"{node} shown {state}")
    up = sum(1 for s in shown.values() if s == "up")
    check(page.text_by_id.get("members-up") == f"{up} of {len(shown)}", f"members-up says {page.text_by_id.get('members-up')!r}")

    # Hints and anti-entropy, as /status had them just before the page loaded.
    check(page.text_by_id.get("hints-pending") == str(status["hints"]["pending"]),
          f"hints pending {page.text_by_id.get('hints-pending')!r}, /status {status['hints']['pending']}")
    ae = status["anti_entropy"]
    check(page.text_by_id.get("ae-state") == ("on" if ae["enabled"] else "off"), "anti-entropy state differs from /status")
    exchanges = page.text_by_id.get("ae-exchanges", "")
    check(exchanges.isdigit() and int(exchanges) >= ae["partitions_exchanged"],
          f"anti-entropy exchanges {exchanges!r}, /status had {ae['partitions_exchanged']} before")

    # Recent latency.
    rows = {row["data-operation"]: int(row["data-count"]) for row in page.latency}
    for requirement in args.requests:
        operation, minimum = requirement.split("=")
        check(rows.get(operation, 0) >= int(minimum), f"recent latency shows {rows.get(operation)} {operation} requests, expected {minimum}+")

    # What the screenshot shows: each up member's colour in full, a down member's faded.
    colors = png_colors(args.png)
    for owner, fill in fills.items():
        rgb = hex_rgb(fill)
        if owner in down:
            faded = tuple(round(0.25 * c + 0.75 * 255) for c in rgb)
            found = any(all(abs(a - b) <= 3 for a, b in zip(faded, c)) for c in colors)
            check(found, f"the screenshot has no faded {fill} for {owner}, which is down")
        else:
            check(rgb in colors, f"the screenshot has no {fill} for {owner}'s partitions")

    for problem in problems:
        print(f"status-page-check: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"status-page-check: {len(page.cells)} ring sectors, {len(shown)} members ({up} up), "
          f"hints pending {status['hints']['pending']}, latency rows {rows}")


if __name__ == "__main__":
    main()
