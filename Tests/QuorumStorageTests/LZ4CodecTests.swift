import XCTest

@testable import QuorumStorage

final class LZ4CodecTests: XCTestCase {
    func testRoundTrip() throws {
        for input in [[], [7], (0..<10_000).map { UInt8($0 % 31) }, noiseBytes(count: 5000, seed: 1)] as [[UInt8]] {
            let compressed = try LZ4Codec.compress(input)
            XCTAssertEqual(try LZ4Codec.decompress(compressed, originalLength: input.count), input)
        }
    }

    func testWrongLengthOrDamagedDataIsCorrupt() throws {
        let input = (0..<10_000).map { UInt8($0 % 31) }
        let compressed = try LZ4Codec.compress(input)
        let isCorrupt: (StoreError) -> Bool = { $0.isCorrupt }
        XCTAssertStoreError(try LZ4Codec.decompress(compressed, originalLength: input.count - 1), matches: isCorrupt)
        XCTAssertStoreError(try LZ4Codec.decompress(compressed, originalLength: input.count + 1), matches: isCorrupt)
        XCTAssertStoreError(try LZ4Codec.decompress(Array(compressed.dropLast(3)), originalLength: input.count), matches: isCorrupt)
        XCTAssertStoreError(try LZ4Codec.decompress([], originalLength: 10), matches: isCorrupt)
        XCTAssertStoreError(try LZ4Codec.decompress(compressed, originalLength: -1), matches: isCorrupt)
        XCTAssertStoreError(try LZ4Codec.decompress([0xFF, 0xFF, 0xFF], originalLength: 100), matches: isCorrupt)
    }

    func testCompressIntoSmallBufferReportsNoFit() {
        let input = noiseBytes(count: 4096, seed: 2)
        var output = [UInt8](repeating: 0, count: input.count - 5)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { LZ4Codec.compress(source, into: $0) }
        }
        XCTAssertEqual(written, 0)
    }

    func testStoredBlobEncoding() throws {
        let small = [UInt8](repeating: 1, count: 100)
        XCTAssertEqual(StoredBlob.encode(small, compressionThresholdBytes: 4096), [0] + small)
        let compressible = [UInt8](repeating: 1, count: 5000)
        let encoded = StoredBlob.encode(compressible, compressionThresholdBytes: 4096)
        XCTAssertEqual(Array(encoded.prefix(5)), [1, 0, 0, 0x13, 0x88])
        XCTAssertEqual(try encoded.withUnsafeBytes { try StoredBlob.decode($0, blobBytesMax: 5000) }, compressible)
        XCTAssertStoreError(try encoded.withUnsafeBytes { try StoredBlob.decode($0, blobBytesMax: 4999) },
                            matches: { $0.isCorrupt }, "length header over the bound")
        XCTAssertEqual(StoredBlob.encode([], compressionThresholdBytes: 0), [0])
        XCTAssertEqual(StoredBlob.encode([1, 2, 3], compressionThresholdBytes: 0), [0, 1, 2, 3], "too small to save space")
    }
}
