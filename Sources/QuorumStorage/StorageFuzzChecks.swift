@_spi(Fuzzing) import QuorumCore

/// The decode-and-check function behind the `FuzzStoredRow` libFuzzer target and its
/// corpus replay test: a `kv` row's bytes as the store reads them (see `CoreFuzzChecks`
/// for the conventions). SPI: only the fuzz package and the tests import it.
@_spi(Fuzzing) public enum StorageFuzzChecks {
    /// Largest original length an LZ4 header may claim here: small, so a forged length is
    /// refused quickly (the store's bound is the value limit plus room for siblings).
    public static let blobBytesMax = 64 * 1024

    /// A stored row: the `StoredBlob` header (raw or LZ4), then the `KeyState` inside.
    /// Whatever decodes must come back unchanged through the store's own write path, with
    /// compression forced on and off, and its state must survive encode and decode.
    public static func checkStoredRow(_ input: [UInt8]) throws(FuzzCheckFailure) {
        let blob: [UInt8]
        do {
            blob = try input.withUnsafeBytes { try StoredBlob.decode($0, blobBytesMax: blobBytesMax) }
        } catch {
            return
        }
        for threshold in [0, Int.max] {
            let stored = StoredBlob.encode(blob, compressionThresholdBytes: threshold)
            let again = try? stored.withUnsafeBytes { try StoredBlob.decode($0, blobBytesMax: blobBytesMax) }
            guard again == blob else {
                throw FuzzCheckFailure("a \(blob.count)-byte blob stored with threshold \(threshold) does not read back")
            }
        }
        try CoreFuzzChecks.checkKeyState(blob)
    }
}
