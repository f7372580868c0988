import QuorumCore

/// The node's background work, as its timers run it: gossip rounds (`MembershipService`)
/// and hint delivery (`HintService`). Anti-entropy is the node's own `AntiEntropyDriver`.
extension SimulatedNode {
    // MARK: Gossip

    /// One gossip round: push to a few peers, fold in their answers. Messages cross the
    /// network encoded, as the node's `PeerRequest.gossip` frames.
    func gossipRound() {
        let sends = gossip.round(nowMilliseconds: wallNow, using: &world.random)
        for send in sends {
            call(send.target, .gossip(message: send.message.encoded()), timeoutMilliseconds: 1000) { [self] response in
                if case .gossip(let reply)? = response, !reply.isEmpty { _ = receiveGossip(reply) }
            }
        }
    }

    /// A peer's encoded gossip; returns the encoded answer (empty when none is due). Peers
    /// that came back get their hints without waiting out the backoff.
    func receiveGossip(_ bytes: [UInt8]) -> [UInt8] {
        guard let message = try? GossipMessage(decoding: bytes), let receipt = try? gossip.receive(message, nowMilliseconds: wallNow)
        else { return [] }
        for node in receipt.newlyReachable { hints.resetBackoff(for: node) }
        return receipt.reply?.encoded() ?? []
    }

    // MARK: Hinted handoff

    /// Keeps a write as a hint for `target`; acknowledges once the hint row is committed.
    func takeHint(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode,
        respond: @escaping (PeerResponse) -> Void
    ) {
        switch hints.enqueue(target: target, bucket: bucket, key: key, state: state, mode: mode, nowMilliseconds: wallNow) {
        case .refused(let refusal):
            respond(.failure(code: "overloaded", message: refusal.message))
        case .accepted(let hint):
            diskWrite { [self] in
                store.putHint(hint)
                respond(.ack)
            }
        }
    }

    /// One delivery pass: a batch to every target that is due and believed up.
    func deliverHints() {
        let now = wallNow
        let expired = hints.expire(nowMilliseconds: now)
        store.deleteHints(ids: expired)
        let down = gossip.unreachable(nowMilliseconds: now)
        for target in hints.targetsDue(nowMilliseconds: now) where !down.contains(target) {
            let batch = hints.due(for: target, nowMilliseconds: now)
            guard !batch.isEmpty else { continue }
            let tracker = HintBatchTracker(expected: batch.count)
            let sent = incarnation
            for hint in batch {
                let request = PeerRequest.merge(bucket: hint.bucket, key: hint.key, state: hint.state, mode: hint.mode)
                call(target, request, timeoutMilliseconds: UInt64(limits.requestTimeoutMillisecondsDefault)) { [self] response in
                    guard incarnation == sent, let outcome = tracker.record(id: hint.id, acknowledged: response == .ack) else { return }
                    hints.delivered(ids: outcome.delivered)
                    if outcome.anyFailed { hints.deliveryFailed(target: target, nowMilliseconds: wallNow) }
                    store.deleteHints(ids: outcome.delivered)
                }
            }
        }
    }
}

/// Collects the answers to one hint batch; the last answer closes it (as the node's
/// `BatchTracker`).
final class HintBatchTracker {
    private var remaining: Int
    private var delivered: [UInt64] = []
    private var anyFailed = false

    init(expected: Int) {
        remaining = expected
    }

    func record(id: UInt64, acknowledged: Bool) -> (delivered: [UInt64], anyFailed: Bool)? {
        if acknowledged { delivered.append(id) } else { anyFailed = true }
        remaining -= 1
        return remaining == 0 ? (delivered, anyFailed) : nil
    }
}
