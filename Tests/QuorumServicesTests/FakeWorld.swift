import QuorumCore
@testable import QuorumServices

/// A tiny world to drive a node's services in: virtual time with one agenda, nodes each
/// with an in-memory store, live Merkle trees and the real `ReplicaDriver`, and calls that
/// cross to other nodes as agenda items a millisecond each way. Every request sent is
/// logged, so a test can say what a service did as well as what it left behind.
final class FakeWorld {
    let limits: AntiEntropyLimits
    var ring: Ring
    /// The ring the cluster is heading to; `ring` unless a test makes a change.
    var target: Ring
    var props: [String: BucketProps]
    private(set) var now: UInt64 = 1_000_000_000
    private var agenda: [(time: UInt64, order: Int, work: () -> Void)] = []
    private var scheduled = 0
    private(set) var nodes: [String: FakeNode] = [:]
    /// Nodes that answer nothing: calls to them time out.
    var down: Set<String> = [] {
        didSet { if down != oldValue { downGeneration += 1 } }
    }
    /// Raised by each change of `down`, as the node's `DownPeers` counts them.
    private(set) var downGeneration: UInt64 = 0
    /// Nodes that answer only after `silenceMilliseconds`, past any request's deadline (a
    /// peer that hangs while its connection stays up).
    var silent: Set<String> = []
    let silenceMilliseconds = 120_000
    /// Every request sent, in order.
    private(set) var sent: [(from: String, to: String, request: PeerRequest)] = []
    /// Fetches sent and not answered yet, per sender, and the most there ever were.
    private(set) var fetchesInFlight: [String: Int] = [:]
    private(set) var fetchesInFlightMax: [String: Int] = [:]

    init(members: [String], partitionCount: Int = 4, props: [String: BucketProps]) {
        var limits = AntiEntropyLimits.defaults
        limits.segmentCount = 16
        limits.fanOut = 4
        limits.tombstoneGraceMilliseconds = 60_000
        self.limits = limits
        ring = Ring(members: members, partitionCount: partitionCount)
        target = ring
        self.props = props
        for member in members { nodes[member] = FakeNode(id: member, world: self) }
    }

    subscript(_ id: String) -> FakeNode { nodes[id]! }

    func props(for bucket: String) -> BucketProps { props[bucket] ?? .defaults }

    // MARK: Time

    func schedule(after milliseconds: Int, _ work: @escaping () -> Void) {
        scheduled += 1
        agenda.append((now + UInt64(max(0, milliseconds)), scheduled, work))
    }

    /// Runs every item due by `now + milliseconds` (all of them when nil), in time order.
    func run(for milliseconds: UInt64? = nil) {
        let limit = milliseconds.map { now + $0 }
        while let next = agenda.indices.min(by: { (agenda[$0].time, agenda[$0].order) < (agenda[$1].time, agenda[$1].order) }) {
            if let limit, agenda[next].time > limit { break }
            let item = agenda.remove(at: next)
            now = max(now, item.time)
            item.work()
        }
        if let limit { now = max(now, limit) }
    }

    func advance(byMilliseconds milliseconds: UInt64) { now += milliseconds }

    // MARK: Calls

    /// Sends `request` from `from` to `to`; to itself it goes straight to its replica (as
    /// the node's router does), to a peer a millisecond each way, to a down node nowhere.
    func call(from: String, to: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void) {
        sent.append((from, to, request))
        var answer = completion
        if case .fetch = request, from != to {
            fetchesInFlight[from, default: 0] += 1
            fetchesInFlightMax[from] = max(fetchesInFlightMax[from] ?? 0, fetchesInFlight[from]!)
            answer = { [self] response in
                fetchesInFlight[from]! -= 1
                completion(response)
            }
        }
        if to == from { return self[to].replica.handle(request, respond: answer) }
        guard let peer = nodes[to], !down.contains(to) else {
            return schedule(after: timeoutMilliseconds) { answer(nil) }
        }
        if silent.contains(to) { return schedule(after: silenceMilliseconds) { answer(nil) } }
        schedule(after: 1) { [self] in
            peer.replica.handle(request) { response in self.schedule(after: 1) { answer(response) } }
        }
    }

