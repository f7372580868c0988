import QuorumCore

/// Hinted handoff on a node: keeps writes it took as a stand-in for unreachable primaries,
/// durably, and delivers them once their primary is back.
///
/// Decisions (take or refuse, what to send when, backoff, expiry) come from the pure
/// `HintQueue`; this driver stores and deletes rows and sends the merges. Runs on the
/// node's background executor.
public final class HintDriver {
    /// The queue's counts, for `/status`.
    public private(set) var queue: HintQueue
    private let storage: any HintStorage
    private let replicas: any ReplicaCaller
    private let clock: any ServiceClock
    private let log: any ServiceLog
    private let deliveryTimeoutMilliseconds: Int
    private let faults: FaultPoints

    public init(
        restored: [Hint], limits: HintLimits, storage: any HintStorage, replicas: any ReplicaCaller, clock: any ServiceClock,
        log: any ServiceLog, deliveryTimeoutMilliseconds: Int, faults: FaultPoints = .inert
    ) {
        queue = HintQueue(restoring: restored, limits: limits)
        self.storage = storage
        self.replicas = replicas
        self.clock = clock
        self.log = log
        self.deliveryTimeoutMilliseconds = deliveryTimeoutMilliseconds
        self.faults = faults
        if !restored.isEmpty { log.log(.info, "restored hints", ["count": "\(restored.count)"]) }
    }

    /// Takes a hint; answers `.ack` once it is durable, or a refusal when storage is full.
    public func take(
        target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode, respond: @escaping (PeerResponse) -> Void
    ) {
        take(target: target, bucket: bucket, key: key, payload: .versions(state, mode: mode), respond: respond)
    }

    /// Takes a typed key's delta as a hint (merged into one held for the key, if any);
    /// answers like `take`.
    public func takeTyped(target: String, bucket: String, key: [UInt8], delta: TypedState, respond: @escaping (PeerResponse) -> Void) {
        take(target: target, bucket: bucket, key: key, payload: .typed(delta), respond: respond)
    }

    private func take(target: String, bucket: String, key: [UInt8], payload: ReplicaPayload, respond: @escaping (PeerResponse) -> Void) {
        switch queue.enqueue(target: target, bucket: bucket, key: key, payload: payload, nowMilliseconds: clock.nowMilliseconds()) {
        case .refused(let refusal):
            log.log(.warning, "hint refused", ["target": target, "reason": refusal.message])
            respond(.failure(code: "overloaded", message: refusal.message))
        case .accepted(let hint):
            if faults.has(.hintDroppedOnTake) {
                queue.delivered(ids: [hint.id])  // the deliberate bug: acknowledged, never kept
                return respond(.ack)
            }
            storage.putHint(hint) { result in
                switch result {
                case .success: respond(.ack)
                case .failure(let failure): respond(.failure(code: "internal", message: "could not store a hint: \(failure.message)"))
                }
            }
        }
    }

    /// One delivery pass: a batch to every target that is due and not in `down`.
    public func deliver(down: Set<String>) {
        let now = clock.nowMilliseconds()
        let expired = queue.expire(nowMilliseconds: now)
        if !expired.isEmpty {
            log.log(.warning, "hints expired undelivered", ["count": "\(expired.count)"])
            deleteRows(expired)
        }
        for target in queue.targetsDue(nowMilliseconds: now) where !down.contains(target) {
            let batch = queue.due(for: target, nowMilliseconds: now)
            guard !batch.isEmpty else { continue }
            var tally = BatchTally(remaining: batch.count)
            for hint in batch {
                let request = Self.delivery(of: hint)
                replicas.call(target, request, timeoutMilliseconds: deliveryTimeoutMilliseconds) { [self] response in
                    guard tally.record(id: hint.id, acknowledged: response == .ack) else { return }
                    finish(target: target, delivered: tally.delivered, anyFailed: tally.anyFailed)
                }
            }
        }
    }

    /// The merge that hands a hint over: a plain state merged under its mode, a typed
    /// delta joined as a delta.
    static func delivery(of hint: Hint) -> PeerRequest {
        switch hint.payload {
        case .versions(let state, let mode):
            return .merge(bucket: hint.bucket, key: hint.key, state: state, mode: mode)
        case .typed(let delta):
            return .typedMerge(bucket: hint.bucket, key: hint.key, state: delta, isFull: false)
        }
    }

    /// Targets are back: try their hints on the next pass instead of after their backoff.
    public func targetsReachable(_ targets: [String]) {
        for target in targets { queue.resetBackoff(for: target) }
    }

    private func finish(target: String, delivered: [UInt64], anyFailed: Bool) {
        queue.delivered(ids: delivered)
        if anyFailed { _ = queue.deliveryFailed(target: target, nowMilliseconds: clock.nowMilliseconds()) }
        deleteRows(delivered)
        if !delivered.isEmpty { log.log(.info, "hints delivered", ["target": target, "count": "\(delivered.count)"]) }
    }

    private func deleteRows(_ ids: [UInt64]) {
        guard !ids.isEmpty else { return }
        storage.deleteHints(ids: ids) { [log] result in
            if case .failure(let failure) = result {
                log.log(.error, "could not delete delivered hints", ["error": failure.message])
            }
        }
    }
}

/// The answers to one delivery batch so far; the last one closes it.
private struct BatchTally {
    var remaining: Int
    var delivered: [UInt64] = []
    var anyFailed = false

    /// Records one answer; true when it was the last.
    mutating func record(id: UInt64, acknowledged: Bool) -> Bool {
        if acknowledged { delivered.append(id) } else { anyFailed = true }
        remaining -= 1
        return remaining == 0
    }
}
