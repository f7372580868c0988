import QuorumCore
import QuorumServices
import QuorumStorage

/// What a node's membership starts from: the saved state merged with the configured
/// founders (a node started with `--join` has none until it joins), and this run's
/// heartbeat generation, saved before the first round.
enum MembershipBootstrap {
    static let stateKey = "membership"
    private static let generationKey = "heartbeat_generation"

    static func initialState(config: NodeConfig, store: ReplicaStore) throws -> MembershipState {
        let founders = config.members.map { member in
            (id: member.id, peerAddress: "\(member.host):\(member.port)",
             httpAddress: member.id == config.nodeID ? "\(config.httpHost):\(config.httpPort)" : "")
        }
        var state: MembershipState
        do {
            state = try MembershipState(founders: founders, partitionCount: config.partitionCount)
        } catch {
            throw ConfigError("the member list can't form a cluster: \(error.message)")
        }
        if let saved = try loadState(store: store) {
            guard saved.partitionCount == config.partitionCount else {
                throw ConfigError(
                    "this node's data belongs to a cluster of \(saved.partitionCount) partitions, not \(config.partitionCount); "
                        + "start it with --partitions \(saved.partitionCount) or with an empty --data-dir")
            }
            state = saved.merged(with: state)
        }
        return state
    }

    /// This run's generation, saved before it is used.
    static func generation(store: ReplicaStore) throws -> UInt64 {
        let previous = try store.metaValue(generationKey).flatMap { UInt64($0) }
        let generation = MembershipDriver.generation(previous: previous, nowMilliseconds: WallClock.nowMilliseconds())
        try store.setMetaValue(generationKey, String(generation))
        return generation
    }

    private static func loadState(store: ReplicaStore) throws -> MembershipState? {
        guard let text = try store.metaValue(stateKey) else { return nil }
        guard let bytes = Base64URL.decode(text) else {
            throw ConfigError("the saved membership is not readable; remove the data directory's meta row 'membership'")
        }
        var reader = ByteReader(bytes)
        do {
            return try MembershipState.decode(from: &reader)
        } catch {
            throw ConfigError("the saved membership is not readable (\(error.message)); start with an empty --data-dir")
        }
    }
}