    /// Requests of one kind `from` sent, with their targets.
    func sent(from: String, _ matching: (PeerRequest) -> Bool) -> [(to: String, request: PeerRequest)] {
        sent.filter { $0.from == from && matching($0.request) }.map { ($0.to, $0.request) }
    }

    func clearLog() { sent = [] }
}

/// One node of the fake world: its store (encoded states by partition, bucket and key),
/// a live tree per partition, its replica driver, and the world interfaces its services use.
final class FakeNode {
    let id: String
    unowned let world: FakeWorld
    /// Where this node holds buckets truncated (`PeerRequest.truncate`).
    var truncations = TruncationPoints.none
    struct Name: Hashable, Comparable {
        var partition: Int
        var bucket: String
        var key: [UInt8]

        static func < (lhs: Name, rhs: Name) -> Bool {
            (lhs.partition, lhs.bucket) != (rhs.partition, rhs.bucket)
                ? (lhs.partition, lhs.bucket) < (rhs.partition, rhs.bucket) : lhs.key.lexicographicallyPrecedes(rhs.key)
        }
    }
    private(set) var rows: [Name: [UInt8]] = [:]
    /// Typed keys' member rows (member bytes to payload), by key; the header is in `rows`.
    private(set) var members: [Name: [[UInt8]: [UInt8]]] = [:]
    private var trees: [Int: MerkleTree] = [:]
    /// Partitions whose tree is not ready (a snapshot answers nil).
    var treesMissing: Set<Int> = []
    private(set) var buildMissingCalls = 0
    /// Peers this node believes down.
    var unreachable: Set<String> = []
    private(set) var transfersDoneCalls = 0
    private(set) var logged: [(level: ServiceLogLevel, message: String)] = []
    private(set) var replica: ReplicaDriver!

    init(id: String, world: FakeWorld) {
        self.id = id
        self.world = world
        let storage = FakeStorage(node: self)
        replica = ReplicaDriver(
            nodeID: id, partitionCount: world.ring.partitionCount, limits: .defaults, storage: storage, trees: storage,
            context: FakeReplicaContext(node: self), clock: FakeClock(world: world))
    }

    /// Swaps the node's replica (to switch a fault point on in it).
    func replaceReplica(_ driver: ReplicaDriver) { replica = driver }

    /// An anti-entropy driver for this node in the fake world.
    func antiEntropy(
        bounds: AntiEntropyBounds = .defaults, routine: Bool = true, faults: FaultPoints = .inert
    ) -> AntiEntropyDriver {
        let storage = FakeStorage(node: self)
        return AntiEntropyDriver(
            nodeID: id, limits: world.limits, bounds: bounds, routineExchanges: routine, executor: FakeExecutor(world: world),
            replicas: FakeCaller(node: self), storage: storage, trees: storage, context: FakeAntiEntropyContext(node: self),
            clock: FakeClock(world: world), faults: faults)
    }

    func purger(bounds: AntiEntropyBounds = .defaults, faults: FaultPoints = .inert) -> TombstonePurgeDriver {
        TombstonePurgeDriver(
            nodeID: id, bounds: bounds, storage: FakeStorage(node: self), replicas: FakeCaller(node: self),
            context: FakeAntiEntropyContext(node: self), clock: FakeClock(world: world), faults: faults)
    }

    func sweeper(bounds: AntiEntropyBounds = .defaults) -> StrayCopyDriver {
        StrayCopyDriver(
            nodeID: id, bounds: bounds, storage: FakeStorage(node: self), replicas: FakeCaller(node: self),
            context: FakeAntiEntropyContext(node: self), clock: FakeClock(world: world))
    }

    // MARK: The store

