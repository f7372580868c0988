/// The on-disk form of a state blob: one header byte, then
/// - `0` raw: the blob itself;
/// - `1` LZ4: the original length as a big-endian `UInt32`, then an LZ4 block.
///
/// The header lets old rows stay readable if the threshold changes, and lets small or
/// incompressible blobs skip compression entirely. The blob is a `KeyState` encoding,
/// which carries its own version (`Formats.keyState`). A header byte is never reused or
/// dropped: a new one may be added, and rows with either of these stay readable
/// (`Tests/Fixtures/format-v1` holds one of each).
enum StoredBlob {
    static let rawTag: UInt8 = 0
    static let lz4Tag: UInt8 = 1
    /// Tag plus the 4-byte length.
    static let lz4HeaderBytes = 5

    static func encode(_ blob: [UInt8], compressionThresholdBytes: Int) -> [UInt8] {
        // Compressing pays only if header + block < 1 + blob, i.e. block <= count - 5.
        let blockCapacity = blob.count - lz4HeaderBytes
        if blob.count >= compressionThresholdBytes, blockCapacity > 0,
           blob.count <= LZ4Codec.inputBytesMax, blob.count <= Int(UInt32.max) {
            let stored = [UInt8](unsafeUninitializedCapacity: lz4HeaderBytes + blockCapacity) { buffer, count in
                let length = UInt32(blob.count)
                buffer[0] = lz4Tag
                buffer[1] = UInt8(truncatingIfNeeded: length >> 24)
                buffer[2] = UInt8(truncatingIfNeeded: length >> 16)
                buffer[3] = UInt8(truncatingIfNeeded: length >> 8)
                buffer[4] = UInt8(truncatingIfNeeded: length)
                let block = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[lz4HeaderBytes...]))
                let compressed = blob.withUnsafeBytes { LZ4Codec.compress($0, into: block) }
                count = compressed > 0 ? lz4HeaderBytes + compressed : 0
            }
            if !stored.isEmpty { return stored }
        }
        var stored = [UInt8]()
        stored.reserveCapacity(blob.count + 1)
        stored.append(rawTag)
        stored.append(contentsOf: blob)
        return stored
    }

    /// Decodes stored bytes, refusing anything malformed rather than trusting it.
    /// - Parameter blobBytesMax: largest original length an LZ4 header may claim.
    static func decode(_ stored: UnsafeRawBufferPointer, blobBytesMax: Int) throws -> [UInt8] {
        guard let tag = stored.first else {
            throw StoreError.corrupt("stored state is empty (no header byte)")
        }
        switch tag {
        case rawTag:
            return Array(stored[1...])
        case lz4Tag:
            guard stored.count > lz4HeaderBytes else {
                throw StoreError.corrupt("stored state has an LZ4 header but only \(stored.count) bytes")
            }
            let length = Int(stored[1]) << 24 | Int(stored[2]) << 16 | Int(stored[3]) << 8 | Int(stored[4])
            guard length <= blobBytesMax else {
                throw StoreError.corrupt("stored state claims \(length) bytes uncompressed, over the \(blobBytesMax)-byte bound")
            }
            return try LZ4Codec.decompress(UnsafeRawBufferPointer(rebasing: stored[lz4HeaderBytes...]), originalLength: length)
        default:
            throw StoreError.corrupt("stored state has unknown header byte \(tag)")
        }
    }
}

extension StoredBlob {
    /// Names a row in error messages: enough to find it, bounded in length.
    static func describeRow(partition: Int, bucket: String, key: [UInt8]) -> String {
        let shown = key.prefix(32).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return "partition \(partition) bucket '\(bucket)' key 0x\(shown)\(key.count > 32 ? "…" : "")"
    }
}

extension Statement {
    /// Runs `Schema.selectState` (prepared on this statement) and decodes the row, if any.
    /// Throws `.corrupt` naming the row when its bytes don't decode; other errors are SQLite's.
    func readState(partition: Int, bucket: String, key: [UInt8], blobBytesMax: Int) throws -> [UInt8]? {
        try withRow(partition: partition, bucket: bucket, key: key) {
            guard try step() else { return nil }
            do {
                return try withBlob(at: 0) { try StoredBlob.decode($0, blobBytesMax: blobBytesMax) }
            } catch StoreError.corrupt(let why) {
                throw StoreError.corrupt(
                    "\(StoredBlob.describeRow(partition: partition, bucket: bucket, key: key)): \(why); "
                        + "the row can't be used; repair it from another replica")
            }
        }
    }
}

extension Statement {
    /// `readState` of a `RowKey`.
    func readState(_ row: RowKey, blobBytesMax: Int) throws -> [UInt8]? {
        try readState(partition: row.partition, bucket: row.bucket, key: row.key, blobBytesMax: blobBytesMax)
    }
}
