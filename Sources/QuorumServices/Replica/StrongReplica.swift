import QuorumCore

/// The replica side of strong keys (issue #17): the Paxos acceptor of each key this node
/// replicates. Every step reads the key's acceptor rows, runs the pure `Acceptor` against
/// them in the store's commit order, and answers only once the new promise, vote or commit
/// is durable: an answered promise that a crash forgets would let this acceptor vote twice.
final class StrongReplica {
    private let storage: any ReplicaStorage
    private let context: any ReplicaContext
    private let placement: Ring
    private let faults: FaultPoints
    private let acceptor: Acceptor

    init(storage: any ReplicaStorage, context: any ReplicaContext, placement: Ring, faults: FaultPoints = .inert) {
        self.storage = storage
        self.context = context
        self.placement = placement
        self.faults = faults
        acceptor = Acceptor(faults: faults.has(.acceptorAcceptsLowerBallot) ? .acceptsLowerBallot : [])
    }

    func prepare(bucket: String, key: [UInt8], ballot: PaxosBallot, respond: @escaping (PeerResponse) -> Void) {
        context.observe(ballot.timestamp)
        let acceptor = acceptor
        step(bucket: bucket, key: key, respond: respond) { acceptor.receivePrepare(ballot: ballot, state: $0) }
    }

    func propose(bucket: String, key: [UInt8], proposal: PaxosProposal, respond: @escaping (PeerResponse) -> Void) {
        context.observe(proposal.ballot.timestamp)
        let acceptor = acceptor
        step(bucket: bucket, key: key, respond: respond) { acceptor.receivePropose(proposal: proposal, state: $0) }
    }

    func commit(bucket: String, key: [UInt8], commit: PaxosCommit, respond: @escaping (PeerResponse) -> Void) {
        context.observe(commit.ballot.timestamp)
        let acceptor = acceptor
        step(bucket: bucket, key: key, respond: respond) { acceptor.receiveCommit(commit: commit, state: $0) }
    }

    /// Learns a commit anti-entropy or a partition transfer brought; `completion` gets
    /// whether it was stored.
    func learn(bucket: String, key: [UInt8], record: [UInt8], completion: @escaping (Result<Void, KVError>) -> Void) {
        let commit: PaxosCommit
        do { commit = try StrongRecord.decode(record) } catch {
            return completion(.failure(.badParameter(name: "state", message: "an undecodable strong record: \(error.message)")))
        }
        learn(bucket: bucket, key: key, commit: commit, completion: completion)
    }

    /// `learn` of a decoded commit (a repair batch's strong entry): the acceptor's commit
    /// step, so a commit older than the one held changes nothing.
    func learn(bucket: String, key: [UInt8], commit: PaxosCommit, completion: @escaping (Result<Void, KVError>) -> Void) {
        self.commit(bucket: bucket, key: key, commit: commit) { response in
            if case .failure(let code, let message) = response {
                let error = ReplicaWrite.clientError(code: code, message: message, limits: .defaults)
                return completion(.failure(error ?? .internalError(message: message)))
            }
            completion(.success(()))
        }
    }

    /// The key's latest commit as stored (`.strongFetch`), promise and votes untouched:
    /// what anti-entropy and stray-copy clearing compare. A plain or typed value there
    /// answers `wrong_type`.
    func fetch(bucket: String, key: [UInt8], respond: @escaping (PeerResponse) -> Void) {
        let partition = placement.partition(bucket: bucket, key: key)
        storage.readState(partition: partition, bucket: bucket, key: key) { result in
            switch result {
            case .success(nil):
                respond(.strongCommit(nil))
            case .success(let blob?):
                guard StrongRecord.isStrongRecord(blob) else {
                    return respond(.failure(
                        code: "wrong_type",
                        message: "the key in bucket \(bucket) holds a plain or typed value on this replica, not a strong key's commit"))
                }
                let commit: PaxosCommit
                do { commit = try StrongRecord.decode(blob) } catch {
                    return respond(.failure(
                        code: "internal", message: "a stored strong record could not be decoded: \(error)"))
                }
                respond(.strongCommit(commit))
            case .failure(.overloaded(let message)):
                respond(.failure(code: "overloaded", message: message))
            case .failure(let failure):
                respond(.failure(code: "internal", message: "replica could not read a strong key's commit: \(failure.message)"))
            }
        }
    }

    /// The clock reading `.paxosFloor` answers.
    func floor(respond: @escaping (PeerResponse) -> Void) {
        respond(.paxosFloor(clock: context.clockReading()))
    }

