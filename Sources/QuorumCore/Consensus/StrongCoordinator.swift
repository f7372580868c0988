/// The proposer of per-key Paxos for one client operation: pure, like `PutCoordinator`.
///
/// Round trips. The common case takes as few as Paxos allows (Cassandra's newer Paxos
/// makes the same choice):
/// - round 1, prepare: each promise carries the acceptor's latest commit (the key's current
///   value) and any accepted-but-uncommitted proposal, so the proposer reads and prepares
///   at once. A read, or a compare-and-set whose condition fails, that finds no proposal
///   in flight finishes here, after ONE round and without writing a value: the majority's
///   promises of this ballot already fence off every older proposal, so the latest commit
///   they report is the linearizable current value.
/// - round 2, propose: a write, delete or compare-and-set proposes its new value, built on
///   that commit; a majority of accepts decides it and the client gets its answer.
/// - commit: sent to every replica without waiting (acceptors that miss it still hold the
///   accepted proposal, and the next prepare completes it).
///
/// A promise that reports an accepted proposal newer than the latest commit means an
/// earlier operation was interrupted, and it may already be chosen. The proposer then
/// first re-proposes that proposal unchanged under its own ballot (completing it), and
/// then retries its own operation from a new ballot, since its read of the current value
/// is out of date.
///
/// Replicas: the key's n primaries only, never stand-ins (a stand-in has no promises);
/// while a ring change is pending for the key's partition, also the primaries after the
/// change, and every round needs a majority of each set (`JointQuorum`).
///
/// Ballots: the shell calls `start(at:)` with a fresh reading of its node's HLC, after
/// observing `highestBallotSeen` into it, so the ballot is unique and above every
/// promise this coordinator has been refused by.
///
/// States: idle → preparing → (proposing →) done, or → backingOff → preparing again
/// after `.retry`; at most `ConsensusLimits.attemptsMax` prepares.
public struct StrongCoordinator: Sendable {
    /// What the shell must do next, in order.
    public enum Action: Sendable, Equatable {
        /// Send a prepare of `ballot` to each node; feed each reply back with that ballot.
        case prepare(ballot: PaxosBallot, nodes: [String])
        /// Send the proposal to each node.
        case propose(PaxosProposal, nodes: [String])
        /// Send the commit to each node; nothing waits for the answers.
        case commit(PaxosCommit, nodes: [String])
        /// Wait this long, then call `start(at:)` with a new HLC reading.
        case retry(afterMilliseconds: UInt64)
        /// Answer the client. Later replies change nothing.
        case finish(Outcome)
    }

    public enum Outcome: Sendable, Equatable {
        /// Done. A read: the current value and its etag (both nil when the key holds none).
        /// A write or compare-and-set: the value written and its new etag (nil for a delete).
        case succeeded(value: StrongValue?, etag: StrongETag?)
        /// The compare-and-set's condition did not hold; nothing was written. The current
        /// value and etag (nil when the key holds no value).
        case conditionFailed(current: StrongValue?, etag: StrongETag?)
        /// A round could not reach a majority of one of its replica sets (`counts`: the
        /// primaries, then the primaries after a pending ring change).
        case unavailable(counts: [StrongQuorumCount], mayHaveApplied: Bool)
        /// Other proposers kept winning: `attempts` prepares were refused or interrupted.
        case contended(attempts: Int, mayHaveApplied: Bool)
        /// The shell's deadline passed first.
        case timedOut(mayHaveApplied: Bool)
    }

