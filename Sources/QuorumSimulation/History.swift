import QuorumCore

/// Every client request of a run: what was asked, of which node, when, and what came
/// back. The checkers read it; `render()` prints it, byte for byte the same for a seed.
public struct History: Sendable {
    public enum Kind: String, Sendable, Equatable {
        case get, put, delete
        /// A truncation of the entry's bucket (its key is empty).
        case truncate
        /// An expiry change (`RequestDriver.touch`).
        case expire
        /// An update of a typed key (`RequestDriver.updateTyped`): the entry's `typed`.
        case typedUpdate = "typed-update"
        /// A read of a typed key (`RequestDriver.readTyped`), of the entry's `members`.
        case typedRead = "typed-read"
        /// An operation on a key of the strong bucket (`RequestDriver.strong`): the entry's `strong`.
        case strong
    }

    /// What a request came to.
    public enum Outcome: Sendable, Equatable {
        /// Not answered yet.
        case pending
        /// A read's merged state (nil: no replica held the key).
        case read(KeyState?)
        /// A write or delete acknowledged by `w` replicas: the version it created and the
        /// state the coordinator answered with.
        case written(version: Sibling, state: KeyState, acknowledgedBy: [ReplicaPlan.Slot] = [])
        /// Acknowledged, but every replica that acknowledged it lost its disk afterwards: the
        /// write is gone through no fault of the protocol, and no check counts on it.
        case lostWithWipedDisks(version: Sibling)
        /// Refused or failed before or during the request; it may still have been applied
        /// on some replicas (a write that missed its quorum), so it can supersede.
        case failed(code: String)
        /// The coordinator crashed mid-request: applied or not, nobody knows.
        case indeterminate
        /// Every member adopted the truncation point.
        case truncated(point: HLCTimestamp)
        /// An expiry change answered: whether it applied.
        case touched(applied: Bool)
        /// A typed update acknowledged by `w` replicas: the lead's reply.
        case typedUpdated(reply: TypedReply, acknowledgedBy: [ReplicaPlan.Slot] = [])
        /// Acknowledged, but every replica that acknowledged it lost its disk afterwards
        /// (as `lostWithWipedDisks`): the checks count it as neither kept nor lost.
        case typedLostWithWipedDisks(reply: TypedReply)
        /// A typed read's joined state of the members it asked for (nil: no replica held the key).
        case typedRead(TypedState?)
        /// A strong operation reached a decision: done, or its condition failed.
        case strongAnswered(StrongAnswer)
    }

    public struct Entry: Sendable {
        public var id: Int
        /// The client; `History.checkerClient` for the reads the checkers make at the end.
        public var client: Int
        public var kind: Kind
        public var bucket: String
        public var key: [UInt8]
        /// The coordinator's node index.
        public var node: Int
        public var options: RequestOptions
        public var sloppy: Bool
        /// A write's value (empty for a delete).
        public var value: [UInt8]
        /// The context the write carried; empty for a blind write and for reads.
        public var context: VersionVector
        /// A create-only write.
        public var createOnly = false
        /// A typed update's operation (nil for every other kind).
        public var typed: TypedOperation?
        /// A typed read's members (nil for every other kind).
        public var members: MemberSelection?
        /// A strong operation (nil for every other kind).
        public var strong: StrongOperation?
        /// A strong compare-and-set on an etag (`ifMatch`): the value the client was given
        /// with that etag (values are unique, so the etag stands for it); nil otherwise.
        public var etagValue: [UInt8]?
        public var invokedAt: UInt64
        public var completedAt: UInt64?
        public var outcome: Outcome

        public var isWrite: Bool { kind == .put || kind == .delete }
        public var isAcknowledged: Bool {
            if case .written = outcome { return true }
            return false
        }
        /// A typed update acknowledged by `w` replicas (and not lost with wiped disks).
        public var isTypedAcknowledged: Bool {
            if case .typedUpdated = outcome { return true }
            return false
        }
        public var writtenVersion: Sibling? {
            if case .written(let version, _, _) = outcome { return version }
            return nil
        }
    }

    public static let checkerClient = -1

    public private(set) var entries: [Entry] = []

    public init() {}

    mutating func begin(
        client: Int, kind: Kind, bucket: String, key: [UInt8], node: Int, options: RequestOptions, sloppy: Bool,
        value: [UInt8], context: VersionVector, createOnly: Bool = false, typed: TypedOperation? = nil,
        members: MemberSelection? = nil, strong: StrongOperation? = nil, etagValue: [UInt8]? = nil, at time: UInt64
    ) -> Int {
        entries.append(
            Entry(
                id: entries.count, client: client, kind: kind, bucket: bucket, key: key, node: node, options: options,
                sloppy: sloppy, value: value, context: context, createOnly: createOnly, typed: typed, members: members,
                strong: strong, etagValue: etagValue, invokedAt: time, completedAt: nil, outcome: .pending))
        return entries.count - 1
    }