    func state(_ bucket: String, _ key: String) -> KeyState? {
        let name = self.name(bucket, key)
        return rows[name].map { try! KeyState(decoding: $0) }
    }

    /// Stores `state` directly, as if it had been written long ago.
    func put(_ bucket: String, _ key: String, _ state: KeyState) {
        let name = self.name(bucket, key)
        commit(name, state.encoded())
    }

    var keyCount: Int { rows.count }

    /// A typed key's whole state as stored (header and every member), nil when absent.
    func typed(_ bucket: String, _ key: String) -> TypedState? {
        let name = self.name(bucket, key)
        guard let header = rows[name].map({ try! TypedHeader(decoding: $0) }) else { return nil }
        var decoded: [[UInt8]: Member] = [:]
        for (member, payload) in members[name] ?? [:] { decoded[member] = try! Member(decodingRow: payload) }
        return TypedState(header: header, members: decoded)
    }

    /// Stores a typed key's whole state directly, decomposed as the stores keep it.
    func putTyped(_ bucket: String, _ key: String, _ state: TypedState) {
        let name = self.name(bucket, key)
        let stored = state.withoutEmptyMembers
        var rows: [[UInt8]: [UInt8]] = [:]
        for (member, dots) in stored.members { rows[member] = dots.encodedRow() }
        members[name] = rows.isEmpty ? nil : rows
        commit(name, TypedHeader(of: stored).encoded())
    }

    fileprivate func readTyped(_ name: Name, selection: MemberSelection) -> StoredTyped? {
        guard let header = rows[name] else { return nil }
        let stored = members[name] ?? [:]
        let found = stored.filter { selection.includes($0.key) }.map { StoredMember(member: $0.key, payload: $0.value) }
            .sorted { $0.member.lexicographicallyPrecedes($1.member) }
        return StoredTyped(header: header, members: found)
    }

    fileprivate func commitTyped(_ name: Name, _ changes: TypedRowChanges) {
        var stored = members[name] ?? [:]
        for change in changes.lastChangePerMember { stored[change.member] = change.payload }
        members[name] = stored.isEmpty ? nil : stored
        commit(name, changes.header)
    }

    private func name(_ bucket: String, _ key: String) -> Name {
        let bytes = Array(key.utf8)
        return Name(partition: world.ring.partition(bucket: bucket, key: bytes), bucket: bucket, key: bytes)
    }

    fileprivate func commit(_ name: Name, _ blob: [UInt8]?) {
        let old = rows[name].map { StableHash.hash($0) }
        rows[name] = blob
        if blob == nil { members[name] = nil }  // a typed key's members go with its header
        let new = blob.map { StableHash.hash($0) }
        guard old != new else { return }
        trees[name.partition, default: MerkleTree(shape: world.limits.shape)].update(
            keyHash: StableHash.keyHash(bucket: name.bucket, key: name.key), old: old, new: new)
    }

    fileprivate func blob(_ name: Name) -> [UInt8]? { rows[name] }

    /// The acceptor's standing (issue #17): voting unless a test says otherwise.
    var consensusFloor: ConsensusFloor = .voting(floor: nil)

    /// Strong keys' Paxos rows, apart from their records in `rows`.
    fileprivate(set) var paxos: [Name: [UInt8]] = [:]

    /// The disk is replaced: the store restarts empty and catches up, as a node's does.
    func wipe() {
        rows = [:]
        members = [:]
        trees = [:]
        paxos = [:]
        consensusFloor = .catchingUp(floor: nil)
    }

    fileprivate func scan(partition: Int) -> [(name: Name, blob: [UInt8])] {
        rows.filter { $0.key.partition == partition }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    fileprivate func tree(_ partition: Int) -> MerkleTree {
        var tree = trees[partition] ?? MerkleTree(shape: world.limits.shape)
        tree.refresh()
        return tree
    }

    fileprivate func noteBuildMissing() { buildMissingCalls += 1 }
    fileprivate func noteTransfersDone() { transfersDoneCalls += 1 }
    fileprivate func note(_ level: ServiceLogLevel, _ message: String) { logged.append((level, message)) }
}

/// A node's store: reads and scans answer at once, writes commit a millisecond later in order.
final class FakeStorage: ReplicaStorage, MerkleIndex {
    private unowned let node: FakeNode