    /// What went wrong, for a client, or nil for an outcome that is an answer
    /// (`succeeded`, `conditionFailed`). Says whether the operation may have applied, so a
    /// client knows to read before retrying.
    public static func failureMessage(of outcome: Outcome) -> String? {
        let maybe = { (applied: Bool) in
            applied
                ? "; it may still have been applied: read the key before retrying"
                : "; it was not applied"
        }
        switch outcome {
        case .succeeded, .conditionFailed: return nil
        case .unavailable(let counts, let applied):
            let sets = counts.enumerated().map { index, count in
                "\(index == 0 ? "primaries" : "primaries after the ring change"): needed \(count.needed) of \(count.replicas), \(count.answered) answered"
            }
            return "a strong operation needs a majority of the key's primaries (\(sets.joined(separator: "; ")))" + maybe(applied)
        case .contended(let attempts, let applied):
            return "other operations on this key kept winning; gave up after \(attempts) attempts" + maybe(applied)
        case .timedOut(let applied):
            return "the operation did not finish before its deadline" + maybe(applied)
        }
    }

    private enum Purpose: Sendable, Equatable {
        /// This operation's own new value.
        case own
        /// Completing an in-flight proposal that is this operation's own earlier one.
        case completingOwn
        /// Completing someone else's interrupted proposal, before retrying.
        case completingOther
    }

    private enum Phase: Sendable, Equatable {
        case idle
        case preparing(ballot: PaxosBallot, quorum: JointQuorum, promises: [String: Acceptor.Reply])
        case proposing(proposal: PaxosProposal, quorum: JointQuorum, purpose: Purpose)
        case backingOff
        case done
    }

    public let node: String
    public let operation: StrongOperation
    public let limits: ConsensusLimits
    public let faults: StrongFaults
    private let sets: [[String]]
    private var phase: Phase = .idle
    private var random: SplitMix64
    /// Prepares started so far.
    public private(set) var attempts = 0
    /// Prepare and propose rounds sent so far (tests count round trips with it).
    public private(set) var rounds = 0
    /// The highest ballot any reply named; the next ballot must be above it.
    public private(set) var highestBallotSeen: PaxosBallot?
    /// This operation's proposals while it is unknown whether one was chosen (a reply was
    /// lost or refused after one was sent); nil once a prepare showed their fate.
    private var own: OwnProposals?
    /// Replicas that answered this round's prepare `notReady`: a replica relearning after
    /// it lost strong data does not yet promise for the key, and a read that finishes in one
    /// round teaches it the current value (`teach`).
    private var notReady: [String] = []
    /// What a read that finished in one round teaches such replicas, including those whose
    /// `notReady` arrives after it finished.
    private var lesson: PaxosCommit?

    /// - Parameters:
    ///   - node: this node's id, the tie-breaker in its ballots.
    ///   - primaries: the key's n primaries (never stand-ins).
    ///   - incomingPrimaries: while a ring change is pending for the key's partition, its
    ///     primaries after the change; nil otherwise.
    ///   - randomSeed: seeds the back-off jitter; the shell draws it, so a simulation replays.
    public init(
        node: String, primaries: [String], incomingPrimaries: [String]? = nil, operation: StrongOperation,
        limits: ConsensusLimits = .defaults, randomSeed: UInt64, faults: StrongFaults = []
    ) {
        precondition(!primaries.isEmpty && Set(primaries).count == primaries.count, "primaries must be distinct and non-empty")
        if let incomingPrimaries {
            precondition(
                !incomingPrimaries.isEmpty && Set(incomingPrimaries).count == incomingPrimaries.count,
                "incoming primaries must be distinct and non-empty")
        }
        precondition(limits.isConsistent, "consensus limits out of relation")
        self.node = node
        self.operation = operation
        self.limits = limits
        self.faults = faults
        sets = [primaries] + (incomingPrimaries.map { [$0] } ?? [])
        random = SplitMix64(seed: randomSeed)
    }

    /// Every replica a round goes to: the primaries, then incoming primaries not among them.
    public var nodes: [String] { JointQuorum(sets: sets).nodes }

    public var isDone: Bool { phase == .done }

    private var mayHaveApplied: Bool { own != nil }

