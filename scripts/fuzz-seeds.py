#!/usr/bin/env python3
"""Writes the starting inputs of one libFuzzer target (FuzzTesting/) into a folder.

Usage: scripts/fuzz-seeds.py TARGET FOLDER

The seeds are the committed version 1 encodings (Tests/Fixtures/format-v1), each behind
the selector byte the target's check function reads first (see CoreFuzzChecks), plus a
few hand-written RESP streams and HTTP requests. Valid inputs let a short run start deep
inside a decoder instead of spending its time forging envelopes. scripts/fuzz.sh calls
this; the seeds that add coverage end up in the committed corpus after its merge step.
"""
import base64
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures" / "format-v1"


def hex_fixture(name):
    return bytes.fromhex("".join((FIXTURES / name).read_text().split()))


def varint(data, offset):
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte & 0x80 == 0:
            return value, offset
        shift += 7


def gossip_message():
    """The gossip message inside the committed gossip request frame: header, tag, length."""
    frame = hex_fixture("frame-request-gossip.hex")
    length, offset = varint(frame, 14 + 1)
    return frame[offset:offset + length]


def frames():
    return sorted(p.name for p in FIXTURES.glob("frame-*.hex"))


def seeds(target):
    if target == "FuzzPeerFrame":
        for name in frames():
            frame = hex_fixture(name)
            yield name, b"\x00" + frame
            kind = {"frame-hello": 3, "frame-request": 1, "frame-response": 2}
            for prefix, selector in kind.items():
                if name.startswith(prefix):
                    yield name + ".payload", bytes([selector]) + frame[14:]
    elif target == "FuzzGossip":
        yield "gossip-message", b"\x00" + gossip_message()
        yield "membership-state", b"\x01" + hex_fixture("membership-state.hex")
        # Truncation points, version 1: every bucket at (5, 1), and bucket "b" at (7, 0).
        yield "truncation-points", b"\x02" + bytes.fromhex("01 01 0000000000000005 00000001 01 0162 0000000000000007 00000000")
    elif target == "FuzzVersionCodecs":
        yield "key-state", b"\x00" + hex_fixture("row-vclock-raw.hex")[1:]
        yield "key-state-lww", b"\x00" + hex_fixture("row-lww-raw.hex")[1:]
        yield "bucket-props", b"\x01" + hex_fixture("bucket-props.hex")
        yield "hint", b"\x02" + hex_fixture("hint.hex")
        yield "repair-batch", b"\x03" + hex_fixture("repair-batch.hex")
        yield "context-token", b"\x04" + (FIXTURES / "context-token.txt").read_text().strip().encode()
        cursor = base64.urlsafe_b64encode(bytes.fromhex("01 05 01 03 6b6579")).rstrip(b"=")
        yield "key-cursor", b"\x05" + cursor
    elif target == "FuzzStoredRow":
        for name in ("row-lww-raw.hex", "row-vclock-raw.hex", "row-vclock-lz4.hex"):
            yield name, hex_fixture(name)
    elif target == "FuzzRESP":
        yield "array", b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
        yield "inline", b"PING\r\nGET key\nSET \"a b\" 'c\\x41d'\r\n"
        yield "pipeline", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\n"
        yield "commands", b"".join(
            b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
            for words in [
                [b"QSET", b"k", b"v", b"W", b"quorum", b"CONTEXT", b"AQIPbm9kZS1h"],
                [b"SCAN", b"0", b"MATCH", b"a*", b"COUNT", b"10"],
                [b"HELLO", b"3", b"SETNAME", b"x"],
                [b"MSET", b"a", b"1", b"b", b"2"],
                [b"CLIENT", b"SETNAME", b"n"],
            ])
    elif target == "FuzzHTTP":
        token = (FIXTURES / "context-token.txt").read_text().strip().encode()
        yield "get", b"\x00/kv/bucket/key?r=quorum&timeout=100\nX-Context: " + token + b"\n\n"
        yield "put", b"\x01/kv/b/a%2Fb?w=2&returnbody=true\nIf-None-Match: *\nContent-Type: text/plain\n\nvalue"
        yield "delete", b"\x02/kv/b/k?pw=one\nIf-Match: x\n\n"
        yield "props", b"\x01/buckets/b/props\n\n{\"n\":3,\"r\":\"quorum\",\"w\":2,\"conflict\":\"vclock\"}"
        yield "keys", b"\x00/buckets/b/keys?limit=10&cursor=AQUBA2tleQ\n\n"
        yield "join", b"\x03/cluster/join?seed=10.0.0.1%3A7000\n\n"
        yield "status", b"\x04/status\n\n"
    elif target == "FuzzACLFile":
        salt, key, token = "ab" * 16, "cd" * 32, "ef" * 32
        yield "users", (
            "# operators and applications\n"
            f"user admin on password:pbkdf2-sha256:600000:{salt}:{key} grant:read,write,delete,list,admin:*\n"
            f"user app on token:{token} grant:read,write:apples grant:list:a*\n"
            "user default off\n"
        ).encode()
        yield "default-only", b"user default on grant:read:public-?\n\n"
    else:
        sys.exit(f"no seeds for {target}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    folder = pathlib.Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds(sys.argv[1]):
        (folder / ("seed-" + name)).write_bytes(data)


if __name__ == "__main__":
    main()
