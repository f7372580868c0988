import QuorumCore

/// The end of a run for typed keys (issue #16): what each replica stores, and the final
/// reads of every member at r = n the checks judge.
extension Simulation {
    /// Each replica's stored rows of a typed key (its header and every member row), in
    /// preference-list order: replicas that converged hold equal bytes.
    static func typedReplicas(of name: CheckInput.KeyName, in world: SimulatedWorld) -> [(node: String, rows: StoredTyped?)] {
        let ring = world.settledRing() ?? world.ring
        let partition = ring.partition(bucket: name.bucket, key: name.key)
        return ring.preferenceList(partition: partition, n: world.props(for: name.bucket).n).map { id in
            (id, world.node(id)!.store.readTyped(partition: partition, bucket: name.bucket, key: name.key, members: .all))
        }
    }

    /// Reads every member of each key at r = n through node 0, recorded in the history as
    /// the checker's; a key is absent from the answer when its read failed.
    static func finalTypedReads(_ keys: [CheckInput.KeyName], in world: SimulatedWorld) -> [CheckInput.KeyName: TypedState?] {
        var states: [CheckInput.KeyName: TypedState?] = [:]
        for name in keys {
            let options = RequestOptions(n: world.props(for: name.bucket).n, r: .all)
            let entry = world.history.begin(
                client: History.checkerClient, kind: .typedRead, bucket: name.bucket, key: name.key, node: 0, options: options,
                sloppy: false, value: [], context: .empty, members: .all, at: world.now)
            world.nodes[0].readTyped(bucket: name.bucket, key: name.key, members: .all, options: options, sloppy: false) { result in
                world.history.complete(entry, outcome: SimulatedClient.outcome(result), at: world.now)
                if case .typedRead(let state) = result { states[name] = .some(state) }
            }
            _ = world.run(until: world.now + 10_000, slice: 50) { world.history.entries[entry].completedAt == nil }
        }
        return states
    }
}