    /// Another member's catch-up fences this store (`.paxosFence`): the floor is raised
    /// durably first, and only then is the store asked whether it holds strong values, so no
    /// acceptance below the floor can come after the answer.
    func fence(floor: PaxosBallot, respond: @escaping (PeerResponse) -> Void) {
        context.raiseConsensusFloor(floor) { [storage] result in
            if case .failure(let error) = result { return respond(.failure(code: error.code, message: error.message)) }
            storage.holdsStrongValues { held in
                switch held {
                case .success(let holds): respond(.paxosFenced(holdsStrongValues: holds))
                case .failure(let failure):
                    respond(.failure(code: "internal", message: "replica could not read its Paxos table: \(failure.message)"))
                }
            }
        }
    }

    /// One acceptor step in commit order. The reply is decided by the transform, against
    /// the rows as committed just before it, and sent after the commit; with the deliberate
    /// bug, as soon as it is decided.
    private func step(
        bucket: String, key: [UInt8], respond: @escaping (PeerResponse) -> Void,
        _ receive: @escaping @Sendable (AcceptorState) -> (reply: Acceptor.Reply, newState: AcceptorState?)
    ) {
        guard context.consistency(of: bucket) == .strong else {
            return respond(.failure(
                code: "wrong_type",
                message: "this replica knows bucket \(bucket) as eventually consistent; a strong bucket is usable once "
                    + "every member has its props (retry, or create the bucket with consistency strong first)"))
        }
        let floor = context.consensusFloor
        let partition = placement.partition(bucket: bucket, key: key)
        if faults.has(.acceptorRepliesBeforeDurable) {
            return replyBeforeDurable(partition: partition, bucket: bucket, key: key, floor: floor, respond: respond, receive)
        }
        let decided = DecidedReply()
        storage.updatePaxos(partition: partition, bucket: bucket, key: key, transform: { stored throws(KVError) in
            let (reply, newState) = try receive(Self.state(stored, floor: floor))
            decided.reply = reply
            return newState.map(Self.rows)
        }, completion: { result in
            switch result {
            case .success:
                guard let reply = decided.reply else {
                    return respond(.failure(code: "internal", message: "the store acknowledged a Paxos step it never ran"))
                }
                respond(.paxos(reply))
            case .failure(.refused(let error)):
                respond(.failure(code: error.code, message: error.message))
            case .failure(.storage(.overloaded(let message))):
                respond(.failure(code: "overloaded", message: message))
            case .failure(.storage(let failure)):
                respond(.failure(code: "internal", message: "replica could not store a Paxos step: \(failure.message)"))
            }
        })
    }

    /// The key's acceptor state as this node votes on it: while catching up it does not
    /// vote; after, never below its floor, and while relearning it promises only for keys
    /// it knows again.
    private static func state(_ stored: StoredPaxos, floor standing: ConsensusFloor) throws(KVError) -> AcceptorState {
        var state: AcceptorState
        do { state = try stored.acceptorState() } catch {
            throw .internalError(message: "a stored Paxos state could not be decoded: \(error.message)")
        }
        if let floor = standing.floor, state.promised.map({ floor > $0 }) ?? true { state.promised = floor }
        switch standing {
        case .catchingUp: state.isCatchingUp = true
        case .relearning(let floor): state.relearningFloor = floor
        case .voting: break
        }
        return state
    }

    private static func rows(_ state: AcceptorState) -> StoredPaxos {
        var stored = state
        // The node's standing, kept in its meta, not per key.
        stored.isCatchingUp = false
        stored.relearningFloor = nil
        return StoredPaxos(stored)
    }

    /// The deliberate bug: decides on the rows as read, answers at once, and only then
    /// queues the write, which a crash before its commit loses.
    private func replyBeforeDurable(
        partition: Int, bucket: String, key: [UInt8], floor: ConsensusFloor, respond: @escaping (PeerResponse) -> Void,
        _ receive: @escaping @Sendable (AcceptorState) -> (reply: Acceptor.Reply, newState: AcceptorState?)
    ) {
        storage.readPaxos(partition: partition, bucket: bucket, key: key) { [storage] result in
            guard case .success(let stored) = result, let state = try? Self.state(stored, floor: floor) else {
                return respond(.failure(code: "internal", message: "replica could not read a Paxos state"))
            }
            let (reply, newState) = receive(state)
            respond(.paxos(reply))
            guard let newState else { return }
            storage.updatePaxos(partition: partition, bucket: bucket, key: key, transform: { _ in Self.rows(newState) }) { _ in }
        }
    }
}

/// The reply an acceptor step decided in its transform, handed to its completion (the
/// store runs the completion after the transform, which orders the two).
private final class DecidedReply: @unchecked Sendable {
    var reply: Acceptor.Reply?
}
