import XCTest

@testable import QuorumCore

final class PaxosAcceptorTests: XCTestCase {
    let acceptor = Acceptor()

    func testBallotsOrderByTimestampThenNodeBytes() {
        XCTAssertLessThan(ballot(1, "z"), ballot(2, "a"))
        XCTAssertLessThan(PaxosBallot(timestamp: stamp(5, 1), node: "a"), PaxosBallot(timestamp: stamp(5, 2), node: "a"))
        XCTAssertLessThan(ballot(5, "a"), ballot(5, "b"))
        XCTAssertLessThan(ballot(5, "B"), ballot(5, "a"))  // UTF-8 bytes, not locale order
        XCTAssertNotEqual(ballot(5, "a"), ballot(5, "b"))
    }

    func testPrepareOfAFreshKeyPromisesAndMustBePersisted() {
        let (reply, newState) = acceptor.receivePrepare(ballot: ballot(10), state: .empty)
        XCTAssertEqual(reply, .promised(inFlight: nil, committed: nil))
        XCTAssertEqual(newState, AcceptorState(promised: ballot(10)))
    }

    func testPrepareBelowThePromiseIsRejectedNamingThePromiseAndChangesNothing() {
        let state = AcceptorState(promised: ballot(10, "b"))
        let (reply, newState) = acceptor.receivePrepare(ballot: ballot(10, "a"), state: state)
        XCTAssertEqual(reply, .rejected(promised: ballot(10, "b")))
        XCTAssertNil(newState)
    }

    func testARepeatedPrepareIsPromisedAgainWithoutAWrite() {
        let state = AcceptorState(promised: ballot(10))
        let (reply, newState) = acceptor.receivePrepare(ballot: ballot(10), state: state)
        XCTAssertEqual(reply, .promised(inFlight: nil, committed: nil))
        XCTAssertNil(newState, "nothing changed, so the reply need not wait for a write")
    }

    func testPromiseCarriesTheInFlightProposalAndTheLatestCommit() {
        let commit = PaxosCommit(ballot: ballot(5), value: text("old"))
        let accepted = PaxosProposal(ballot: ballot(7), value: text("new"), basedOn: ballot(5))
        let state = AcceptorState(promised: ballot(7), accepted: accepted, committed: commit)
        let (reply, newState) = acceptor.receivePrepare(ballot: ballot(9), state: state)
        XCTAssertEqual(reply, .promised(inFlight: accepted, committed: commit))
        XCTAssertEqual(newState?.promised, ballot(9))
        XCTAssertEqual(newState?.accepted, accepted)
    }

    func testProposeAtOrAboveThePromiseIsAcceptedAndPersisted() {
        let proposal = PaxosProposal(ballot: ballot(10), value: text("v"), basedOn: nil)
        let (reply, newState) = acceptor.receivePropose(proposal: proposal, state: AcceptorState(promised: ballot(10)))
        XCTAssertEqual(reply, .accepted)
        XCTAssertEqual(newState, AcceptorState(promised: ballot(10), accepted: proposal))
        let (again, unchanged) = acceptor.receivePropose(proposal: proposal, state: newState!)
        XCTAssertEqual(again, .accepted)
        XCTAssertNil(unchanged, "a duplicated proposal changes nothing")
    }

    func testProposeBelowThePromiseIsRejected() {
        let proposal = PaxosProposal(ballot: ballot(9), value: text("v"), basedOn: nil)
        let (reply, newState) = acceptor.receivePropose(proposal: proposal, state: AcceptorState(promised: ballot(10)))
        XCTAssertEqual(reply, .rejected(promised: ballot(10)))
        XCTAssertNil(newState)
    }

