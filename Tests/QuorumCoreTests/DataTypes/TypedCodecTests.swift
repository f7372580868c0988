import XCTest
@testable import QuorumCore

final class TypedCodecTests: XCTestCase {
    private func sample() throws -> TypedState {
        var world = TypedWorld(datatype: .map, replicaCount: 3, seed: 11)
        world.run(steps: 40, allowReset: false)
        world.deliverAll()
        return world.replicas[0].state
    }

    func testTheHeaderFormatByteDiffersFromEveryKeyStateVersion() throws {
        for version in Formats.keyState.readable { XCTAssertFalse(Formats.typedHeader.readable.contains(version)) }
        XCTAssertTrue(TypedHeader.isTypedHeader(TypedHeader(of: try sample()).encoded()))
        XCTAssertFalse(TypedHeader.isTypedHeader(KeyState().encoded()))
        XCTAssertFalse(TypedHeader.isTypedHeader([]))
    }

    func testDecodersRefuseTrailingBytesAndNonCanonicalInput() throws {
        let state = try sample()
        XCTAssertThrowsError(try TypedState(decoding: state.encoded(isFull: true) + [0]))
        XCTAssertThrowsError(try TypedHeader(decoding: TypedHeader(of: state).encoded() + [0]))
        let member = state.members.values.first!
        XCTAssertThrowsError(try Member(decodingRow: member.encodedRow() + [0]))
        XCTAssertThrowsError(try TypedOperation(decoding: TypedOperation.reset.encoded() + [0]))
        XCTAssertThrowsError(try TypedOperation(decoding: [1, 99]), "unknown tag")

        // Unsorted context entries.
        var writer = ByteWriter()
        writer.writeVarInt(2)
        writer.writeString("b"); writer.writeVarInt(1)
        writer.writeString("a"); writer.writeVarInt(1)
        writer.writeVarInt(0)
        var reader = ByteReader(writer.bytes)
        XCTAssertThrowsError(try CausalContext.decode(from: &reader, limits: .defaults))
        // A cloud dot contiguous with the vector (not compact).
        writer = ByteWriter()
        writer.writeVarInt(1); writer.writeString("a"); writer.writeVarInt(1)
        writer.writeVarInt(1); writer.writeString("a"); writer.writeVarInt(2)
        reader = ByteReader(writer.bytes)
        XCTAssertThrowsError(try CausalContext.decode(from: &reader, limits: .defaults))
        // Repeated member dots.
        writer = ByteWriter()
        writer.write(UInt8(1)); writer.writeVarInt(2)
        for _ in 0..<2 { writer.writeString("a"); writer.writeVarInt(1); DotPayload.present.encode(into: &writer) }
        XCTAssertThrowsError(try Member(decodingRow: writer.bytes))
        // A claimed count far past the bytes left must not allocate.
        writer = ByteWriter()
        writer.write(Formats.typedState.newest); writer.write(true); writer.write(DataType.set.wireByte)
        writer.writeVarInt(0); writer.writeVarInt(0); writer.writeVarInt(0)
        writer.writeVarInt(UInt64.max >> 1)
        XCTAssertThrowsError(try TypedState(decoding: writer.bytes))
    }

    /// Random bytes, and mutations of valid encodings, never trap a decoder.
    func testDecodersSurviveRandomBytes() throws {
        let state = try sample()
        let valid: [[UInt8]] = [
            state.encoded(isFull: false), TypedHeader(of: state).encoded(), state.members.values.first!.encodedRow(),
            TypedOperation.mapUpdate([.setRegister(field: [1], value: [2])]).encoded(),
        ]
        var rng = SplitMix64(seed: 99)
        for round in 0..<4000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if !bytes.isEmpty && round % 4 == 0 { bytes[0] = [1, 0x40][Int.random(in: 0...1, using: &rng)] }
            } else {
                bytes = valid[Int.random(in: 0..<valid.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Int.random(in: 0..<3, using: &rng) == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))) }
            }
            // Whatever decodes round-trips (bytes may differ only by a non-minimal varint).
            if let decoded = try? TypedState(decoding: bytes) {
                XCTAssertEqual(try TypedState(decoding: decoded.encoded(isFull: true)), decoded)
            }
            if let header = try? TypedHeader(decoding: bytes) { XCTAssertEqual(try TypedHeader(decoding: header.encoded()), header) }
            if let member = try? Member(decodingRow: bytes) { XCTAssertEqual(try Member(decodingRow: member.encodedRow()), member) }
            _ = try? TypedOperation(decoding: bytes)
        }
    }

    func testJSONTextOfNonUTF8BytesIsPrefixedBase64() {
        XCTAssertEqual(TypedJSONValue.text(Array("plain".utf8)), "plain")
        let binary: [UInt8] = [0xFF, 0x00]
        let text = TypedJSONValue.text(binary)
        XCTAssertTrue(text.hasPrefix("base64:"))
        XCTAssertEqual(TypedJSONValue.bytes(text), binary)
        let tricky = Array("base64:AA".utf8)
        XCTAssertEqual(TypedJSONValue.bytes(TypedJSONValue.text(tricky)), tricky)
    }
}

/// The typed encodings' version-1 bytes, written out: a change to an encoder fails here,
/// and must then take a new version in `Formats` (with a decoder for the old one).
final class TypedFormatBytesTests: XCTestCase {
    static let state = TypedState(
        datatype: .map,
        context: CausalContext(vv: ["a": 2], cloud: [Dot(actor: "b", counter: 3)]),
        members: [
            Array("f".utf8): Member([.init(dot: Dot(actor: "a", counter: 1), payload: .counter(p: 5, n: 1))]),
            Array("g".utf8): Member([
                .init(dot: Dot(actor: "b", counter: 3), payload: .register(stamp: HLCTimestamp(physicalMilliseconds: 7, logical: 1), value: [0x76])),
                .init(dot: Dot(actor: "a", counter: 2), payload: .present),
            ]),
        ],
        opIDs: RecentOperations([.init(stamp: HLCTimestamp(physicalMilliseconds: 9, logical: 0), id: [0x69])]))

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    func testTypedEncodingsKeepTheirBytes() throws {
        let state = Self.state
        // version 1, full, map; context a:2 + cloud b3; window (9,0) "i"; members f, g.
        XCTAssertEqual(
            hex(state.encoded(isFull: true)),
            "010103" + "01016102" + "01016203" + "01000000000000000900000000" + "0169"
                + "02" + "0166" + "0101610101" + "0501" + "0167" + "02" + "01610200" + "016203" + "02" + "000000000000000700000001" + "0176")
        XCTAssertEqual(try TypedState(decoding: state.encoded(isFull: true)), state)
        // 0x40, map, context, window, 2 members, digest.
        XCTAssertEqual(
            hex(TypedHeader(of: state).encoded()),
            "4003" + "0101610201016203" + "01000000000000000900000000" + "0169" + "02" + "6851f70204713340")
        XCTAssertEqual(hex(state.members[Array("g".utf8)]!.encodedRow()), "01" + "02" + "01610200" + "016203" + "02000000000000000700000001" + "0176")
        XCTAssertEqual(
            hex(TypedOperation.mapUpdate([.setRegister(field: [0x66], value: [0x76]), .incrementCounter(field: [0x66], by: -1)]).encoded()),
            "0105" + "02" + "0101660176" + "020166ffffffffffffffff")
    }
}
