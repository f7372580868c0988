import XCTest
@testable import QuorumCore

final class TypedOperationTests: XCTestCase {
    private let e = Array("e".utf8)
    private let f = Array("f".utf8)
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testAddWinsOverAConcurrentRemove() throws {
        var world = TypedWorld(datatype: .set, replicaCount: 2, seed: 1)
        try world.update(.setAdd([e]), at: 0)
        world.deliverAll()
        // B removes the add it observed while A adds again concurrently.
        try world.update(.setRemove([e]), at: 1)
        try world.update(.setAdd([e]), at: 0)
        world.deliverAll()
        XCTAssertTrue(world.replicas[0].state.contains(e))
        XCTAssertEqual(world.replicas[0].state, world.replicas[1].state)
    }

    func testRemoveOfAnObservedElementRemovesIt() throws {
        var world = TypedWorld(datatype: .set, replicaCount: 3, seed: 2)
        let added = try world.update(.setAdd([e, f]), at: 0)
        XCTAssertEqual(added.reply, .count(2))
        world.deliverAll()
        let removed = try world.update(.setRemove([e, bytes("absent")]), at: 2)
        XCTAssertEqual(removed.reply, .count(1))
        world.deliverAll()
        for replica in world.replicas { XCTAssertEqual(replica.state.setElements, [f]) }
        XCTAssertEqual(try world.update(.setAdd([f]), at: 1).reply, .count(0), "f was already present")
    }

    func testRemoveWithAReadContextRemovesOnlyWhatTheReadSaw() throws {
        var world = TypedWorld(datatype: .set, replicaCount: 2, seed: 3)
        try world.update(.setAdd([e]), at: 0)
        world.deliverAll()
        let readContext = world.replicas[1].state.context
        try world.update(.setAdd([e]), at: 0)  // not seen by the read
        world.deliverAll()
        try world.update(.setRemoveObserved([e], context: readContext), at: 1)
        world.deliverAll()
        XCTAssertTrue(world.replicas[0].state.contains(e), "the add the read had not seen survives")
        let fresh = world.replicas[1].state.context
        try world.update(.setRemoveObserved([e], context: fresh), at: 1)
        world.deliverAll()
        XCTAssertFalse(world.replicas[0].state.contains(e))
    }

    func testResetRemovesObservedMembersButAConcurrentAddSurvives() throws {
        var world = TypedWorld(datatype: .set, replicaCount: 2, seed: 4)
        try world.update(.setAdd([e, f]), at: 0)
        world.deliverAll()
        XCTAssertEqual(try world.update(.reset, at: 1).reply, .count(1))
        try world.update(.setAdd([bytes("g")]), at: 0)
        world.deliverAll()
        for replica in world.replicas { XCTAssertEqual(replica.state.setElements, [bytes("g")]) }

        var counter = TypedWorld(datatype: .counter, replicaCount: 2, seed: 5)
        try counter.update(.increment(by: 10, operationID: nil), at: 0)
        counter.deliverAll()
        try counter.update(.reset, at: 1)
        counter.deliverAll()
        XCTAssertEqual(try counter.replicas[0].state.counterValue(), 0)
        XCTAssertEqual(try counter.update(.increment(by: 2, operationID: nil), at: 0).reply, .integer(2))
    }

    func testTheSameOperationIDAtTheSameLeadCountsOnce() throws {
        var world = TypedWorld(datatype: .counter, replicaCount: 2, seed: 6)
        let id = bytes("op-1")
        XCTAssertEqual(try world.update(.increment(by: 4, operationID: id), at: 0).reply, .integer(4))
        XCTAssertEqual(try world.update(.increment(by: 4, operationID: id), at: 0).reply, .integer(4))
        world.deliverAll()
        XCTAssertEqual(try world.update(.increment(by: 4, operationID: id), at: 1).reply, .integer(4), "the window replicated")
        XCTAssertEqual(try world.update(.increment(by: -1, operationID: bytes("op-2")), at: 1).reply, .integer(3))
        world.deliverAll()
        XCTAssertEqual(try world.replicas[0].state.counterValue(), 3)
    }

    /// A repeated operation id counts nothing new, but its delta still carries the lead's
    /// counter entries: the coordinator copies it to w replicas before acknowledging, so
    /// an empty one would leave the increment on the lead alone (simulator seed 543, chaos).
    func testARepeatedOperationIDReshipsTheLeadsCounterEntries() throws {
        var world = TypedWorld(datatype: .counter, replicaCount: 2, seed: 6)
        let id = bytes("op-1")
        let first = try world.update(.increment(by: 4, operationID: id), at: 0)
        let again = try world.update(.increment(by: 4, operationID: id), at: 0)
        XCTAssertEqual(again.reply, .integer(4))
        XCTAssertEqual(again.delta.members, first.delta.members, "the same entry, no new dot")
        XCTAssertTrue(again.delta.opIDs.contains(id: id))
        // The replica that only ever gets the repeat's delta counts the increment once.
        var lone = TypedState(datatype: .counter)
        lone = lone.joined(with: again.delta, isFull: false)
        XCTAssertEqual(try lone.counterValue(), 4)
        lone = lone.joined(with: first.delta, isFull: false)
        XCTAssertEqual(try lone.counterValue(), 4, "and once with both")
    }

