import XCTest

@testable import QuorumCore

final class StrongCoordinatorTests: XCTestCase {
    let nodes = ["n1", "n2", "n3"]

    private func coordinator(
        _ operation: StrongOperation, node: String = "n1", incoming: [String]? = nil, faults: StrongFaults = [],
        limits: ConsensusLimits = .defaults
    ) -> StrongCoordinator {
        StrongCoordinator(
            node: node, primaries: nodes, incomingPrimaries: incoming, operation: operation, limits: limits, randomSeed: 7,
            faults: faults)
    }

    /// Writes `value` through a fresh coordinator at `ms` and returns its etag.
    @discardableResult
    private func write(_ value: StrongValue, at ms: UInt64, on cluster: inout PaxosCluster) -> StrongETag? {
        var writer = coordinator(.write(value))
        let actions = drive(&writer, on: &cluster, startingWith: writer.start(at: stamp(ms)))
        guard case .succeeded(_, let etag) = actions.outcome else {
            XCTFail("write failed: \(actions)")
            return nil
        }
        return etag
    }

    /// Starts `c` at `ms`, delivers its prepare to `targets` (every node by default), and
    /// returns the proposal it then makes (failing the test when it makes none).
    private func proposal(
        of c: inout StrongCoordinator, at ms: UInt64, on cluster: inout PaxosCluster, to targets: [String]? = nil,
        line: UInt = #line
    ) -> PaxosProposal? {
        let ballot = PaxosBallot(timestamp: stamp(ms), node: c.node)
        XCTAssertEqual(c.start(at: stamp(ms)), [.prepare(ballot: ballot, nodes: nodes)], line: line)
        var pending: [StrongCoordinator.Action] = []
        for node in targets ?? nodes {
            pending += c.receive(cluster.deliver(.prepare(ballot), to: node), from: node, ballot: ballot)
        }
        guard case .propose(let proposal, _) = pending.first else {
            XCTFail("no proposal: \(pending)", line: line)
            return nil
        }
        return proposal
    }

    func testWriteTakesTwoRoundsAndCommitsEverywhere() {
        var cluster = PaxosCluster(nodes)
        var writer = coordinator(.write(text("v1")))
        let actions = drive(&writer, on: &cluster, startingWith: writer.start(at: stamp(100)))
        let b = ballot(100, "n1")
        XCTAssertEqual(
            actions,
            [
                .prepare(ballot: b, nodes: nodes),
                .propose(PaxosProposal(ballot: b, value: text("v1"), basedOn: nil), nodes: nodes),
                .commit(PaxosCommit(ballot: b, value: text("v1")), nodes: nodes),
                .finish(.succeeded(value: text("v1"), etag: StrongETag(ballot: b))),
            ])
        XCTAssertEqual(writer.rounds, 2)
        for node in nodes {
            XCTAssertEqual(cluster.states[node], AcceptorState(promised: b, committed: PaxosCommit(ballot: b, value: text("v1"))))
        }
    }

    func testReadTakesOneRoundAndWritesNoValue() {
        var cluster = PaxosCluster(nodes)
        let etag = write(text("v1"), at: 100, on: &cluster)
        let before = cluster.states
        var reader = coordinator(.read, node: "n2")
        let actions = drive(&reader, on: &cluster, startingWith: reader.start(at: stamp(200)))
        XCTAssertEqual(actions.outcome, .succeeded(value: text("v1"), etag: etag))
        XCTAssertEqual(reader.rounds, 1)
        XCTAssertFalse(actions.contains { if case .propose = $0 { return true } else { return false } })
        for node in nodes {
            XCTAssertEqual(cluster.states[node]?.committed, before[node]?.committed)
            XCTAssertEqual(cluster.states[node]?.promised, ballot(200, "n2"), "only the promise moved")
        }
    }

    func testReadOfAnAbsentOrDeletedKey() {
        var cluster = PaxosCluster(nodes)
        var reader = coordinator(.read)
        XCTAssertEqual(
            drive(&reader, on: &cluster, startingWith: reader.start(at: stamp(1))).outcome, .succeeded(value: nil, etag: nil))
        write(text("v"), at: 10, on: &cluster)
        var deleter = coordinator(.delete)
        XCTAssertEqual(
            drive(&deleter, on: &cluster, startingWith: deleter.start(at: stamp(20))).outcome, .succeeded(value: nil, etag: nil))
        var again = coordinator(.read)
        XCTAssertEqual(drive(&again, on: &cluster, startingWith: again.start(at: stamp(30))).outcome, .succeeded(value: nil, etag: nil))
        XCTAssertEqual(cluster.states["n1"]?.committed, PaxosCommit(ballot: ballot(20, "n1"), value: .tombstone, basedOn: ballot(10, "n1")))
    }

