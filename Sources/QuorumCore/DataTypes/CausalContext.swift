/// Every dot a typed state has seen: a compact version vector plus a "cloud" of dots not
/// contiguous with it (deltas arrive out of order, and a remove's delta covers scattered
/// dots of other actors).
///
/// Always kept compact (`compacted`): a cloud dot never sits at or just above its
/// actor's vector entry, and vector entries are nonzero. So equal contexts are equal
/// values and encode to equal bytes. Unlike a `VersionVector` it is never pruned:
/// forgetting a dot would bring removed elements back and lose increments.
public struct CausalContext: Sendable, Equatable, Hashable {
    public private(set) var vv: [String: UInt64]
    public private(set) var cloud: Set<Dot>

    public init(vv: [String: UInt64] = [:], cloud: Set<Dot> = []) {
        self.vv = vv.filter { $0.value > 0 }
        self.cloud = cloud.filter { $0.counter > 0 }
        compact()
    }

    /// Already compact (decoders check it).
    init(compactVV vv: [String: UInt64], cloud: Set<Dot>) {
        self.vv = vv
        self.cloud = cloud
    }

    public static let empty = CausalContext()

    public var isEmpty: Bool { vv.isEmpty && cloud.isEmpty }

    /// Every actor with a dot here.
    public var actors: Set<String> { Set(vv.keys).union(cloud.map(\.actor)) }

    public func covers(_ dot: Dot) -> Bool {
        dot.counter <= (vv[dot.actor] ?? 0) || cloud.contains(dot)
    }

    public mutating func insert(_ dot: Dot) {
        guard !covers(dot) else { return }
        cloud.insert(dot)
        compact()
    }

    public func inserting(_ dot: Dot) -> CausalContext {
        var result = self
        result.insert(dot)
        return result
    }

    public func merged(with other: CausalContext) -> CausalContext {
        var result = self
        for (actor, counter) in other.vv where counter > (result.vv[actor] ?? 0) { result.vv[actor] = counter }
        result.cloud.formUnion(other.cloud)
        result.compact()
        return result
    }

    /// Folds cloud dots contiguous with the vector into it and drops those it covers.
    public func compacted() -> CausalContext {
        var result = self
        result.compact()
        return result
    }

    private mutating func compact() {
        guard !cloud.isEmpty else { return }
        var byActor: [String: [UInt64]] = [:]
        for dot in cloud { byActor[dot.actor, default: []].append(dot.counter) }
        var kept = Set<Dot>()
        for (actor, counters) in byActor {
            var top = vv[actor] ?? 0
            for counter in counters.sorted() {
                if counter <= top { continue }
                if counter == top + 1 { top = counter } else { kept.insert(Dot(actor: actor, counter: counter)) }
            }
            if top > 0 { vv[actor] = top }
        }
        cloud = kept.filter { $0.counter > (vv[$0.actor] ?? 0) }
    }

    /// The dot `actor`'s next event gets: one past every dot of `actor` seen here, so it is
    /// new as long as `actor` is the replica that holds this state (only it makes its dots).
    public func nextDot(for actor: String) throws(KVError) -> Dot {
        var top = vv[actor] ?? 0
        for dot in cloud where dot.actor == actor { top = max(top, dot.counter) }
        guard top < UInt64.max else {
            throw .internalError(message: "the typed key's context holds the largest counter of \(actor); no later update can be numbered")
        }
        return Dot(actor: actor, counter: top + 1)
    }

    /// Sorted vector entries, for encoders and readers that want a stable order.
    public var sortedVV: [(actor: String, counter: UInt64)] { vv.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    public var sortedCloud: [Dot] { cloud.sorted() }

    public func encode(into writer: inout ByteWriter) {
        let entries = sortedVV
        writer.writeVarInt(UInt64(entries.count))
        for entry in entries {
            writer.writeString(entry.actor)
            writer.writeVarInt(entry.counter)
        }
        let dots = sortedCloud
        writer.writeVarInt(UInt64(dots.count))
        for dot in dots {
            writer.writeString(dot.actor)
            writer.writeVarInt(dot.counter)
        }
    }

    /// Refuses anything `encode` would not write: unsorted or repeated entries, zero
    /// counters, a cloud that is not compact, more actors than the decode bound.
    public static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> CausalContext {
        let count = try reader.readLength()
        guard count <= TypedDecodeBounds.actors(limits) else { throw .malformed("context has \(count) actors, past the limit") }
        var vv: [String: UInt64] = [:]
        var previous: String?
        for _ in 0..<count {
            let actor = try reader.readString()
            let counter = try reader.readVarInt()
            if let previous, !(previous < actor) { throw .malformed("context entries unsorted or repeated") }
            guard counter > 0 else { throw .malformed("context entry with counter 0") }
            vv[actor] = counter
            previous = actor
        }
        let cloudCount = try reader.readLength()
        var cloud = Set<Dot>()
        var last: Dot?
        for _ in 0..<cloudCount {
            let dot = Dot(actor: try reader.readString(), counter: try reader.readVarInt())
            if let last, !(last < dot) { throw .malformed("context cloud unsorted or repeated") }
            let floor = vv[dot.actor] ?? 0
            guard dot.counter > floor, dot.counter - floor > 1 else { throw .malformed("context cloud is not compact") }
            cloud.insert(dot)
            last = dot
        }
        let context = CausalContext(compactVV: vv, cloud: cloud)
        guard context.actors.count <= TypedDecodeBounds.actors(limits) else { throw .malformed("context has too many actors") }
        return context
    }
}
