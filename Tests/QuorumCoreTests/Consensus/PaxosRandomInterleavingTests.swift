import XCTest

@testable import QuorumCore

/// Several proposers on one key with messages delivered in a random order, some lost
/// (answered as failures) and some duplicated, from a seed. The invariant is Paxos's:
/// one instance (the commit a value was built on) never chooses two different values.
/// Correct code keeps it on every seed; each deliberate bug breaks it on some seed. (The
/// simulator will check full linearizability; this is the core's own smoke test.)
final class PaxosRandomInterleavingTests: XCTestCase {
    private enum Envelope {
        case toAcceptor(PaxosMessage, node: String, from: Int)
        case reply(Acceptor.Reply, node: String, ballot: PaxosBallot, to: Int)
        case failure(node: String, ballot: PaxosBallot, to: Int)
        case restart(Int)
    }

    /// Instances that chose a value in the last history (to check histories do progress).
    private var instancesChosen = 0

    /// Runs one history; returns a description of the first violation, or nil.
    private func history(seed: UInt64, acceptorFaults: AcceptorFaults = [], strongFaults: StrongFaults = []) -> String? {
        var random = SplitMix64(seed: seed)
        let nodes = ["n1", "n2", "n3"]
        var cluster = PaxosCluster(nodes, faults: acceptorFaults)
        var coordinators = (0..<3).map { index in
            StrongCoordinator(
                node: "c\(index)", primaries: nodes,
                operation: index == 2 ? .compareAndSet(.ifAbsent, text("cas")) : .write(text("w\(index)")),
                limits: ConsensusLimits(attemptsMax: 6, backoffBaseMilliseconds: 1, backoffMillisecondsMax: 8),
                randomSeed: random.next(), faults: strongFaults)
        }
        var clock: UInt64 = 0
        var pool: [Envelope] = (0..<3).map { .restart($0) }
        var chosen: [PaxosBallot?: StrongValue] = [:]
        var violation: String?

        func handle(_ actions: [StrongCoordinator.Action], of index: Int) {
            for action in actions {
                switch action {
                case .prepare(let ballot, let targets):
                    pool += targets.map { .toAcceptor(.prepare(ballot), node: $0, from: index) }
                case .propose(let proposal, let targets):
                    pool += targets.map { .toAcceptor(.propose(proposal), node: $0, from: index) }
                case .commit(let commit, let targets):
                    if let earlier = chosen[commit.basedOn], earlier != commit.value {
                        violation = violation ?? "instance \(String(describing: commit.basedOn)) chose \(earlier) and \(commit.value)"
                    }
                    chosen[commit.basedOn] = commit.value
                    pool += targets.map { .toAcceptor(.commit(commit), node: $0, from: index) }
                case .retry:
                    pool.append(.restart(index))
                case .finish:
                    break
                }
            }
        }

        var steps = 0
        while !pool.isEmpty && steps < 2000 {
            steps += 1
            let envelope = pool.remove(at: Int(random.next() % UInt64(pool.count)))
            let roll = random.next() % 100
            switch envelope {
            case .restart(let index):
                clock = max(clock, coordinators[index].highestBallotSeen?.timestamp.physicalMilliseconds ?? 0) + 1
                handle(coordinators[index].start(at: stamp(clock)), of: index)
            case .toAcceptor(let message, let node, let index):
                let ballot: PaxosBallot
                switch message {
                case .prepare(let b): ballot = b
                case .propose(let p): ballot = p.ballot
                case .commit(let c): ballot = c.ballot
                }
                if roll < 10 {
                    pool.append(.failure(node: node, ballot: ballot, to: index))  // lost
                    continue
                }
                if roll < 15 { pool.append(envelope) }  // duplicated
                let reply = cluster.deliver(message, to: node)
                pool.append(.reply(reply, node: node, ballot: ballot, to: index))
            case .reply(let reply, let node, let ballot, let index):
                handle(coordinators[index].receive(reply, from: node, ballot: ballot), of: index)
            case .failure(let node, let ballot, let index):
                handle(coordinators[index].receiveFailure(from: node, ballot: ballot), of: index)
            }
        }
        instancesChosen = chosen.count
        return violation
    }

    func testCorrectCodeChoosesOneValuePerInstanceOnEverySeed() {
        var progressed = 0
        for seed in 0..<300 as Range<UInt64> {
            if let violation = history(seed: seed) { XCTFail("seed \(seed): \(violation)") }
            if instancesChosen >= 2 { progressed += 1 }
        }
        XCTAssertGreaterThan(progressed, 150, "most histories chain two or more commits, so the check has something to check")
    }

    func testAcceptingALowerBallotIsCaughtOnSomeSeed() {
        let caught = (0..<300 as Range<UInt64>).first { history(seed: $0, acceptorFaults: .acceptsLowerBallot) != nil }
        XCTAssertNotNil(caught)
    }

    func testLearningFromAMinorityIsCaughtOnSomeSeed() {
        let caught = (0..<300 as Range<UInt64>).first { history(seed: $0, strongFaults: .learnsFromMinority) != nil }
        XCTAssertNotNil(caught)
    }
}