    /// Two proposers interleaved by hand: the one whose ballot was overtaken retries
    /// after a bounded back-off, with a higher ballot, and both end on one history.
    func testContentionLowerBallotRetriesAndBothEndConsistent() {
        var cluster = PaxosCluster(nodes)
        let limits = ConsensusLimits(attemptsMax: 5, backoffBaseMilliseconds: 10, backoffMillisecondsMax: 100)
        var a = coordinator(.write(text("from-a")), node: "n1", limits: limits)
        var b = coordinator(.write(text("from-b")), node: "n2", limits: limits)

        // A prepares at 10 everywhere; B prepares at 11 everywhere before A proposes.
        guard case .prepare(let ballotA, _) = a.start(at: stamp(10)).first! else { return XCTFail() }
        var proposalA: [StrongCoordinator.Action] = []
        for node in nodes { proposalA += a.receive(cluster.deliver(.prepare(ballotA), to: node), from: node, ballot: ballotA) }
        guard case .prepare(let ballotB, _) = b.start(at: stamp(11)).first! else { return XCTFail() }
        var proposalB: [StrongCoordinator.Action] = []
        for node in nodes { proposalB += b.receive(cluster.deliver(.prepare(ballotB), to: node), from: node, ballot: ballotB) }

        // A's proposal is refused at the first acceptor: A backs off.
        guard case .propose(let pa, _) = proposalA.first! else { return XCTFail("\(proposalA)") }
        let refused = a.receive(cluster.deliver(.propose(pa), to: "n1"), from: "n1", ballot: ballotA)
        guard case .retry(let delay) = refused.first else { return XCTFail("\(refused)") }
        XCTAssertTrue((5...10).contains(delay), "first back-off within its bound: \(delay)")
        XCTAssertEqual(a.highestBallotSeen, ballotB)
        // Late replies to the abandoned round change nothing.
        XCTAssertEqual(a.receive(cluster.deliver(.propose(pa), to: "n2"), from: "n2", ballot: ballotA), [])

        // B completes.
        let bActions = drive(&b, on: &cluster, startingWith: proposalB)
        XCTAssertEqual(bActions.outcome, .succeeded(value: text("from-b"), etag: StrongETag(ballot: ballotB)))

        // A retries from above what it saw, and builds on B's commit.
        let retried = drive(&a, on: &cluster, startingWith: a.start(at: stamp(11, 1)))
        XCTAssertEqual(retried.outcome, .succeeded(value: text("from-a"), etag: StrongETag(ballot: ballot(0, "n1").with(stamp(11, 1)))))
        XCTAssertTrue(retried.contains(.propose(PaxosProposal(ballot: PaxosBallot(timestamp: stamp(11, 1), node: "n1"), value: text("from-a"), basedOn: ballotB), nodes: nodes)))
        XCTAssertEqual(a.attempts, 2)
        let finals = Set(nodes.map { cluster.states[$0]!.committed })
        XCTAssertEqual(finals.count, 1, "every acceptor learned the same latest commit")
        XCTAssertEqual(finals.first!!.value, text("from-a"))
    }

    func testARejectionRaisesTheFloorOfTheNextBallot() {
        // The shell observes highestBallotSeen into its HLC before the next start; a ballot
        // not above it traps (a precondition, not testable here).
        var a = coordinator(.read)
        _ = a.start(at: stamp(10))
        _ = a.receiveRejection(from: "n1", ballot: ballot(10, "n1"), promised: ballot(50, "n3"))
        XCTAssertEqual(a.highestBallotSeen, ballot(50, "n3"))
        XCTAssertEqual(a.start(at: stamp(50, 1)).count, 1)
    }

    func testContentionEndsAfterTheAttemptBound() {
        let limits = ConsensusLimits(attemptsMax: 2, backoffBaseMilliseconds: 10, backoffMillisecondsMax: 100)
        var a = coordinator(.write(text("x")), limits: limits)
        _ = a.start(at: stamp(10))
        XCTAssertTrue(a.receiveRejection(from: "n2", ballot: ballot(10, "n1"), promised: ballot(20, "n2")).retried)
        _ = a.start(at: stamp(21))
        XCTAssertEqual(
            a.receiveRejection(from: "n2", ballot: ballot(21, "n1"), promised: ballot(30, "n2")),
            [.finish(.contended(attempts: 2, mayHaveApplied: false))])
        XCTAssertTrue(a.isDone)
    }