    init(node: FakeNode) {
        self.node = node
    }

    func readState(partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<[UInt8]?, StorageFailure>) -> Void) {
        completion(.success(node.blob(.init(partition: partition, bucket: bucket, key: key))))
    }

    func updateState(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable ([UInt8]?) throws(KVError) -> [UInt8],
        completion: @escaping (Result<[UInt8], StateWriteError>) -> Void
    ) {
        let name = FakeNode.Name(partition: partition, bucket: bucket, key: key)
        node.world.schedule(after: 1) { [node] in
            do throws(KVError) {
                let next = try transform(node.blob(name))
                node.commit(name, next)
                completion(.success(next))
            } catch {
                completion(.failure(.refused(error)))
            }
        }
    }

    func deleteState(
        partition: Int, bucket: String, key: [UInt8], matches: @escaping @Sendable ([UInt8]) -> Bool,
        completion: @escaping (Result<Bool, StorageFailure>) -> Void
    ) {
        let name = FakeNode.Name(partition: partition, bucket: bucket, key: key)
        node.world.schedule(after: 1) { [node] in
            guard let blob = node.blob(name), matches(blob) else { return completion(.success(false)) }
            node.commit(name, nil)
            completion(.success(true))
        }
    }

    /// Typed keys as the stores keep them: the header in the key's row, a row per member.
    func readTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        completion: @escaping (Result<StoredTyped?, StorageFailure>) -> Void
    ) {
        completion(.success(node.readTyped(.init(partition: partition, bucket: bucket, key: key), selection: members)))
    }

    /// Commits a millisecond later, in order with every other write, header and members together.
    func updateTyped(
        partition: Int, bucket: String, key: [UInt8], members: MemberSelection,
        transform: @escaping @Sendable (StoredTyped?) throws(KVError) -> TypedRowChanges,
        completion: @escaping (Result<StoredTyped, StateWriteError>) -> Void
    ) {
        let name = FakeNode.Name(partition: partition, bucket: bucket, key: key)
        node.world.schedule(after: 1) { [node] in
            let before = node.readTyped(name, selection: members)
            do throws(KVError) {
                let changes = try transform(before)
                node.commitTyped(name, changes)
                completion(.success((before ?? StoredTyped(header: [], members: [])).applying(changes, selection: members)))
            } catch {
                completion(.failure(.refused(error)))
            }
        }
    }

    func readPaxos(
        partition: Int, bucket: String, key: [UInt8], completion: @escaping (Result<StoredPaxos, StorageFailure>) -> Void
    ) {
        let name = FakeNode.Name(partition: partition, bucket: bucket, key: key)
        completion(.success(StoredPaxos(paxos: node.paxos[name], record: node.blob(name))))
    }

    func holdsStrongValues(completion: @escaping (Result<Bool, StorageFailure>) -> Void) {
        completion(.success(node.paxos.keys.contains { StoredPaxos(paxos: node.paxos[$0], record: node.blob($0)).holdsValue }))
    }

    /// Commits a millisecond later, in order with every other write, both rows together.
    func updatePaxos(
        partition: Int, bucket: String, key: [UInt8], transform: @escaping @Sendable (StoredPaxos) throws(KVError) -> StoredPaxos?,
        completion: @escaping (Result<StoredPaxos, StateWriteError>) -> Void
    ) {
        let name = FakeNode.Name(partition: partition, bucket: bucket, key: key)
        node.world.schedule(after: 1) { [node] in
            let before = StoredPaxos(paxos: node.paxos[name], record: node.blob(name))
            do throws(KVError) {
                guard let next = try transform(before) else { return completion(.success(before)) }
                node.paxos[name] = next.paxos
                if next.record != before.record { node.commit(name, next.record) }
                completion(.success(next))
            } catch {
                completion(.failure(.refused(error)))
            }
        }
    }

    func scan(
        partition: Int, after: (bucket: String, key: [UInt8])?, limit: Int,
        completion: @escaping (Result<[StoredRow], StorageFailure>) -> Void
    ) {
        let start = after.map { FakeNode.Name(partition: partition, bucket: $0.bucket, key: $0.key) }
        let rows = node.scan(partition: partition).filter { start == nil || start! < $0.name }.prefix(limit)
        completion(.success(rows.map { StoredRow(bucket: $0.name.bucket, key: $0.name.key, blob: $0.blob) }))
    }

    var shape: MerkleShape { node.world.limits.shape }

    func root(partition: Int) -> UInt64? {
        guard !node.treesMissing.contains(partition) else { return nil }
        var tree = node.tree(partition)
        return tree.root
    }

    func hashes(partition: Int, level: Int, indices: [Int]) -> [Int: UInt64]? {
        guard !node.treesMissing.contains(partition) else { return nil }
        var tree = node.tree(partition)
        return tree.hashes(level: level, indices: indices)
    }

    func segmentKeys(partition: Int, segments: [Int], completion: @escaping (Result<[SegmentKey], StorageFailure>) -> Void) {
        let wanted = Set(segments)
        let keys = node.scan(partition: partition).filter { wanted.contains(shape.segment(bucket: $0.name.bucket, key: $0.name.key)) }
        completion(.success(keys.map { SegmentKey(bucket: $0.name.bucket, key: $0.name.key, digest: StableHash.hash($0.blob)) }))
    }

    func snapshot(partition: Int) -> MerkleTree? {
        node.treesMissing.contains(partition) ? nil : node.tree(partition)
    }

    func buildMissing() { node.noteBuildMissing() }
}

