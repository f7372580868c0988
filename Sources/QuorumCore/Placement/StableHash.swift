/// A 64-bit hash that is the same in every process, on every machine, forever.
///
/// Placement and anything stored or sent must never use Swift's `Hasher`, which is
/// seeded per process. This is FNV-1a followed by the MurmurHash3 finalizer, which
/// spreads FNV's weak high bits (the ring takes its partition from the high bits).
///
/// `@inlinable` so callers in other modules get it specialised for `[UInt8]`: generic
/// and opaque, it walked every byte through witness tables and took 14% of a node's CPU
/// under writes (it hashes every stored state for the Merkle trees).
public enum StableHash {
    @inlinable
    public static func hash<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64
    where Bytes.Element == UInt8 {
        var value = seed
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return finalize(value)
    }

    /// The key's position on the ring: bucket and key separated by a zero byte, which no
    /// bucket name contains, so ("a", "bc") and ("ab", "c") differ.
    @inlinable
    public static func keyHash(bucket: String, key: [UInt8]) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bucket.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        value = value &* 0x0000_0100_0000_01b3
        for byte in key {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return finalize(value)
    }

    @usableFromInline @inline(__always)
    static func finalize(_ input: UInt64) -> UInt64 {
        var value = input
        value ^= value >> 33
        value = value &* 0xff51_afd7_ed55_8ccd
        value ^= value >> 33
        value = value &* 0xc4ce_b9fe_1a85_ec53
        value ^= value >> 33
        return value
    }
}