    func testFailureMessagesSayWhatHappenedAndWhetherItMayHaveApplied() {
        let unavailable = StrongCoordinator.Outcome.unavailable(
            counts: [StrongQuorumCount(replicas: 3, needed: 2, answered: 3), StrongQuorumCount(replicas: 3, needed: 2, answered: 1)],
            mayHaveApplied: false)
        XCTAssertEqual(
            StrongCoordinator.failureMessage(of: unavailable),
            "a strong operation needs a majority of the key's primaries (primaries: needed 2 of 3, 3 answered; "
                + "primaries after the ring change: needed 2 of 3, 1 answered); it was not applied")
        XCTAssertEqual(
            StrongCoordinator.failureMessage(of: .contended(attempts: 10, mayHaveApplied: true)),
            "other operations on this key kept winning; gave up after 10 attempts; it may still have been applied: read the key before retrying")
        XCTAssertNil(StrongCoordinator.failureMessage(of: .conditionFailed(current: nil, etag: nil)))
    }

    func testDeadline() {
        var a = coordinator(.write(text("x")))
        _ = a.start(at: stamp(10))
        XCTAssertEqual(a.deadlinePassed(), [.finish(.timedOut(mayHaveApplied: false))])
        XCTAssertEqual(a.deadlinePassed(), [])
    }

    /// An operation interrupted after one accept: the next proposer finds it in a promise,
    /// completes it first, then runs its own operation on top.
    func testCompletesAnInFlightProposalThenRetriesItsOwn() {
        var cluster = PaxosCluster(nodes)
        let stranded = PaxosProposal(ballot: ballot(5, "n3"), value: text("stranded"), basedOn: nil)
        _ = cluster.deliver(.prepare(stranded.ballot), to: "n1")
        _ = cluster.deliver(.propose(stranded), to: "n1")

        var c = coordinator(.write(text("mine")), node: "n2")
        let first = drive(&c, on: &cluster, startingWith: c.start(at: stamp(10)))
        let b1 = ballot(10, "n2")
        XCTAssertEqual(
            first,
            [
                .prepare(ballot: b1, nodes: nodes),
                .propose(stranded.completed(under: b1), nodes: nodes),
                .commit(PaxosCommit(ballot: b1, value: text("stranded"), origin: stranded.ballot), nodes: nodes),
                .retry(afterMilliseconds: 0),
            ])
        let second = drive(&c, on: &cluster, startingWith: c.start(at: stamp(11)))
        let b2 = ballot(11, "n2")
        XCTAssertEqual(second.outcome, .succeeded(value: text("mine"), etag: StrongETag(ballot: b2)))
        // Built on the stranded value's instance, named by its origin, not the completing ballot.
        XCTAssertTrue(second.contains(.propose(PaxosProposal(ballot: b2, value: text("mine"), basedOn: stranded.ballot), nodes: nodes)))
    }

    func testAReadCompletesAnInFlightProposalAndReturnsIt() {
        var cluster = PaxosCluster(nodes)
        let stranded = PaxosProposal(ballot: ballot(5, "n3"), value: text("stranded"), basedOn: nil)
        _ = cluster.deliver(.prepare(stranded.ballot), to: "n1")
        _ = cluster.deliver(.propose(stranded), to: "n1")
        var reader = coordinator(.read)
        let first = drive(&reader, on: &cluster, startingWith: reader.start(at: stamp(10)))
        XCTAssertEqual(first.last, .retry(afterMilliseconds: 0))
        let second = drive(&reader, on: &cluster, startingWith: reader.start(at: stamp(11)))
        // The etag is the stranded operation's, whoever completed it.
        XCTAssertEqual(second.outcome, .succeeded(value: text("stranded"), etag: StrongETag(ballot: stranded.ballot)))
        XCTAssertEqual(reader.rounds, 3)
    }

    /// While this operation's own proposal is in an unknown state, a deadline says it may have applied.
    func testDeadlineAfterAnInterruptedProposalMayHaveApplied() {
        var cluster = PaxosCluster(nodes)
        var c = coordinator(.compareAndSet(.ifAbsent, text("once")))
        let b1 = ballot(10, "n1")
        guard let own = proposal(of: &c, at: 10, on: &cluster) else { return }
        XCTAssertEqual(c.receive(cluster.deliver(.propose(own), to: "n1"), from: "n1", ballot: b1), [])
        _ = cluster.deliver(.prepare(ballot(12, "n3")), to: "n2")
        XCTAssertTrue(c.receive(cluster.deliver(.propose(own), to: "n2"), from: "n2", ballot: b1).retried)
        XCTAssertEqual(c.deadlinePassed(), [.finish(.timedOut(mayHaveApplied: true))])
    }