final class FakeReplicaContext: ReplicaContext {
    private unowned let node: FakeNode

    init(node: FakeNode) {
        self.node = node
    }

    var actorID: String { node.id }
    func observe(_ timestamp: HLCTimestamp) {}

    func takeHint(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode, respond: @escaping (PeerResponse) -> Void
    ) {
        respond(.failure(code: "bad_parameter", message: "no hints in the fake world"))
    }

    func takeTypedHint(
        target: String, bucket: String, key: [UInt8], state: TypedState, respond: @escaping (PeerResponse) -> Void
    ) {
        respond(.failure(code: "unavailable", message: "typed hints are not kept yet"))
    }

    func datatype(of bucket: String) -> DataType? { node.world.props(for: bucket).datatype }
    func consistency(of bucket: String) -> BucketConsistency { node.world.props(for: bucket).consistency }
    func clockReading() -> HLCTimestamp { HLCTimestamp(physicalMilliseconds: node.world.now, logical: 0) }
    var consensusFloor: ConsensusFloor { node.consensusFloor }

    func adoptConsensusFloor(_ floor: PaxosBallot, relearning: Bool, completion: @escaping (Result<Void, KVError>) -> Void) {
        node.consensusFloor = node.consensusFloor.caughtUp(floor: floor, relearning: relearning)
        completion(.success(()))
    }

    func raiseConsensusFloor(_ floor: PaxosBallot, completion: @escaping (Result<Void, KVError>) -> Void) {
        node.consensusFloor = node.consensusFloor.raised(to: floor)
        completion(.success(()))
    }

    func storeProps(bucket: String, props: BucketProps, completion: @escaping (Result<Void, KVError>) -> Void) {
        completion(.failure(.badParameter(name: "bucket", message: "props are fixed in the fake world")))
    }

    func truncationPoint(for bucket: String) -> HLCTimestamp? { node.truncations.point(for: bucket) }

