/// The acceptor side of per-key Paxos as pure steps: a message and the stored state in,
/// a reply and maybe a new state out.
///
/// Contract: when a step returns a non-nil `newState`, the shell must persist it
/// (durably: the SQLite transaction committed) BEFORE it sends the reply. A promise or
/// an accept that is answered but then forgotten in a crash lets the same acceptor vote
/// twice, which breaks Paxos. A nil `newState` means nothing changed and the reply may
/// go at once. The services layer enforces the order; "replying before the promise is
/// durable" is one of the bugs the simulator must catch.
///
/// Rules (classic Paxos, one instance per operation, instances chained by `basedOn`):
/// - prepare(b): promise if b is at least the current promise (an equal ballot is the
///   same proposer asking again, e.g. a duplicated message); else reject, naming the promise.
/// - propose(p): accept if p.ballot is at least the promise; else reject.
/// - commit(c): learn c if it is newer than the latest commit; drop an accepted proposal
///   it supersedes; always acknowledge.
/// - a replica that is catching up (`isCatchingUp`) answers prepare and propose with
///   `notReady`, which the proposer counts as a failure; commits it learns.
/// - a replica relearning after it lost strong data answers a prepare with `notReady`
///   until it knows the key again (`knowsItsVotes`); it accepts proposals (a proposal
///   above its floor comes from a prepare that a majority of other replicas answered),
///   and the first one it accepts, or a commit above the floor, makes it know the key.
public struct Acceptor: Sendable {
    public enum Reply: Sendable, Equatable {
        /// The ballot is promised. `inFlight`: the accepted proposal not yet known to be
        /// committed (newer than `committed`), which the proposer must complete first;
        /// `committed`: the latest commit, which is the key's current value. Together they
        /// let a read finish in this one round.
        case promised(inFlight: PaxosProposal?, committed: PaxosCommit?)
        /// The proposal is accepted.
        case accepted
        /// Refused: this acceptor promised `promised`, a higher ballot.
        case rejected(promised: PaxosBallot)
        /// The commit is learned (or was already known).
        case committed
        /// This replica lost its state and does not vote until it has caught up (or, for a
        /// prepare, until it knows this key again).
        case notReady
    }

    public var faults: AcceptorFaults

    public init(faults: AcceptorFaults = []) {
        self.faults = faults
    }

    public func receivePrepare(ballot: PaxosBallot, state: AcceptorState) -> (reply: Reply, newState: AcceptorState?) {
        if state.isCatchingUp || !state.knowsItsVotes { return (.notReady, nil) }
        if let promised = state.promised, ballot < promised { return (.rejected(promised: promised), nil) }
        let reply = Reply.promised(inFlight: state.accepted, committed: state.committed)
        guard state.promised != ballot else { return (reply, nil) }
        var next = state
        next.promised = ballot
        return (reply, next)
    }

    public func receivePropose(proposal: PaxosProposal, state: AcceptorState) -> (reply: Reply, newState: AcceptorState?) {
        if state.isCatchingUp { return (.notReady, nil) }
        if let promised = state.promised, proposal.ballot < promised, !faults.contains(.acceptsLowerBallot) {
            return (.rejected(promised: promised), nil)
        }
        // A proposal older than what this acceptor already learned changes nothing here,
        // but is acknowledged: it can only be a re-delivery, and with a correct proposer its
        // instance is already decided.
        if let committed = state.committed, proposal.ballot <= committed.ballot { return (.accepted, nil) }
        if state.accepted == proposal { return (.accepted, nil) }
        var next = state
        next.accepted = proposal
        // The faulty acceptor does not lower its promise (it keeps the decoder's
        // relations); it simply votes under a ballot it promised to ignore.
        if next.promised.map({ proposal.ballot > $0 }) ?? true { next.promised = proposal.ballot }
        return (.accepted, next)
    }

    public func receiveCommit(commit: PaxosCommit, state: AcceptorState) -> (reply: Reply, newState: AcceptorState?) {
        if let committed = state.committed, commit.ballot <= committed.ballot { return (.committed, nil) }
        var next = state
        next.committed = commit
        if let accepted = next.accepted, accepted.ballot <= commit.ballot { next.accepted = nil }
        // Raising the promise to the commit's ballot rejects proposals from instances that
        // are already decided; it only ever refuses more, so it is always safe.
        if !state.isCatchingUp, next.promised.map({ commit.ballot > $0 }) ?? true { next.promised = commit.ballot }
        return (.committed, next)
    }
}

/// Deliberate acceptor bugs the simulator turns on to prove its checker catches them.
/// Off by default; production code never sets them.
public struct AcceptorFaults: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Accept a proposal whose ballot is below the promise (the acceptor's one promise broken).
    public static let acceptsLowerBallot = AcceptorFaults(rawValue: 1 << 0)
}

/// Binary form, inside `PeerResponse.paxos`: a tag (1 promised, 2 accepted, 3 rejected,
/// 4 committed, 5 not ready) then, for a promise, a flag and the in-flight proposal, a flag
/// and the commit; for a rejection, the ballot promised.
extension Acceptor.Reply {
    public func encode(into writer: inout ByteWriter) {
        switch self {
        case .promised(let inFlight, let committed):
            writer.write(UInt8(1))
            writer.write(inFlight != nil)
            inFlight?.encode(into: &writer)
            writer.write(committed != nil)
            committed?.encode(into: &writer)
        case .accepted: writer.write(UInt8(2))
        case .rejected(let promised):
            writer.write(UInt8(3))
            promised.encode(into: &writer)
        case .committed: writer.write(UInt8(4))
        case .notReady: writer.write(UInt8(5))
        }
    }

    public static func decode(from reader: inout ByteReader) throws(WireError) -> Acceptor.Reply {
        switch try reader.readUInt8() {
        case 1:
            let inFlight = try reader.readBool() ? try PaxosProposal.decode(from: &reader) : nil
            let committed = try reader.readBool() ? try PaxosCommit.decode(from: &reader) : nil
            return .promised(inFlight: inFlight, committed: committed)
        case 2: return .accepted
        case 3: return .rejected(promised: try PaxosBallot.decode(from: &reader))
        case 4: return .committed
        case 5: return .notReady
        case let tag: throw .malformed("Paxos reply tag \(tag)")
        }
    }
}