    func testCommitIsLearnedClearsTheAcceptedProposalAndRaisesThePromise() {
        let accepted = PaxosProposal(ballot: ballot(7), value: text("v"), basedOn: nil)
        let state = AcceptorState(promised: ballot(7), accepted: accepted)
        let commit = PaxosCommit(ballot: ballot(8), value: text("v"))
        let (reply, newState) = acceptor.receiveCommit(commit: commit, state: state)
        XCTAssertEqual(reply, .committed)
        XCTAssertEqual(newState, AcceptorState(promised: ballot(8), committed: commit))
        let (old, unchanged) = acceptor.receiveCommit(commit: PaxosCommit(ballot: ballot(6), value: text("x")), state: newState!)
        XCTAssertEqual(old, .committed)
        XCTAssertNil(unchanged, "an older commit is acknowledged and ignored")
    }

    func testCommitOlderThanTheAcceptedProposalKeepsIt() {
        let accepted = PaxosProposal(ballot: ballot(9), value: text("next"), basedOn: ballot(5))
        let state = AcceptorState(promised: ballot(9), accepted: accepted)
        let commit = PaxosCommit(ballot: ballot(5), value: text("base"))
        let (_, newState) = acceptor.receiveCommit(commit: commit, state: state)
        XCTAssertEqual(newState, AcceptorState(promised: ballot(9), accepted: accepted, committed: commit))
    }

    func testACatchingUpReplicaDoesNotVoteButLearnsCommits() {
        let (prepare, prepared) = acceptor.receivePrepare(ballot: ballot(10), state: .wiped)
        XCTAssertEqual(prepare, .notReady)
        XCTAssertNil(prepared)
        let proposal = PaxosProposal(ballot: ballot(10), value: text("v"), basedOn: nil)
        let (propose, proposed) = acceptor.receivePropose(proposal: proposal, state: .wiped)
        XCTAssertEqual(propose, .notReady)
        XCTAssertNil(proposed)
        let commit = PaxosCommit(ballot: ballot(10), value: text("v"))
        let (reply, learned) = acceptor.receiveCommit(commit: commit, state: .wiped)
        XCTAssertEqual(reply, .committed)
        XCTAssertEqual(learned, AcceptorState(committed: commit, isCatchingUp: true))
    }

    /// Relearning (after catch-up, when peers held strong values): no promise for a key
    /// until the replica voted or learned there at or above its floor; a vote above the
    /// floor, like a commit, makes it know the key.
    func testARelearningReplicaPromisesOnceItVotedAboveItsFloor() {
        let commit = PaxosCommit(ballot: ballot(10), value: text("old"))
        let relearning = AcceptorState(promised: ballot(20), committed: commit, relearningFloor: ballot(20))
        XCTAssertEqual(acceptor.receivePrepare(ballot: ballot(30), state: relearning).reply, .notReady)
        let below = PaxosProposal(ballot: ballot(15), value: text("v"), basedOn: commit.origin)
        XCTAssertEqual(acceptor.receivePropose(proposal: below, state: relearning).reply, .rejected(promised: ballot(20)))
        let above = PaxosProposal(ballot: ballot(25), value: text("v"), basedOn: commit.origin)
        let (accepted, voted) = acceptor.receivePropose(proposal: above, state: relearning)
        XCTAssertEqual(accepted, .accepted)
        XCTAssertEqual(voted?.knowsItsVotes, true)
        XCTAssertEqual(
            voted.map { acceptor.receivePrepare(ballot: ballot(30), state: $0).reply }, .promised(inFlight: above, committed: commit))
    }

    func testFaultyAcceptorAcceptsALowerBallot() {
        let faulty = Acceptor(faults: .acceptsLowerBallot)
        let proposal = PaxosProposal(ballot: ballot(9), value: text("v"), basedOn: nil)
        let (reply, newState) = faulty.receivePropose(proposal: proposal, state: AcceptorState(promised: ballot(10)))
        XCTAssertEqual(reply, .accepted)
        XCTAssertEqual(newState, AcceptorState(promised: ballot(10), accepted: proposal))
    }
}