    func testTheDedupeWindowKeepsTheNewestIDs() {
        let entries = (0..<10).map { RecentOperations.Entry(stamp: HLCTimestamp(physicalMilliseconds: UInt64($0), logical: 0), id: [UInt8($0)]) }
        let left = RecentOperations(Array(entries[0..<6]), capacity: 4)
        let right = RecentOperations(Array(entries[3..<10]), capacity: 4)
        XCTAssertEqual(left.joined(with: right, capacity: 4).entries, Array(entries[6..<10]))
        XCTAssertEqual(left.joined(with: right, capacity: 4), right.joined(with: left, capacity: 4))
    }

    func testMapFieldsFollowTheValueRule() throws {
        var world = TypedWorld(datatype: .map, replicaCount: 2, seed: 8)
        XCTAssertEqual(try world.update(.mapUpdate([.setRegister(field: f, value: bytes("10"))]), at: 0).reply, .count(1))
        XCTAssertEqual(try world.update(.mapUpdate([.incrementCounter(field: f, by: 5)]), at: 0).reply, .integer(15))
        world.deliverAll()
        XCTAssertEqual(try world.update(.mapUpdate([.incrementCounter(field: f, by: -2)]), at: 1).reply, .integer(13))
        try world.update(.mapUpdate([.enableFlag(field: e)]), at: 1)
        try world.update(.mapUpdate([.incrementCounter(field: bytes("n"), by: 7)]), at: 0)
        try world.update(.mapUpdate([.setRegister(field: bytes("s"), value: bytes("text"))]), at: 0)
        world.deliverAll()
        let state = world.replicas[0].state
        XCTAssertEqual(try state.mapFieldValue(f), .integer(13))
        XCTAssertEqual(try state.mapFieldValue(e), .flag)
        XCTAssertEqual(try state.mapFieldValue(e)?.redisBytes, bytes("1"))
        XCTAssertEqual(try state.mapFieldValue(bytes("n")), .integer(7))
        XCTAssertEqual(try state.mapFieldValue(bytes("s")), .register(bytes("text")))
        XCTAssertThrowsError(try world.update(.mapUpdate([.incrementCounter(field: bytes("s"), by: 1)]), at: 0)) { error in
            XCTAssertEqual((error as? KVError)?.message, "hash value is not an integer")
        }
        XCTAssertEqual(try world.update(.mapUpdate([.removeField(field: f), .removeField(field: bytes("zz"))]), at: 0).reply, .count(1))
        // setRegister replaces every observed dot, counters included.
        try world.update(.mapUpdate([.setRegister(field: bytes("n"), value: bytes("1"))]), at: 1)
        world.deliverAll()
        XCTAssertEqual(try world.replicas[0].state.mapFieldValue(bytes("n")), .register(bytes("1")))
        let json = try world.replicas[0].state.jsonValue()
        XCTAssertEqual(json, .object([("e", .bool(true)), ("n", .string("1")), ("s", .string("text"))]))
    }

    func testOperationsOfAnotherTypeAreRefused() {
        let counter = TypedState(datatype: .counter)
        XCTAssertThrowsError(try TypedState.delta(applying: .setAdd([e]), actor: "a", stamp: .zero, current: counter, limits: .defaults)) {
            XCTAssertEqual(($0 as? KVError)?.code, "wrong_type")
        }
        XCTAssertThrowsError(
            try TypedState.joinStored(header: TypedHeader(datatype: .set), storedMembers: [:], incoming: counter, isFull: false)
        ) { XCTAssertEqual(($0 as? KVError)?.code, "wrong_type") }
        XCTAssertThrowsError(
            try TypedState.joinStoredRows(
                header: KeyState().encoded(), memberRows: [], incoming: counter, isFull: false, limits: .defaults)
        ) { XCTAssertEqual(($0 as? KVError)?.code, "wrong_type") }
    }

