import XCTest
@testable import QuorumCore

/// Property tests of the typed states' join (issue #16): random histories at 3–4 actors
/// with deltas delivered in random order, duplicated, from seeded generators.
final class TypedStateTests: XCTestCase {
    private let seeds: [UInt64] = Array(1...40)

    private func decomposed(_ replica: TypedWorld.Replica) -> TypedState {
        guard let header = replica.header else { return TypedState(datatype: replica.state.datatype) }
        return TypedState(header: header, members: replica.rows)
    }

    /// Full states sampled mid-history (replicas that have seen different subsets).
    private func sampleStates(_ datatype: DataType, seed: UInt64) -> [TypedState] {
        var world = TypedWorld(datatype: datatype, replicaCount: 4, seed: seed)
        var states: [TypedState] = []
        for _ in 0..<4 {
            world.run(steps: 15, allowReset: true)
            states += world.replicas.map(\.state)
        }
        return states
    }

    func testJoinIsCommutativeAssociativeAndIdempotent() {
        for datatype in DataType.allCases {
            for seed in seeds {
                let states = sampleStates(datatype, seed: seed)
                var rng = SplitMix64(seed: seed &* 31)
                for _ in 0..<10 {
                    let a = states[Int.random(in: 0..<states.count, using: &rng)]
                    let b = states[Int.random(in: 0..<states.count, using: &rng)]
                    let c = states[Int.random(in: 0..<states.count, using: &rng)]
                    XCTAssertEqual(a.joined(with: b, isFull: true), b.joined(with: a, isFull: true), "commutative, \(datatype) seed \(seed)")
                    XCTAssertEqual(
                        a.joined(with: b, isFull: true).joined(with: c, isFull: true),
                        a.joined(with: b.joined(with: c, isFull: true), isFull: true), "associative, \(datatype) seed \(seed)")
                    XCTAssertEqual(a.joined(with: a, isFull: true), a, "idempotent, \(datatype) seed \(seed)")
                }
            }
        }
    }

    /// A random state straight from the generator: random actors, a context with a cloud,
    /// members whose dots the context covers (the dot store's invariant), payloads chosen
    /// per dot so one dot may carry different payloads in different states.
    private func randomState(_ rng: inout SplitMix64) -> TypedState {
        let actors = ["p", "q", "r", "s"]
        var context = CausalContext()
        for actor in actors where Bool.random(using: &rng) {
            for counter in 1...UInt64.random(in: 1...6, using: &rng) where Int.random(in: 0..<3, using: &rng) != 0 {
                context.insert(Dot(actor: actor, counter: counter))
            }
        }
        var members: [[UInt8]: Member] = [:]
        for dot in context.vv.flatMap({ entry in (1...entry.value).map { Dot(actor: entry.key, counter: $0) } }) + context.cloud
        where Bool.random(using: &rng) {
            let key = TypedWorld.elements[Int.random(in: 0..<3, using: &rng)]
            let payload: DotPayload =
                Bool.random(using: &rng) ? .present : .counter(p: UInt64.random(in: 0...2, using: &rng), n: 0)
            members[key] = Member((members[key]?.entries ?? []) + [.init(dot: dot, payload: payload)])
        }
        return TypedState(datatype: .set, context: context, members: members)
    }

    func testJoinLawsHoldOnRandomStatesWithClouds() {
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<2000 {
            let a = randomState(&rng), b = randomState(&rng), c = randomState(&rng)
            XCTAssertEqual(a.joined(with: b, isFull: true), b.joined(with: a, isFull: true))
            XCTAssertEqual(
                a.joined(with: b, isFull: true).joined(with: c, isFull: true),
                a.joined(with: b.joined(with: c, isFull: true), isFull: true))
            XCTAssertEqual(a.joined(with: a, isFull: true), a)
            var header = TypedHeader(of: a)
            var rows = a.members
            let changes = try! TypedState.joinStored(header: header, storedMembers: rows, incoming: b, isFull: true)
            header = changes.header
            for change in changes.members { rows[change.key] = change.member }
            XCTAssertEqual(TypedState(header: header, members: rows), a.joined(with: b, isFull: true))
            XCTAssertEqual(header, TypedHeader(of: a.joined(with: b, isFull: true)))
        }
    }