    /// Starts a prepare round under a ballot made of `timestamp` and this node: the first
    /// one, and again after each `.retry`.
    public mutating func start(at timestamp: HLCTimestamp) -> [Action] {
        switch phase {
        case .idle, .backingOff: break
        case .preparing, .proposing, .done: return []
        }
        let ballot = PaxosBallot(timestamp: timestamp, node: node)
        if let highestBallotSeen {
            precondition(ballot > highestBallotSeen, "ballot \(ballot) not above \(highestBallotSeen): observe it into the HLC first")
        }
        highestBallotSeen = ballot
        notReady = []
        attempts += 1
        rounds += 1
        let quorum = JointQuorum(sets: sets)
        phase = .preparing(ballot: ballot, quorum: quorum, promises: [:])
        return [.prepare(ballot: ballot, nodes: quorum.nodes)]
    }

    /// Routes an acceptor's reply to the matching step.
    public mutating func receive(_ reply: Acceptor.Reply, from node: String, ballot: PaxosBallot) -> [Action] {
        switch reply {
        case .promised(let inFlight, let committed):
            return receivePromise(from: node, ballot: ballot, inFlight: inFlight, committed: committed)
        case .accepted: return receiveAccepted(from: node, ballot: ballot)
        case .rejected(let promised): return receiveRejection(from: node, ballot: ballot, promised: promised)
        case .notReady:
            if let lesson, lesson.ballot == ballot, phase == .done, nodes.contains(node) {
                return [.commit(lesson, nodes: [node])]
            }
            if case .preparing(let current, let quorum, _) = phase, current == ballot, quorum.contains(node),
                !quorum.hasAnswered(node)
            {
                notReady.append(node)
            }
            return receiveFailure(from: node, ballot: ballot)
        case .committed: return []
        }
    }

    public mutating func receivePromise(
        from node: String, ballot: PaxosBallot, inFlight: PaxosProposal?, committed: PaxosCommit?
    ) -> [Action] {
        guard case .preparing(let current, var quorum, var promises) = phase, current == ballot,
            quorum.record(node, voted: true)
        else { return [] }
        promises[node] = .promised(inFlight: inFlight, committed: committed)
        phase = .preparing(ballot: ballot, quorum: quorum, promises: promises)
        switch quorum.status {
        case .pending: return []
        case .failed: return unavailable(quorum)
        case .succeeded: return prepared(ballot: ballot, quorum: quorum, promises: promises)
        }
    }

    /// An acceptor promised a higher ballot: someone else is proposing. This round stops
    /// (continuing would only duel) and retries after a random back-off.
    public mutating func receiveRejection(from node: String, ballot: PaxosBallot, promised: PaxosBallot) -> [Action] {
        switch phase {
        case .preparing(let current, let quorum, _) where current == ballot && quorum.contains(node) && !quorum.hasAnswered(node):
            break
        case .proposing(let proposal, let quorum, _)
        where proposal.ballot == ballot && quorum.contains(node) && !quorum.hasAnswered(node):
            break
        default: return []
        }
        if highestBallotSeen.map({ promised > $0 }) ?? true { highestBallotSeen = promised }
        return retry(afterMilliseconds: nil)
    }

    /// `node` failed, timed out or is catching up (`notReady`): it counts against the majority.
    ///
    /// Replies are matched to the round by ballot and phase; prepare and propose share a
    /// ballot, so a prepare's failure or rejection that arrives after the round moved on
    /// counts against the propose round. That can only end the operation early
    /// (unavailable, or a retry), never make it claim a success; the shell may drop
    /// replies to requests of a phase the coordinator has left.
    public mutating func receiveFailure(from node: String, ballot: PaxosBallot) -> [Action] {
        switch phase {
        case .preparing(let current, var quorum, let promises) where current == ballot:
            guard quorum.record(node, voted: false) else { return [] }
            phase = .preparing(ballot: ballot, quorum: quorum, promises: promises)
            return quorum.status == .failed ? unavailable(quorum) : []
        case .proposing(let proposal, var quorum, let purpose) where proposal.ballot == ballot:
            guard quorum.record(node, voted: false) else { return [] }
            phase = .proposing(proposal: proposal, quorum: quorum, purpose: purpose)
            return quorum.status == .failed ? unavailable(quorum) : []
        default: return []
        }
    }