    func adoptTruncation(bucket: String?, point: HLCTimestamp, completion: @escaping (Result<Void, KVError>) -> Void) {
        guard node.truncations.admits(bucket, bucketsMax: GossipLimits.defaults.bucketsMax) else {
            return completion(.failure(TruncationPoints.full(bucketsMax: GossipLimits.defaults.bucketsMax)))
        }
        node.truncations = node.truncations.raising(bucket, to: point)
        completion(.success(()))
    }

    func decompress(_ bytes: [UInt8], originalLength: Int) throws -> [UInt8] { bytes }
    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) { node.note(level, message) }
}

final class FakeAntiEntropyContext: AntiEntropyContext {
    private unowned let node: FakeNode

    init(node: FakeNode) {
        self.node = node
    }

    var serving: Ring { node.world.ring }
    var target: Ring { node.world.target }
    func props(for bucket: String) -> BucketProps { node.world.props(for: bucket) }
    func truncationPoint(for bucket: String) -> HLCTimestamp? { node.truncations.point(for: bucket) }
    var replicasMax: Int { max(node.world.props.values.map(\.n).max() ?? 0, BucketProps.defaults.n) }
    var replicasMin: Int { min(node.world.props.values.map(\.n).min() ?? BucketProps.defaults.n, BucketProps.defaults.n) }
    func unreachable() -> Set<String> { node.unreachable }
    var tombstoneGraceMilliseconds: UInt64 { node.world.limits.tombstoneGraceMilliseconds }
    func transfersDone() { node.noteTransfersDone() }
    func compress(_ bytes: [UInt8]) -> [UInt8]? { bytes }
    func log(_ level: ServiceLogLevel, _ message: String, _ metadata: [String: String]) { node.note(level, message) }
}

final class FakeCaller: ReplicaCaller {
    private unowned let node: FakeNode

    init(node: FakeNode) {
        self.node = node
    }

    func call(_ target: String, _ request: PeerRequest, timeoutMilliseconds: Int, completion: @escaping (PeerResponse?) -> Void) {
        node.world.call(from: node.id, to: target, request, timeoutMilliseconds: timeoutMilliseconds, completion: completion)
    }
}

final class FakeExecutor: ServiceExecutor {
    private unowned let world: FakeWorld

    init(world: FakeWorld) {
        self.world = world
    }

    func execute(_ work: @escaping () -> Void) { world.schedule(after: 0, work) }

    func schedule(afterMilliseconds milliseconds: Int, _ work: @escaping () -> Void) -> any ScheduledWork {
        let item = FakeScheduled()
        world.schedule(after: milliseconds) { if !item.cancelled { work() } }
        return item
    }

    func uptimeMilliseconds() -> UInt64 { world.now }
}

final class FakeScheduled: ScheduledWork {
    private(set) var cancelled = false
    func cancel() { cancelled = true }
}

final class FakeClock: ServiceClock {
    private unowned let world: FakeWorld

    init(world: FakeWorld) {
        self.world = world
    }

    func nowMilliseconds() -> UInt64 { world.now }
}

// MARK: States

/// An lww state: one version written at `milliseconds` by `actor`.
func lwwState(_ value: String, at milliseconds: UInt64, by actor: String = "w") -> KeyState {
    KeyState(siblings: [version(value, at: milliseconds, by: actor)])
}

/// An lww tombstone written at `milliseconds`.
func tombstone(at milliseconds: UInt64, by actor: String = "w") -> KeyState {
    var sibling = version("", at: milliseconds, by: actor)
    sibling.isTombstone = true
    return KeyState(siblings: [sibling])
}

private func version(_ value: String, at milliseconds: UInt64, by actor: String) -> Sibling {
    Sibling(
        dot: Dot(actor: actor, counter: 0), value: Array(value.utf8), contentType: "text/plain", isTombstone: false,
        timestamp: HLCTimestamp(physicalMilliseconds: milliseconds, logical: 0))
}