    /// Marks acknowledged writes every acknowledging replica of which had its disk wiped
    /// after the acknowledgement (the only writes the durability checks exempt). A stand-in's
    /// copy counts as lost when it or the primary it hands the hint to lost its disk.
    mutating func markWritesLost(wipes: [(node: String, at: UInt64)]) {
        for index in entries.indices {
            guard let acknowledgedAt = entries[index].completedAt else { continue }
            func wiped(_ node: String) -> Bool { wipes.contains { $0.node == node && $0.at >= acknowledgedAt } }
            func lost(_ acknowledgedBy: [ReplicaPlan.Slot]) -> Bool {
                !acknowledgedBy.isEmpty && acknowledgedBy.allSatisfy { wiped($0.node) || ($0.isStandIn && wiped($0.primary)) }
            }
            switch entries[index].outcome {
            case .written(let version, _, let acknowledgedBy) where lost(acknowledgedBy):
                entries[index].outcome = .lostWithWipedDisks(version: version)
            case .typedUpdated(let reply, let acknowledgedBy) where lost(acknowledgedBy):
                entries[index].outcome = .typedLostWithWipedDisks(reply: reply)
            default: continue
            }
        }
    }

    /// The history without the requests on `buckets` (entry ids keep their numbers).
    func excluding(buckets: Set<String>) -> History {
        var kept = self
        kept.entries = entries.filter { !buckets.contains($0.bucket) }
        return kept
    }

    mutating func complete(_ id: Int, outcome: Outcome, at time: UInt64) {
        precondition(entries[id].completedAt == nil, "history entry \(id) completed twice")
        entries[id].completedAt = time
        entries[id].outcome = outcome
    }

    /// One line per request, in invocation order, times relative to `origin`.
    public func render(origin: UInt64) -> String {
        var text = ""
        for entry in entries {
            text += Self.render(entry, origin: origin)
            text += "\n"
        }
        return text
    }

    static func render(_ entry: Entry, origin: UInt64) -> String {
        // Times before the origin (hand-made histories) print as they are.
        func relative(_ time: UInt64) -> UInt64 { time >= origin ? time - origin : time }
        let invoked = relative(entry.invokedAt)
        let completed = entry.completedAt.map { String(relative($0)) } ?? "-"
        let who = entry.client == checkerClient ? "check" : "c\(entry.client)"
        let kind = entry.createOnly ? "put-if-absent" : entry.kind.rawValue
        var line = "#\(entry.id) [\(invoked)..\(completed)] \(who) \(kind) \(entry.bucket)/\(text(entry.key)) via n\(entry.node)"
        line += " " + render(entry.options) + (entry.sloppy ? " sloppy" : "")
        if entry.kind == .put { line += " value=\(text(entry.value))" }
        if let typed = entry.typed { line += " " + render(typed) }
        if let members = entry.members { line += " " + render(members) }
        if let strong = entry.strong { line += " " + render(strong, etagValue: entry.etagValue) }
        if entry.isWrite && !entry.context.isEmpty { line += " ctx=\(render(entry.context))" }
        line += " -> "
        switch entry.outcome {
        case .pending: line += "pending"
        case .read(let state): line += state.map { "read \(render($0))" } ?? "read nothing"
        case .written(let version, _, let acknowledgedBy):
            line += "ok \(render(version))"
            if !acknowledgedBy.isEmpty {
                line += " by " + acknowledgedBy.map { $0.isStandIn ? "\($0.node) for \($0.primary)" : $0.node }.sorted()
                    .joined(separator: ",")
            }
        case .lostWithWipedDisks(let version): line += "ok \(render(version)), lost with its replicas' wiped disks"
        case .failed(let code): line += "failed \(code)"
        case .indeterminate: line += "indeterminate"
        case .truncated(let point): line += "truncated below \(point.physicalMilliseconds).\(point.logical)"
        case .touched(let applied): line += applied ? "applied" : "not applied"
        case .typedUpdated(let reply, let acknowledgedBy):
            line += "ok \(render(reply))"
            if !acknowledgedBy.isEmpty {
                line += " by " + acknowledgedBy.map { $0.isStandIn ? "\($0.node) for \($0.primary)" : $0.node }.sorted()
                    .joined(separator: ",")
            }
        case .typedLostWithWipedDisks(let reply): line += "ok \(render(reply)), lost with its replicas' wiped disks"
        case .typedRead(let state): line += state.map { "read \(render($0))" } ?? "read nothing"
        case .strongAnswered(let answer): line += render(answer)
        }
        return line
    }

    static func render(_ options: RequestOptions) -> String {
        var parts: [String] = []
        if let n = options.n { parts.append("n=\(n)") }
        if let r = options.r { parts.append("r=\(r.description)") }
        if let w = options.w { parts.append("w=\(w.description)") }
        if let pw = options.pw { parts.append("pw=\(pw.description)") }
        return parts.isEmpty ? "defaults" : parts.joined(separator: ",")
    }

    static func render(_ clock: VersionVector) -> String {
        "{" + clock.entries.map { "\($0.actor):\($0.counter)" }.joined(separator: ",") + "}"
    }

    static func render(_ sibling: Sibling) -> String {
        let what = sibling.isTombstone ? "tombstone" : text(sibling.value)
        return "\(what)@\(sibling.dot.actor):\(sibling.dot.counter)/\(sibling.timestamp.physicalMilliseconds).\(sibling.timestamp.logical)"
    }

    static func render(_ state: KeyState) -> String {
        "[" + state.siblings.map(render).joined(separator: " ") + "] " + render(state.clock)
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