    public mutating func receiveAccepted(from node: String, ballot: PaxosBallot) -> [Action] {
        guard case .proposing(let proposal, var quorum, let purpose) = phase, proposal.ballot == ballot,
            quorum.record(node, voted: true)
        else { return [] }
        phase = .proposing(proposal: proposal, quorum: quorum, purpose: purpose)
        let decided = faults.contains(.learnsFromMinority) ? !quorum.yes.isEmpty : quorum.status == .succeeded
        if decided { return chosen(proposal, purpose: purpose) }
        return quorum.status == .failed ? unavailable(quorum) : []
    }

    public mutating func deadlinePassed() -> [Action] {
        guard phase != .done else { return [] }
        return finish(.timedOut(mayHaveApplied: mayHaveApplied))
    }

    // MARK: - Decisions

    private mutating func prepared(ballot: PaxosBallot, quorum: JointQuorum, promises: [String: Acceptor.Reply]) -> [Action] {
        var latest: PaxosCommit?
        var inFlight: PaxosProposal?
        for reply in promises.values {
            guard case .promised(let accepted, let committed) = reply else { continue }
            if let committed, latest.map({ committed.ballot > $0.ballot }) ?? true { latest = committed }
            if let accepted, inFlight.map({ accepted.ballot > $0.ballot }) ?? true { inFlight = accepted }
        }
        if let found = inFlight, let latest, found.ballot <= latest.ballot { inFlight = nil }

        if let mine = own {
            // Did a proposal of this operation get chosen? Identified by its origin, which
            // a completion by another proposer keeps. Checked on every round while one may
            // be, not only right after proposing: a round that completes another operation's
            // proposal first can be followed by one of ours being completed by a third.
            if let found = inFlight, mine.origins.contains(found.origin) {
                return propose(found.completed(under: ballot), quorum, .completingOwn)
            }
            if let latest, mine.origins.contains(latest.origin) {
                return finish(.succeeded(value: latest.value.isTombstone ? nil : latest.value, etag: StrongETag.of(latest)))
            }
            if let latest, let basedOn = latest.basedOn, mine.origins.contains(basedOn) {
                // Chosen, and another operation's value since built on it.
                let value = operation.newValue.flatMap { $0.isTombstone ? nil : $0 }
                return finish(.succeeded(value: value, etag: StrongETag(ballot: basedOn)))
            }
            if let latest, latest.basedOn == mine.base {
                // Its instance chose another operation's value, so none of this operation's
                // proposals was or ever will be chosen (one value per instance); it runs
                // afresh on the new commit.
                own = nil
            } else if latest?.origin != mine.base {
                // The key moved on past the proposals' instance: one may have been chosen
                // and then replaced. Running the operation again could apply it twice, so
                // the client is told it may have applied.
                return finish(.timedOut(mayHaveApplied: true))
            }
            // Otherwise the same base and none of ours in sight: none was chosen yet. The
            // operation goes on (completing another's proposal first, or proposing again on
            // the same base, whose condition reads the same); the earlier ones stay its own.
        }

        if let found = inFlight {
            return propose(found.completed(under: ballot), quorum, .completingOther)
        }
        let current = latest.flatMap { $0.value.isTombstone ? nil : $0.value }
        switch operation {
        case .read:
            return teach(latest, at: ballot) + finish(.succeeded(value: current, etag: StrongETag.of(latest)))
        case .compareAndSet(let condition, _) where !condition.holds(for: latest):
            return teach(latest, at: ballot) + finish(.conditionFailed(current: current, etag: StrongETag.of(latest)))
        case .write, .delete, .compareAndSet:
            let proposal = PaxosProposal(ballot: ballot, value: operation.newValue!, basedOn: latest?.origin)
            return propose(proposal, quorum, .own)
        }
    }