    /// This operation's own proposal was refused after one accept; the retry finds it in
    /// flight, completes it and reports success instead of applying it twice.
    func testOwnInterruptedProposalFoundOnRetrySucceeds() {
        var cluster = PaxosCluster(nodes)
        var c = coordinator(.compareAndSet(.ifAbsent, text("once")))
        let b1 = ballot(10, "n1")
        guard let own = proposal(of: &c, at: 10, on: &cluster) else { return }
        XCTAssertEqual(c.receive(cluster.deliver(.propose(own), to: "n1"), from: "n1", ballot: b1), [])
        _ = cluster.deliver(.prepare(ballot(12, "n3")), to: "n2")
        XCTAssertTrue(c.receive(cluster.deliver(.propose(own), to: "n2"), from: "n2", ballot: b1).retried)
        // Retry: the promise from n1 shows the proposal in flight; it is completed, and the
        // ifAbsent condition (now false) is not checked again.
        let retried = drive(&c, on: &cluster, startingWith: c.start(at: stamp(13)))
        let b2 = ballot(13, "n1")
        XCTAssertEqual(retried.outcome, .succeeded(value: text("once"), etag: StrongETag(ballot: b1)), "the etag of the first proposal")
        XCTAssertTrue(retried.contains(.propose(own.completed(under: b2), nodes: nodes)))
    }

    /// Our proposal was accepted by one node, then the key moved on two commits past its
    /// instance: whether ours was chosen in between can't be told, so the operation does
    /// not run again and says it may have applied.
    func testOwnProposalOvertakenByLaterCommitsMayHaveApplied() {
        var cluster = PaxosCluster(nodes)
        var c = coordinator(.write(text("mine")))
        let b1 = ballot(10, "n1")
        guard let own = proposal(of: &c, at: 10, on: &cluster) else { return }
        XCTAssertEqual(c.receive(cluster.deliver(.propose(own), to: "n1"), from: "n1", ballot: b1), [])
        XCTAssertEqual(c.receiveFailure(from: "n2", ballot: b1), [])
        // Others complete it and write again on top before the retry's prepare.
        var other = coordinator(.write(text("other")), node: "n3")
        XCTAssertTrue(drive(&other, on: &cluster, startingWith: other.start(at: stamp(20))).retried)
        XCTAssertEqual(
            drive(&other, on: &cluster, startingWith: other.start(at: stamp(21))).outcome,
            .succeeded(value: text("other"), etag: StrongETag(ballot: ballot(21, "n3"))))
        XCTAssertEqual(c.deadlinePassed(), [.finish(.timedOut(mayHaveApplied: true))])

        // The same operation retrying sees the commit built on its value: it was chosen.
        func retrying(at ms: UInt64) -> StrongCoordinator.Outcome? {
            var again = coordinator(.write(text("mine")))
            _ = again.start(at: stamp(10))
            for node in nodes { _ = again.receive(.promised(inFlight: nil, committed: nil), from: node, ballot: b1) }
            _ = again.receiveAccepted(from: "n1", ballot: b1)
            XCTAssertTrue(again.receiveRejection(from: "n2", ballot: b1, promised: ballot(21, "n3")).retried)
            return drive(&again, on: &cluster, startingWith: again.start(at: stamp(ms))).outcome
        }
        XCTAssertEqual(retrying(at: 30), .succeeded(value: text("mine"), etag: StrongETag(ballot: b1)))
        // Once the key moved on further, it can't tell: it may have applied.
        write(text("third"), at: 40, on: &cluster)
        XCTAssertEqual(retrying(at: 50), .timedOut(mayHaveApplied: true))
    }

    /// Seed 957 of the simulator (crashes, six strong clients on one key): an operation whose
    /// proposal was interrupted completed another operation's proposal first, and a third
    /// proposer then completed its own proposal. The rounds after the completion must still
    /// recognise it, or the operation answers "condition failed" with its own value.
    func testAnOwnProposalCompletedByAnotherAfterThisOneCompletedAThirdIsStillRecognised() {
        var cluster = PaxosCluster(nodes)
        let base = write(text("base"), at: 1, on: &cluster)!
        var c = coordinator(.compareAndSet(.ifMatch(base), text("mine")))
        let b1 = ballot(10, "n1")
        guard let mine = proposal(of: &c, at: 10, on: &cluster) else { return }
        XCTAssertEqual(c.receive(cluster.deliver(.propose(mine), to: "n1"), from: "n1", ballot: b1), [])
        XCTAssertTrue(c.receiveRejection(from: "n2", ballot: b1, promised: ballot(11, "n3")).retried)
        // Another operation's proposal on the same base, accepted by n2 only, above ours.
        let theirs = PaxosProposal(ballot: ballot(12, "n3"), value: text("theirs"), basedOn: base.ballot)
        _ = cluster.deliver(.prepare(theirs.ballot), to: "n2")
        _ = cluster.deliver(.propose(theirs), to: "n2")
        // The retry's prepare meets n1 (ours) and n2 (theirs, higher): it completes theirs
        // under its ballot, but that round fails.
        let b2 = ballot(20, "n1")
        guard let completion = proposal(of: &c, at: 20, on: &cluster, to: ["n1", "n2"]) else { return }
        XCTAssertEqual(completion.origin, theirs.origin, "it completes theirs first")
        XCTAssertTrue(c.receiveRejection(from: "n1", ballot: b2, promised: ballot(25, "n3")).retried)
        // A third proposer meets n1 and n3 and completes ours; it is chosen.
        var third = coordinator(.read, node: "n3")
        _ = third.start(at: stamp(25))
        let b3 = ballot(25, "n3")
        var thirds: [StrongCoordinator.Action] = []
        for node in ["n1", "n3"] { thirds += third.receive(cluster.deliver(.prepare(b3), to: node), from: node, ballot: b3) }
        guard case .propose(let ours, _) = thirds.first, ours.origin == mine.origin else { return XCTFail("\(thirds)") }
        for node in ["n1", "n3"] { _ = third.receive(cluster.deliver(.propose(ours), to: node), from: node, ballot: b3) }
        for node in nodes { _ = cluster.deliver(.commit(PaxosCommit(chosen: ours)), to: node) }

        let retried = drive(&c, on: &cluster, startingWith: c.start(at: stamp(30)))
        XCTAssertEqual(retried.outcome, .succeeded(value: text("mine"), etag: StrongETag(ballot: b1)))
    }

