import QuorumCore
import QuorumServices

/// The end of a run for strong keys (issue #17): a final read of each key through the
/// consensus path, which the linearizability check (m) judges with the clients'
/// operations, and the keys whose committed values wiped disks may have taken.
extension Simulation {
    /// Every strong key the plan touches, sorted.
    static func strongUniverse(_ plan: SimulationPlan) -> [CheckInput.KeyName] {
        Set(plan.operations.joined().filter(\.kind.isStrong).map { CheckInput.KeyName(bucket: $0.bucket, key: $0.key) }).sorted()
    }

    /// Each replica's latest commit of the key as its `kv` row holds it (nil: none, or a
    /// row that is not a strong record), in preference-list order.
    static func strongReplicas(of name: CheckInput.KeyName, in world: SimulatedWorld) -> [(node: String, commit: PaxosCommit?)] {
        let ring = world.settledRing() ?? world.ring
        let partition = ring.partition(bucket: name.bucket, key: name.key)
        return ring.preferenceList(partition: partition, n: world.props(for: name.bucket).n).map { id in
            let record = world.node(id)!.store.readPaxos(partition: partition, bucket: name.bucket, key: name.key).record
            return (id, record.flatMap { try? StrongRecord.decode($0) })
        }
    }

    /// Reads each key through node 0 once repair is done, recorded in the history as the
    /// checker's: after the faults every committed value must still be the latest.
    static func finalStrongReads(_ keys: [CheckInput.KeyName], in world: SimulatedWorld) {
        for name in keys {
            let entry = world.history.begin(
                client: History.checkerClient, kind: .strong, bucket: name.bucket, key: name.key, node: 0,
                options: RequestOptions(), sloppy: false, value: [], context: .empty, strong: .read, at: world.now)
            let command = StrongCommand(bucket: name.bucket, key: name.key, operation: .read, options: RequestOptions())
            world.nodes[0].strong(command) { result in
                world.history.complete(entry, outcome: SimulatedStrongRequests.outcome(result), at: world.now)
            }
            _ = world.run(until: world.now + 10_000, slice: 50) { world.history.entries[entry].completedAt == nil }
        }
    }

    /// Strong keys a majority of whose replicas (by the ring the run started with, or the
    /// one it settled on) had their disks wiped, with those replicas. Catch-up keeps one
    /// wiped acceptor of a key safe; a majority wiped may take a committed value with it.
    static func strongKeysLostToWipes(_ keys: [CheckInput.KeyName], in world: SimulatedWorld) -> [CheckInput.KeyName: [String]] {
        let wiped = Set(world.wipes.map(\.node))
        guard !wiped.isEmpty else { return [:] }
        let rings = [world.ring] + (world.settledRing().map { [$0] } ?? [])
        var exempt: [CheckInput.KeyName: [String]] = [:]
        for name in keys {
            let n = world.props(for: name.bucket).n
            for ring in rings {
                let replicas = ring.preferenceList(partition: ring.partition(bucket: name.bucket, key: name.key), n: min(n, ring.members.count))
                let lost = replicas.filter(wiped.contains)
                if lost.count > replicas.count / 2 {
                    exempt[name] = lost.sorted()
                    break
                }
            }
        }
        return exempt
    }
}