    /// Teaches replicas that answered `notReady` the key's current value, under this round's
    /// ballot: a majority promised that ballot and reported `latest` with nothing newer in
    /// flight, so `latest` is the key's value as of the ballot and nothing below it can be
    /// chosen any more. A relearning replica that learns a commit at or above its floor
    /// knows the key again; without this, a key that is only read would stay unknown to
    /// it for good. Nothing to teach for a key that never had a commit.
    private mutating func teach(_ latest: PaxosCommit?, at ballot: PaxosBallot) -> [Action] {
        guard let latest, latest.ballot < ballot else { return [] }
        let lesson = PaxosCommit(ballot: ballot, value: latest.value, basedOn: latest.basedOn, origin: latest.origin)
        self.lesson = lesson
        return notReady.isEmpty ? [] : [.commit(lesson, nodes: notReady)]
    }

    private mutating func propose(_ proposal: PaxosProposal, _ prepareQuorum: JointQuorum, _ purpose: Purpose) -> [Action] {
        if purpose == .own {
            precondition(own.map { $0.base == proposal.basedOn } ?? true, "an operation proposes on one base at a time")
            own = OwnProposals(base: proposal.basedOn, origins: (own?.origins ?? []).union([proposal.origin]))
        }
        rounds += 1
        let quorum = JointQuorum(sets: sets)
        phase = .proposing(proposal: proposal, quorum: quorum, purpose: purpose)
        return [.propose(proposal, nodes: quorum.nodes)]
    }

    private mutating func chosen(_ proposal: PaxosProposal, purpose: Purpose) -> [Action] {
        let commit = PaxosCommit(chosen: proposal)
        let send = Action.commit(commit, nodes: nodes)
        switch purpose {
        case .own, .completingOwn:
            own = nil
            let value = proposal.value.isTombstone ? nil : proposal.value
            return [send] + finish(.succeeded(value: value, etag: StrongETag.of(commit)))
        case .completingOther:
            // The value this operation read is now stale: start over, at once.
            return [send] + retry(afterMilliseconds: 0)
        }
    }

    private mutating func retry(afterMilliseconds fixed: UInt64?) -> [Action] {
        guard attempts < limits.attemptsMax else {
            return finish(.contended(attempts: attempts, mayHaveApplied: mayHaveApplied))
        }
        phase = .backingOff
        let delay = fixed ?? limits.backoffMilliseconds(retry: attempts, draw: random.next())
        return [.retry(afterMilliseconds: delay)]
    }

    private mutating func unavailable(_ quorum: JointQuorum) -> [Action] {
        finish(.unavailable(counts: quorum.counts, mayHaveApplied: mayHaveApplied))
    }

    private mutating func finish(_ outcome: Outcome) -> [Action] {
        phase = .done
        return [.finish(outcome)]
    }
}

/// The proposals of one operation that may still be chosen. They share one base (the origin
/// of the commit they build on; nil: the key had none): the operation proposes again only
/// on an unchanged base, and forgets them once its instance chose another operation's
/// value (then none of them ever can be). Recognised by origin, never by bytes, so another
/// client's proposal of the same bytes on the same base is never taken for one of them.
private struct OwnProposals: Sendable, Equatable {
    var base: PaxosBallot?
    var origins: Set<PaxosBallot>
}

/// Deliberate proposer bugs the simulator turns on to prove its checker catches them.
/// Off by default; production code never sets them.
public struct StrongFaults: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Treat a value as chosen (commit it, answer the client) after a single accept,
    /// fewer than a majority.
    public static let learnsFromMinority = StrongFaults(rawValue: 1 << 0)
}
