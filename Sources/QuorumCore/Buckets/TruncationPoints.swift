/// Where each bucket was truncated (`FLUSHDB`, `FLUSHALL`, `POST /buckets/{bucket}/truncate`):
/// every version stamped before its bucket's point reads as deleted, on every replica,
/// however it arrives later (a hint, read repair, anti-entropy).
///
/// A join-semilattice kept apart from `BucketProps`: each point only ever moves forward
/// (merge takes the maximum per bucket), so no later props change, and no node that
/// missed the truncation, can move it back. `everyBucket` is `FLUSHALL`'s point: it
/// applies to buckets nobody configured or named yet, which a per-bucket table can't list.
public struct TruncationPoints: Sendable, Equatable {
    public private(set) var buckets: [String: HLCTimestamp]
    public private(set) var everyBucket: HLCTimestamp?

    public init(buckets: [String: HLCTimestamp] = [:], everyBucket: HLCTimestamp? = nil) {
        self.buckets = buckets
        self.everyBucket = everyBucket
    }

    public static let none = TruncationPoints()

    public var isEmpty: Bool { buckets.isEmpty && everyBucket == nil }

    /// The point below which `bucket`'s versions read as deleted, if it was ever truncated.
    public func point(for bucket: String) -> HLCTimestamp? {
        switch (buckets[bucket], everyBucket) {
        case (let own?, let all?): return max(own, all)
        case (let own, let all): return own ?? all
        }
    }

    /// The points after truncating `bucket` (nil: every bucket) at `point`; a point below
    /// the one held changes nothing.
    public func raising(_ bucket: String?, to point: HLCTimestamp) -> TruncationPoints {
        var result = self
        if let bucket {
            result.buckets[bucket] = max(buckets[bucket] ?? .zero, point)
        } else {
            result.everyBucket = max(everyBucket ?? .zero, point)
        }
        return result
    }

    /// Whether `bucket` (nil: every bucket) may be truncated while gossip holds at most
    /// `bucketsMax` truncated buckets: a bucket already truncated or every bucket always may,
    /// a new one only while there is room, since a state past the bound no longer decodes.
    public func admits(_ bucket: String?, bucketsMax: Int) -> Bool {
        guard let bucket, buckets[bucket] == nil else { return true }
        return buckets.count < bucketsMax
    }

    /// The refusal when `admits` is false, saying what to do instead.
    public static func full(bucketsMax: Int) -> KVError {
        .badParameter(
            name: "bucket",
            message: "\(bucketsMax) buckets have been truncated already, the most gossip carries; truncate every bucket (FLUSHALL, POST /cluster/truncate) instead")
    }

    /// The least points that include both: the later point per bucket. Commutative,
    /// associative and idempotent.
    public func merged(with other: TruncationPoints) -> TruncationPoints {
        var result = self
        for (bucket, point) in other.buckets { result = result.raising(bucket, to: point) }
        if let all = other.everyBucket { result = result.raising(nil, to: all) }
        return result
    }
}

/// Binary form (versions: `Formats.truncationPoints`). Canonical: buckets sorted by name
/// (UTF-8 order), so equal points encode to equal bytes.
///
/// - Version 1: a flag and the every-bucket point when set; the count of buckets; per
///   bucket its name and point.
extension TruncationPoints {
    public func encode(into writer: inout ByteWriter) {
        writer.write(Formats.truncationPoints.newest)
        writer.write(everyBucket != nil)
        everyBucket?.encode(into: &writer)
        let names = buckets.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        writer.writeVarInt(UInt64(names.count))
        for name in names {
            writer.writeString(name)
            buckets[name]!.encode(into: &writer)
        }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 16 + buckets.count * 32)
        encode(into: &writer)
        return writer.bytes
    }

    /// Reads points, refusing more than `bucketsMax` buckets, bad names and unsorted ones.
    public static func decode(from reader: inout ByteReader, bucketsMax: Int) throws(WireError) -> TruncationPoints {
        let version = try reader.readUInt8()
        switch version {
        case 1: return try decodeVersion1(from: &reader, bucketsMax: bucketsMax)
        default: throw .unsupportedVersion(version)
        }
    }

    private static func decodeVersion1(from reader: inout ByteReader, bucketsMax: Int) throws(WireError) -> TruncationPoints {
        let everyBucket = try reader.readBool() ? try HLCTimestamp.decode(from: &reader) : nil
        let count = try reader.readLength()
        guard count <= bucketsMax else { throw .malformed("\(count) truncated buckets, at most \(bucketsMax)") }
        var buckets: [String: HLCTimestamp] = [:]
        buckets.reserveCapacity(count)
        var previous: String?
        for _ in 0..<count {
            let name = try reader.readString()
            do {
                try validateBucketName(name)
            } catch {
                throw .malformed("bad bucket name in truncation points")
            }
            if let previous, !previous.utf8.lexicographicallyPrecedes(name.utf8) {
                throw .malformed("truncated bucket names are not sorted and distinct at \(name)")
            }
            previous = name
            buckets[name] = try HLCTimestamp.decode(from: &reader)
        }
        return TruncationPoints(buckets: buckets, everyBucket: everyBucket)
    }

    /// Decodes a whole buffer holding points and nothing else.
    public init(decoding bytes: [UInt8], bucketsMax: Int) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try TruncationPoints.decode(from: &reader, bucketsMax: bucketsMax)
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after truncation points") }
    }
}

extension KeyState {
    /// This state as a replica keeps it once its bucket was truncated at `point`: every
    /// sibling stamped before the point becomes a tombstone of the same dot and timestamp.
    ///
    /// A tombstone rather than nothing, so the truncated version still shadows older copies
    /// of itself in every merge and the tombstone purge removes it under its usual
    /// every-replica rule. Deterministic, so replicas that convert the same state store the
    /// same bytes and their Merkle trees agree.
    public func truncated(before point: HLCTimestamp?) -> KeyState {
        guard let point, siblings.contains(where: { !$0.isTombstone && $0.timestamp < point }) else { return self }
        var result = self
        for index in result.siblings.indices where !result.siblings[index].isTombstone && result.siblings[index].timestamp < point {
            result.siblings[index].value = []
            result.siblings[index].contentType = ""
            result.siblings[index].isTombstone = true
        }
        return result
    }
}