    func testLimitsRefuseWithClearErrors() throws {
        var limits = Limits.defaults
        limits.typedMembersMax = 3
        limits.typedActorsMax = 2
        limits.typedMemberBytesMax = 4
        limits.typedOperationIDBytesMax = 2
        var world = TypedWorld(datatype: .set, replicaCount: 3, seed: 9, limits: limits)
        try world.update(.setAdd([bytes("a"), bytes("b")]), at: 0)
        XCTAssertThrowsError(try world.update(.setAdd([bytes("c"), bytes("d")]), at: 0)) {
            XCTAssertEqual(($0 as? KVError)?.code, "bad_parameter")
            XCTAssertTrue(($0 as? KVError)?.message.contains("typedMembersMax") ?? false)
        }
        XCTAssertThrowsError(try world.update(.setAdd([bytes("toolong")]), at: 0)) { XCTAssertEqual(($0 as? KVError)?.code, "too_large") }
        world.deliverAll()
        try world.update(.setAdd([bytes("c")]), at: 1)
        world.deliverAll()
        XCTAssertThrowsError(try world.update(.setAdd([bytes("a")]), at: 2)) {
            XCTAssertTrue(($0 as? KVError)?.message.contains("typedActorsMax") ?? false, "\($0)")
        }
        XCTAssertEqual(try world.update(.setRemove([bytes("a")]), at: 2).reply, .count(1), "removes make no dot")

        var counter = TypedWorld(datatype: .counter, replicaCount: 1, seed: 10, limits: limits)
        XCTAssertThrowsError(try counter.update(.increment(by: 1, operationID: bytes("abc")), at: 0)) {
            XCTAssertEqual(($0 as? KVError)?.code, "too_large")
        }
        try counter.update(.increment(by: Int64.max, operationID: nil), at: 0)
        XCTAssertThrowsError(try counter.update(.increment(by: 1, operationID: nil), at: 0)) {
            XCTAssertEqual(($0 as? KVError)?.message, "increment or decrement would overflow")
        }
        XCTAssertEqual(try counter.replicas[0].state.counterValue(), Int64.max)
    }

    func testCausalContextStaysCompactAndNumbersDots() throws {
        var context = CausalContext()
        context.insert(Dot(actor: "a", counter: 3))
        context.insert(Dot(actor: "a", counter: 1))
        XCTAssertEqual(context.vv, ["a": 1])
        XCTAssertEqual(context.cloud, [Dot(actor: "a", counter: 3)])
        XCTAssertEqual(try context.nextDot(for: "a"), Dot(actor: "a", counter: 4))
        context.insert(Dot(actor: "a", counter: 2))
        XCTAssertEqual(context, CausalContext(vv: ["a": 3]))
        XCTAssertThrowsError(try CausalContext(vv: ["a": .max]).nextDot(for: "a"))
    }

    func testOperationsAndRepliesRoundTripOnTheWire() throws {
        let ops: [TypedOperation] = [
            .increment(by: -7, operationID: bytes("id")), .increment(by: 3, operationID: nil), .setAdd([e, f]), .setRemove([e]),
            .setRemoveObserved([f], context: CausalContext(vv: ["a": 2], cloud: [Dot(actor: "b", counter: 5)])),
            .mapUpdate([
                .setRegister(field: e, value: bytes("v")), .incrementCounter(field: f, by: -1), .enableFlag(field: e),
                .disableFlag(field: f), .removeField(field: e),
            ]),
            .reset,
        ]
        for op in ops { XCTAssertEqual(try TypedOperation(decoding: op.encoded()), op) }
        for reply in [TypedReply.integer(-3), .count(9)] {
            var writer = ByteWriter()
            reply.encode(into: &writer)
            var reader = ByteReader(writer.bytes)
            XCTAssertEqual(try TypedReply.decode(from: &reader), reply)
        }
    }
}

/// An actor's counter entries are cumulative: a replica that missed the delta between two
/// of the actor's increments holds its older entry beside the newest, and must count the
/// newest only (the simulator's seed 353 counted both).
final class TypedCounterEntryTests: XCTestCase {
    func testAReplicaThatMissedAnIncrementInBetweenCountsTheActorsNewestEntryOnly() throws {
        let stamp = HLCTimestamp(physicalMilliseconds: 1, logical: 0)
        var lead = TypedState(datatype: .counter)
        var deltas: [TypedState] = []
        for by: Int64 in [5, 4, -4] {
            let step = try TypedState.delta(
                applying: .increment(by: by, operationID: nil), actor: "a", stamp: stamp, current: lead, limits: .defaults)
            lead = lead.joined(with: step.delta, isFull: false)
            deltas.append(step.delta)
        }
        XCTAssertEqual(try lead.counterValue(), 5)
        let replica = TypedState(datatype: .counter).joined(with: deltas[0], isFull: false).joined(with: deltas[2], isFull: false)
        XCTAssertEqual(replica.members[TypedState.counterMember]?.entries.count, 2, "the older entry is still held beside the newest")
        XCTAssertEqual(try replica.counterValue(), 5)
        XCTAssertEqual(replica.joined(with: lead, isFull: true), lead, "a full-state join drops the older entry")

        var field = TypedState(datatype: .map)
        var fieldDeltas: [TypedState] = []
        let name = Array("n".utf8)
        for by: Int64 in [5, 4, -4] {
            let step = try TypedState.delta(
                applying: .mapUpdate([.incrementCounter(field: name, by: by)]), actor: "a", stamp: stamp, current: field,
                limits: .defaults)
            field = field.joined(with: step.delta, isFull: false)
            fieldDeltas.append(step.delta)
        }
        let fieldReplica = TypedState(datatype: .map).joined(with: fieldDeltas[0], isFull: false).joined(with: fieldDeltas[2], isFull: false)
        XCTAssertEqual(try fieldReplica.mapFieldValue(name), .integer(5))
    }
}