    func testCompareAndSetConditions() {
        var cluster = PaxosCluster(nodes)
        let e1 = write(text("v1"), at: 10, on: &cluster)!

        var stale = coordinator(.compareAndSet(.ifMatch(StrongETag(ballot: ballot(9, "n2"))), text("v2")))
        let failed = drive(&stale, on: &cluster, startingWith: stale.start(at: stamp(20)))
        XCTAssertEqual(failed.outcome, .conditionFailed(current: text("v1"), etag: e1))
        XCTAssertEqual(stale.rounds, 1, "a failed condition is decided in the read round")

        var absent = coordinator(.compareAndSet(.ifAbsent, text("v2")))
        XCTAssertEqual(
            drive(&absent, on: &cluster, startingWith: absent.start(at: stamp(21))).outcome,
            .conditionFailed(current: text("v1"), etag: e1))

        var equals = coordinator(.compareAndSet(.ifEquals(Array("nope".utf8)), .tombstone))
        XCTAssertEqual(
            drive(&equals, on: &cluster, startingWith: equals.start(at: stamp(22))).outcome,
            .conditionFailed(current: text("v1"), etag: e1))

        var matching = coordinator(.compareAndSet(.ifMatch(e1), text("v2")))
        let e2 = StrongETag(ballot: ballot(30, "n1"))
        XCTAssertEqual(
            drive(&matching, on: &cluster, startingWith: matching.start(at: stamp(30))).outcome,
            .succeeded(value: text("v2"), etag: e2))

        var delete = coordinator(.compareAndSet(.ifEquals(Array("v2".utf8)), .tombstone))
        XCTAssertEqual(
            drive(&delete, on: &cluster, startingWith: delete.start(at: stamp(40))).outcome, .succeeded(value: nil, etag: nil))

        var create = coordinator(.compareAndSet(.ifAbsent, text("v3")))
        XCTAssertEqual(
            drive(&create, on: &cluster, startingWith: create.start(at: stamp(50))).outcome,
            .succeeded(value: text("v3"), etag: StrongETag(ballot: ballot(50, "n1"))))
        var reuse = coordinator(.compareAndSet(.ifMatch(e2), text("v4")))
        XCTAssertEqual(
            drive(&reuse, on: &cluster, startingWith: reuse.start(at: stamp(60))).outcome,
            .conditionFailed(current: text("v3"), etag: StrongETag(ballot: ballot(50, "n1"))),
            "an etag from before a delete no longer matches")
    }

    func testJointMajorityDuringARingChange() {
        var cluster = PaxosCluster(["n1", "n2", "n3", "n4", "n5"])
        var c = coordinator(.write(text("v")), incoming: ["n3", "n4", "n5"])
        XCTAssertEqual(c.nodes, ["n1", "n2", "n3", "n4", "n5"])
        let actions = drive(&c, on: &cluster, reachable: ["n1", "n2", "n3"], startingWith: c.start(at: stamp(10)))
        XCTAssertEqual(
            actions.outcome,
            .unavailable(
                counts: [
                    StrongQuorumCount(replicas: 3, needed: 2, answered: 3), StrongQuorumCount(replicas: 3, needed: 2, answered: 1),
                ], mayHaveApplied: false),
            "all of the old primaries are not enough without a majority of the new")

        var both = coordinator(.write(text("v")), incoming: ["n3", "n4", "n5"])
        let ok = drive(&both, on: &cluster, reachable: ["n1", "n2", "n4", "n5"], startingWith: both.start(at: stamp(20)))
        XCTAssertEqual(ok.outcome, .succeeded(value: text("v"), etag: StrongETag(ballot: ballot(20, "n1"))))

        var newOnly = coordinator(.read, incoming: ["n3", "n4", "n5"])
        let refused = drive(&newOnly, on: &cluster, reachable: ["n1", "n4", "n5"], startingWith: newOnly.start(at: stamp(30)))
        guard case .unavailable = refused.outcome else { return XCTFail("\(refused)") }
    }