    func testDeltasInAnyOrderWithDuplicatesEqualTheJoinOfFullStates() {
        for datatype in DataType.allCases {
            for seed in seeds {
                var world = TypedWorld(datatype: datatype, replicaCount: 3 + Int(seed % 2), seed: seed)
                world.run(steps: 60, allowReset: true)
                let fullJoin = world.replicas.map(\.state).reduce(TypedState(datatype: datatype)) { $0.joined(with: $1, isFull: true) }
                // A fresh replica that gets every delta, shuffled and some twice.
                var rng = SplitMix64(seed: seed ^ 0xABCD)
                var shuffled = world.deltas + world.deltas.prefix(5)
                shuffled.shuffle(using: &rng)
                let fresh = shuffled.reduce(TypedState(datatype: datatype)) { $0.joined(with: $1.delta, isFull: $1.isFull) }
                XCTAssertEqual(fresh, fullJoin, "\(datatype) seed \(seed)")
                world.deliverAll()
                for replica in world.replicas {
                    XCTAssertEqual(replica.state, fullJoin, "replica \(replica.actor) converged, \(datatype) seed \(seed)")
                }
            }
        }
    }

    func testDecomposedJoinMatchesTheWholeStateJoin() {
        for datatype in DataType.allCases {
            for seed in seeds {
                var world = TypedWorld(datatype: datatype, replicaCount: 4, seed: seed)
                world.run(steps: 50, allowReset: true)
                for replica in world.replicas {
                    XCTAssertEqual(decomposed(replica), replica.state, "\(datatype) seed \(seed)")
                    XCTAssertEqual(replica.header ?? TypedHeader(datatype: datatype), TypedHeader(of: replica.state), "header digest and count, \(datatype) seed \(seed)")
                }
                // Full-state joins (anti-entropy) through the decomposed path too.
                let other = world.replicas[1].state
                world.deliver(other, isFull: true, to: 0)
                XCTAssertEqual(decomposed(world.replicas[0]), world.replicas[0].state)
                XCTAssertEqual(world.replicas[0].header, TypedHeader(of: world.replicas[0].state))
                XCTAssertEqual(world.partialLeadMismatches, 0, "the lead's delta from header + touched rows, \(datatype) seed \(seed)")
                world.deliverAll()
                let bytes = Set(world.replicas.map { ($0.header ?? TypedHeader(datatype: datatype)).encoded() })
                XCTAssertEqual(bytes.count, 1, "converged replicas have equal header bytes, \(datatype) seed \(seed)")
            }
        }
    }

    func testEqualStatesEncodeToEqualBytesAndRoundTrip() throws {
        for datatype in DataType.allCases {
            for seed in seeds {
                var world = TypedWorld(datatype: datatype, replicaCount: 3, seed: seed)
                world.run(steps: 40, allowReset: true)
                world.deliverAll()
                let encodings = Set(world.replicas.map { $0.state.encoded(isFull: true) })
                XCTAssertEqual(encodings.count, 1, "\(datatype) seed \(seed)")
                for replica in world.replicas {
                    let decoded = try TypedState(decoding: replica.state.encoded(isFull: true))
                    XCTAssertEqual(decoded, replica.state)
                    XCTAssertEqual(try TypedHeader(decoding: TypedHeader(of: replica.state).encoded()), TypedHeader(of: replica.state))
                    for (key, member) in replica.state.members {
                        XCTAssertEqual(try Member(decodingRow: member.encodedRow()), member, "\(key)")
                    }
                }
                for delta in world.deltas {
                    var reader = ByteReader(delta.delta.encoded(isFull: delta.isFull))
                    let decoded = try TypedState.decode(from: &reader, limits: .defaults)
                    XCTAssertEqual(decoded.state, delta.delta)
                    XCTAssertEqual(decoded.isFull, delta.isFull)
                }
            }
        }
    }

    func testCounterValueIsTheSumOfEveryIncrement() throws {
        for seed in seeds {
            var world = TypedWorld(datatype: .counter, replicaCount: 3 + Int(seed % 2), seed: seed)
            world.run(steps: 80, allowReset: false)
            world.deliverAll()
            for replica in world.replicas {
                XCTAssertEqual(try replica.state.counterValue(), world.incremented, "seed \(seed)")
            }
        }
    }

    /// The deliberate bug the simulator must catch: merging counters by the larger total
    /// (instead of per-actor entries) loses increments made concurrently at two replicas.
    func testMaxOfTotalsCounterMergeWouldLoseIncrements() throws {
        var world = TypedWorld(datatype: .counter, replicaCount: 2, seed: 7)
        try world.update(.increment(by: 5, operationID: nil), at: 0)
        try world.update(.increment(by: 3, operationID: nil), at: 1)
        let a = try world.replicas[0].state.counterValue()
        let b = try world.replicas[1].state.counterValue()
        let wrong = max(a, b)
        XCTAssertEqual(wrong, 5, "max of totals keeps only one replica's increments")
        world.deliverAll()
        XCTAssertEqual(try world.replicas[0].state.counterValue(), 8, "the per-actor join keeps both")
        XCTAssertNotEqual(wrong, world.incremented)
    }
}
