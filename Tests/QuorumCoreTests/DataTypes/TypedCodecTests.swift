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