    func testNotReadyAcceptorCountsAsAFailure() {
        var cluster = PaxosCluster(nodes)
        cluster.states["n3"] = .wiped
        var c = coordinator(.write(text("v")))
        let actions = drive(&c, on: &cluster, reachable: ["n1", "n3"], startingWith: c.start(at: stamp(10)))
        XCTAssertEqual(
            actions.outcome,
            .unavailable(counts: [StrongQuorumCount(replicas: 3, needed: 2, answered: 1)], mayHaveApplied: false))
        XCTAssertEqual(cluster.states["n3"], .wiped, "the catching-up replica voted for nothing")

        var d = coordinator(.write(text("v")))
        let ok = drive(&d, on: &cluster, startingWith: d.start(at: stamp(20)))
        XCTAssertEqual(ok.outcome, .succeeded(value: text("v"), etag: StrongETag(ballot: ballot(20, "n1"))))
        XCTAssertEqual(cluster.states["n3"]?.committed?.value, text("v"), "it still learns the commit")
        XCTAssertTrue(cluster.states["n3"]!.isCatchingUp)
    }

    /// A relearning replica (it lost strong data) does not promise for a key it has not
    /// voted or learned on above its floor; a read that a majority of the others answers
    /// teaches it the value under the read's ballot, even when its `notReady` comes late.
    func testAReadTeachesARelearningReplicaTheValueEvenAfterItFinished() {
        var cluster = PaxosCluster(nodes)
        write(text("v"), at: 10, on: &cluster)
        cluster.states["n3"] = AcceptorState(relearningFloor: ballot(15, "n3"))
        let before = cluster.states["n3"]!
        XCTAssertEqual(Acceptor().receivePrepare(ballot: ballot(16, "n1"), state: before).reply, .notReady)

        var reader = coordinator(.read)
        let b = ballot(20, "n1")
        XCTAssertEqual(reader.start(at: stamp(20)), [.prepare(ballot: b, nodes: nodes)])
        let current = PaxosCommit(ballot: ballot(10, "n1"), value: text("v"))
        XCTAssertEqual(reader.receive(.promised(inFlight: nil, committed: current), from: "n1", ballot: b), [])
        let answered = reader.receive(.promised(inFlight: nil, committed: current), from: "n2", ballot: b)
        XCTAssertEqual(answered, [.finish(.succeeded(value: text("v"), etag: StrongETag(ballot: ballot(10, "n1"))))])
        let lesson = PaxosCommit(ballot: b, value: text("v"), origin: ballot(10, "n1"))
        XCTAssertEqual(reader.receive(.notReady, from: "n3", ballot: b), [.commit(lesson, nodes: ["n3"])])

        let (_, taught) = Acceptor().receiveCommit(commit: lesson, state: before)
        XCTAssertEqual(taught?.knowsItsVotes, true, "a commit above the floor: it knows the key again")
        guard case .promised(_, let committed)? = taught.map({ Acceptor().receivePrepare(ballot: ballot(30, "n2"), state: $0).reply })
        else { return XCTFail("it promises again") }
        XCTAssertEqual(committed?.value, text("v"))
        XCTAssertEqual(StrongETag.of(committed), StrongETag(ballot: ballot(10, "n1")), "the value keeps its etag")
    }

    func testProposalLostInAnUnavailableAcceptRoundMayHaveApplied() {
        var cluster = PaxosCluster(nodes)
        var c = coordinator(.write(text("v")))
        var actions = c.start(at: stamp(10))
        let b = ballot(10, "n1")
        for node in nodes { actions = c.receive(cluster.deliver(.prepare(b), to: node), from: node, ballot: b) + actions }
        XCTAssertEqual(c.receiveAccepted(from: "n1", ballot: b), [])
        XCTAssertEqual(c.receiveFailure(from: "n2", ballot: b), [])
        XCTAssertEqual(
            c.receiveFailure(from: "n3", ballot: b),
            [.finish(.unavailable(counts: [StrongQuorumCount(replicas: 3, needed: 2, answered: 1)], mayHaveApplied: true))])
    }

    // MARK: - Deliberate bugs

