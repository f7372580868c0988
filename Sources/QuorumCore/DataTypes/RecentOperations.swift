/// A counter's bounded dedupe window: the newest operation ids clients sent with
/// increments, so a retry after a timeout is not counted twice (Cassandra counters are
/// not idempotent; QuorumKV's are, within this window).
///
/// Entries are `(stamp, id)`, the stamp the lead's HLC gave the increment. The join is
/// "the newest `capacity` of the union by (stamp, id)": a semilattice for a fixed
/// capacity, so replicas converge on the same window.
///
/// What it does not catch: a retry that reaches another lead replica before the first
/// attempt's delta reached that replica counts twice, and an id older than the window's
/// newest `capacity` entries is forgotten.
public struct RecentOperations: Sendable, Equatable, Hashable {
    public struct Entry: Sendable, Equatable, Hashable, Comparable {
        public var stamp: HLCTimestamp
        public var id: [UInt8]

        public init(stamp: HLCTimestamp, id: [UInt8]) {
            self.stamp = stamp
            self.id = id
        }

        public static func < (lhs: Entry, rhs: Entry) -> Bool {
            if lhs.stamp != rhs.stamp { return lhs.stamp < rhs.stamp }
            return lhs.id.lexicographicallyPrecedes(rhs.id)
        }
    }

    /// Ascending by (stamp, id), no entry twice.
    public private(set) var entries: [Entry]

    public init(_ entries: [Entry] = [], capacity: Int = Limits.defaults.typedOperationIDsMax) {
        self.entries = []
        self = RecentOperations(sorted: []).joined(with: RecentOperations(sorted: Array(Set(entries)).sorted()), capacity: capacity)
    }

    init(sorted: [Entry]) { self.entries = sorted }

    public static let empty = RecentOperations(sorted: [])

    public var isEmpty: Bool { entries.isEmpty }

    public func contains(id: [UInt8]) -> Bool { entries.contains { $0.id == id } }

    /// The newest `capacity` entries of the union.
    public func joined(with other: RecentOperations, capacity: Int) -> RecentOperations {
        if other.entries.isEmpty && entries.count <= capacity { return self }
        var merged: [Entry] = []
        merged.reserveCapacity(entries.count + other.entries.count)
        var left = 0
        var right = 0
        while left < entries.count || right < other.entries.count {
            if right == other.entries.count || (left < entries.count && entries[left] < other.entries[right]) {
                merged.append(entries[left]); left += 1
            } else if left == entries.count || other.entries[right] < entries[left] {
                merged.append(other.entries[right]); right += 1
            } else {
                merged.append(entries[left]); left += 1; right += 1
            }
        }
        if merged.count > capacity { merged.removeFirst(merged.count - max(0, capacity)) }
        return RecentOperations(sorted: merged)
    }

    public func encode(into writer: inout ByteWriter) {
        writer.writeVarInt(UInt64(entries.count))
        for entry in entries {
            entry.stamp.encode(into: &writer)
            writer.writeBytes(entry.id)
        }
    }

    public static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> RecentOperations {
        let count = try reader.readLength()
        guard count <= TypedDecodeBounds.operationIDs(limits) else { throw .malformed("\(count) operation ids, past the limit") }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let entry = Entry(stamp: try HLCTimestamp.decode(from: &reader), id: try reader.readBytes())
            guard entry.id.count <= limits.typedOperationIDBytesMax else { throw .malformed("operation id past the limit") }
            if let last = entries.last, !(last < entry) { throw .malformed("operation ids unsorted or repeated") }
            entries.append(entry)
        }
        return RecentOperations(sorted: entries)
    }
}
