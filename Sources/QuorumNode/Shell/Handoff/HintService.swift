import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// Hinted handoff on this node: keeps writes it took as a stand-in for unreachable
/// primaries, durably, and delivers them once their primary is back.
///
/// Decisions (take or refuse, what to send when, backoff, expiry) come from the pure
/// `HintQueue`; this shell stores and deletes rows and sends the merges.
final class HintService: Sendable {
    private let queue: Mutex<HintQueue>
    private let store: ReplicaStore
    private let logger: Logger

    init(store: ReplicaStore, limits: HintLimits, logger: Logger) throws {
        self.store = store
        self.logger = logger
        var restored: [Hint] = []
        for row in try store.allHints() {
            do {
                restored.append(try Self.hint(from: row))
            } catch {
                logger.error("dropping an unreadable stored hint", metadata: ["id": "\(row.id)", "error": "\(error)"])
            }
        }
        queue = Mutex(HintQueue(restoring: restored, limits: limits))
        if !restored.isEmpty { logger.info("restored hints", metadata: ["count": "\(restored.count)"]) }
    }

    /// Takes a hint; answers `.ack` once it is durable, or a refusal when storage is full.
    func take(target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode, respond: @escaping @Sendable (PeerResponse) -> Void) {
        let result = queue.withLock {
            $0.enqueue(target: target, bucket: bucket, key: key, state: state, mode: mode, nowMilliseconds: WallClock.nowMilliseconds())
        }
        switch result {
        case .refused(let refusal):
            logger.warning("hint refused", metadata: ["target": "\(target)", "reason": "\(refusal.message)"])
            respond(.failure(code: "overloaded", message: refusal.message))
        case .accepted(let hint):
            store.putHint(Self.row(from: hint)) { result in
                switch result {
                case .success: respond(.ack)
                case .failure(let error): respond(.failure(code: "internal", message: "could not store a hint: \(error)"))
                }
            }
        }
    }

    /// One delivery pass: a batch to every target that is due and believed up.
    func deliver(isUp: (String) -> Bool, send: @escaping @Sendable (_ target: String, PeerRequest, @escaping @Sendable (Bool) -> Void) -> Void) {
        let now = WallClock.nowMilliseconds()
        let expired = queue.withLock { $0.expire(nowMilliseconds: now) }
        if !expired.isEmpty {
            logger.warning("hints expired undelivered", metadata: ["count": "\(expired.count)"])
            deleteRows(expired)
        }
        let targets = queue.withLock { $0.targetsDue(nowMilliseconds: now) }.filter(isUp)
        for target in targets {
            let batch = queue.withLock { $0.due(for: target, nowMilliseconds: now) }
            guard !batch.isEmpty else { continue }
            let tracker = BatchTracker(expected: batch.count)
            for hint in batch {
                let request = PeerRequest.merge(bucket: hint.bucket, key: hint.key, state: hint.state, mode: hint.mode)
                send(target, request) { [self] acknowledged in
                    guard let outcome = tracker.record(id: hint.id, acknowledged: acknowledged) else { return }
                    finish(target: target, delivered: outcome.delivered, anyFailed: outcome.anyFailed)
                }
            }
        }
    }

    private func finish(target: String, delivered: [UInt64], anyFailed: Bool) {
        queue.withLock { queue in
            queue.delivered(ids: delivered)
            if anyFailed { _ = queue.deliveryFailed(target: target, nowMilliseconds: WallClock.nowMilliseconds()) }
        }
        deleteRows(delivered)
        if !delivered.isEmpty {
            logger.info("hints delivered", metadata: ["target": "\(target)", "count": "\(delivered.count)"])
        }
    }

    private func deleteRows(_ ids: [UInt64]) {
        guard !ids.isEmpty else { return }
        store.deleteHints(ids: ids.map { Int64($0) }) { [logger] result in
            if case .failure(let error) = result {
                // The rows stay; a restart redelivers them, which merging makes harmless.
                logger.error("could not delete delivered hints", metadata: ["error": "\(error)"])
            }
        }
    }

    /// A target is back: try its hints on the next pass instead of after its backoff.
    func targetsReachable(_ targets: [String]) {
        queue.withLock { queue in
            for target in targets { queue.resetBackoff(for: target) }
        }
    }

    var status: HintStatus {
        queue.withLock { queue in
            HintStatus(
                pending: queue.pendingCount, pendingBytes: queue.pendingBytes, delivered: Int(queue.deliveredCount),
                refused: Int(queue.refusedCount), expired: Int(queue.expiredCount))
        }
    }

    private static func row(from hint: Hint) -> StoredHint {
        StoredHint(
            id: Int64(hint.id), target: hint.target, bucket: hint.bucket, key: hint.key, mode: hint.mode == .lww ? 0 : 1,
            blob: hint.state.encoded(), createdMilliseconds: hint.createdMilliseconds)
    }

    private static func hint(from row: StoredHint) throws -> Hint {
        Hint(
            id: UInt64(row.id), target: row.target, bucket: row.bucket, key: row.key, state: try KeyState(decoding: row.blob),
            mode: row.mode == 0 ? .lww : .vclock, createdMilliseconds: row.createdMilliseconds)
    }
}

/// Collects the answers to one delivery batch; the last answer closes it.
private final class BatchTracker: Sendable {
    private struct State {
        var remaining: Int
        var delivered: [UInt64] = []
        var anyFailed = false
    }

    private let state: Mutex<State>

    init(expected: Int) {
        state = Mutex(State(remaining: expected))
    }

    func record(id: UInt64, acknowledged: Bool) -> (delivered: [UInt64], anyFailed: Bool)? {
        state.withLock { state in
            if acknowledged { state.delivered.append(id) } else { state.anyFailed = true }
            state.remaining -= 1
            return state.remaining == 0 ? (state.delivered, state.anyFailed) : nil
        }
    }
}