    /// With `acceptsLowerBallot`, acceptors break their promise: a proposer whose ballot
    /// was overtaken still gets its value accepted, and two values are chosen for one
    /// instance. Correct acceptors refuse it.
    func testAcceptingALowerBallotChoosesTwoValues() {
        for faulty in [false, true] {
            var cluster = PaxosCluster(nodes, faults: faulty ? .acceptsLowerBallot : [])
            var low = coordinator(.write(text("low")), node: "n1")
            var high = coordinator(.write(text("high")), node: "n3")
            let bLow = ballot(10, "n1"), bHigh = ballot(20, "n3")
            _ = low.start(at: stamp(10))
            _ = high.start(at: stamp(20))
            var lowNext: [StrongCoordinator.Action] = []
            for node in ["n1", "n2"] { lowNext += low.receive(cluster.deliver(.prepare(bLow), to: node), from: node, ballot: bLow) }
            var highNext: [StrongCoordinator.Action] = []
            for node in ["n2", "n3"] { highNext += high.receive(cluster.deliver(.prepare(bHigh), to: node), from: node, ballot: bHigh) }
            guard case .propose(let pHigh, _) = highNext.first, case .propose(let pLow, _) = lowNext.first else { return XCTFail() }
            var highDone: [StrongCoordinator.Action] = []
            for node in ["n2", "n3"] { highDone += high.receive(cluster.deliver(.propose(pHigh), to: node), from: node, ballot: bHigh) }
            XCTAssertEqual(highDone.outcome, .succeeded(value: text("high"), etag: StrongETag(ballot: bHigh)))
            var lowDone: [StrongCoordinator.Action] = []
            for node in ["n1", "n2"] { lowDone += low.receive(cluster.deliver(.propose(pLow), to: node), from: node, ballot: bLow) }
            if faulty {
                XCTAssertEqual(lowDone.outcome, .succeeded(value: text("low"), etag: StrongETag(ballot: bLow)))
                XCTAssertNil(pLow.basedOn)
                XCTAssertNil(pHigh.basedOn)
                // Both were told "chosen" for the instance based on nothing: the bug shows.
            } else {
                XCTAssertNil(lowDone.outcome)
                XCTAssertTrue(lowDone.retried, "a correct acceptor refuses the overtaken ballot")
            }
        }
    }

    /// With `learnsFromMinority`, a proposer commits after one accept; a majority that
    /// never saw it then chooses another value for the same instance, and the first
    /// client's acknowledged write is lost.
    func testLearningFromAMinorityLosesAnAcknowledgedWrite() {
        for faulty in [false, true] {
            var cluster = PaxosCluster(nodes)
            var first = coordinator(.write(text("first")), node: "n1", faults: faulty ? .learnsFromMinority : [])
            let b1 = ballot(10, "n1")
            _ = first.start(at: stamp(10))
            var next: [StrongCoordinator.Action] = []
            for node in nodes { next += first.receive(cluster.deliver(.prepare(b1), to: node), from: node, ballot: b1) }
            guard case .propose(let p1, _) = next.first else { return XCTFail() }
            let afterOne = first.receive(cluster.deliver(.propose(p1), to: "n1"), from: "n1", ballot: b1)
            guard faulty else {
                XCTAssertEqual(afterOne, [], "a correct proposer waits for a majority")
                continue
            }
            XCTAssertEqual(afterOne.outcome, .succeeded(value: text("first"), etag: StrongETag(ballot: b1)))
            _ = cluster.deliver(.commit(PaxosCommit(ballot: b1, value: text("first"))), to: "n1")

            // n1 is partitioned away; n2 and n3 choose another value for the same instance.
            var second = coordinator(.write(text("second")), node: "n2")
            let done = drive(&second, on: &cluster, reachable: ["n2", "n3"], startingWith: second.start(at: stamp(20)))
            XCTAssertEqual(done.outcome, .succeeded(value: text("second"), etag: StrongETag(ballot: ballot(20, "n2"))))
            XCTAssertTrue(done.contains(.propose(PaxosProposal(ballot: ballot(20, "n2"), value: text("second"), basedOn: nil), nodes: nodes)),
                "built on no commit: the acknowledged write is not in its history")
            XCTAssertEqual(cluster.states["n1"]?.committed?.value, text("first"))
            XCTAssertEqual(cluster.states["n2"]?.committed?.value, text("second"))
        }
    }

    func testPersistenceIsSignalledOnlyWhenStateChanges() {
        var cluster = PaxosCluster(nodes)
        write(text("v"), at: 10, on: &cluster)
        XCTAssertEqual(cluster.writes, ["n1": 3, "n2": 3, "n3": 3], "promise, accept, commit: each persisted before its reply")
        var reader = coordinator(.read)
        drive(&reader, on: &cluster, startingWith: reader.start(at: stamp(20)))
        XCTAssertEqual(cluster.writes, ["n1": 4, "n2": 4, "n3": 4], "a read persists only its promise")
    }
}

extension PaxosBallot {
    func with(_ timestamp: HLCTimestamp) -> PaxosBallot { PaxosBallot(timestamp: timestamp, node: node) }
}

extension StrongCoordinatorTests {
    /// Two clients propose equal bytes on the same base (two CAS increments from 18 to 19):
    /// the one whose proposal was not chosen must not take the other's for its own.
    func testAnotherClientsEqualProposalIsNotTakenForOwn() {
        var cluster = PaxosCluster(nodes)
        var mine = coordinator(.compareAndSet(.ifAbsent, text("19")), node: "n1")
        let b1 = ballot(10, "n1")
        _ = mine.start(at: stamp(10))
        var pending: [StrongCoordinator.Action] = []
        for node in nodes { pending += mine.receive(cluster.deliver(.prepare(b1), to: node), from: node, ballot: b1) }
        guard case .propose(let own, _) = pending.first else { return XCTFail("\(pending)") }
        // Only n1 accepts ours; another client's equal write wins the instance meanwhile.
        XCTAssertEqual(mine.receive(cluster.deliver(.propose(own), to: "n1"), from: "n1", ballot: b1), [])
        // Theirs runs on n2 and n3 only, so it never sees ours in flight.
        var theirs = coordinator(.compareAndSet(.ifAbsent, text("19")), node: "n3")
        let b2 = ballot(12, "n3")
        _ = theirs.start(at: stamp(12))
        var actions: [StrongCoordinator.Action] = []
        for node in ["n2", "n3"] { actions += theirs.receive(cluster.deliver(.prepare(b2), to: node), from: node, ballot: b2) }
        guard case .propose(let proposal, _) = actions.first else { return XCTFail("\(actions)") }
        actions = []
        for node in ["n2", "n3"] { actions += theirs.receive(cluster.deliver(.propose(proposal), to: node), from: node, ballot: b2) }
        guard case .finish(.succeeded(_, let theirEtag))? = actions.last else { return XCTFail("\(actions)") }
        for node in ["n2", "n3"] { _ = cluster.deliver(.commit(PaxosCommit(chosen: proposal)), to: node) }
        XCTAssertTrue(mine.receive(cluster.deliver(.propose(own), to: "n2"), from: "n2", ballot: b1).retried)
        let retried = drive(&mine, on: &cluster, startingWith: mine.start(at: stamp(13)))
        XCTAssertEqual(
            retried.outcome, .conditionFailed(current: text("19"), etag: theirEtag),
            "ours was not chosen: it runs afresh and finds the key present")
    }
}

extension StrongCoordinatorTests {
    /// Seed 2273's shape: an operation's first proposal reaches one acceptor only; its retry
    /// sees no trace of it and proposes again; another proposer then completes the FIRST
    /// one. The operation must recognise it as its own (it applied), not report its
    /// condition failed on its own value.
    func testAnEarlierProposalCompletedByAnotherProposerIsStillOwn() {
        var cluster = PaxosCluster(nodes)
        var c = coordinator(.compareAndSet(.ifAbsent, text("mine")))
        let b1 = ballot(10, "n1")
        guard let first = proposal(of: &c, at: 10, on: &cluster) else { return }
        // n3 accepts the first proposal; n1 and n2 have promised higher meanwhile.
        _ = cluster.deliver(.propose(first), to: "n3")
        for node in ["n1", "n2"] { _ = cluster.deliver(.prepare(ballot(11, "n2")), to: node) }
        XCTAssertTrue(c.receive(cluster.deliver(.propose(first), to: "n1"), from: "n1", ballot: b1).retried)
        // The retry's majority (n1, n2) shows nothing: it proposes again under b2.
        let b2 = ballot(12, "n1")
        guard let second = proposal(of: &c, at: 12, on: &cluster, to: ["n1", "n2"]) else { return }
        XCTAssertNotEqual(second.origin, first.origin)
        // Another proposer's majority (n2, n3) finds the first proposal in flight and completes it.
        var other = coordinator(.read, node: "n2")
        let b3 = ballot(13, "n2")
        _ = other.start(at: stamp(13))
        var actions: [StrongCoordinator.Action] = []
        for node in ["n2", "n3"] { actions += other.receive(cluster.deliver(.prepare(b3), to: node), from: node, ballot: b3) }
        guard case .propose(let completion, _) = actions.first, completion.origin == first.origin else { return XCTFail("\(actions)") }
        for node in ["n2", "n3"] { _ = other.receive(cluster.deliver(.propose(completion), to: node), from: node, ballot: b3) }
        for node in nodes { _ = cluster.deliver(.commit(PaxosCommit(chosen: completion)), to: node) }
        // The second proposal is refused; the retry finds the first one's commit: applied.
        XCTAssertTrue(c.receive(cluster.deliver(.propose(second), to: "n1"), from: "n1", ballot: b2).retried)
        let retried = drive(&c, on: &cluster, startingWith: c.start(at: stamp(14)))
        XCTAssertEqual(retried.outcome, .succeeded(value: text("mine"), etag: StrongETag(ballot: first.origin)))
    }
}
