import QuorumCore
import QuorumServices

/// What a client request came to, as the simulated node reports it: the raw states, so
/// the checkers can compare versions rather than rendered answers.
enum ClientResult {
    case read(KeyState?)
    case written(version: Sibling, state: KeyState, acknowledgedBy: [ReplicaPlan.Slot])
    case failed(KVError)
    /// The coordinator crashed before answering.
    case indeterminate
    /// Every member adopted the truncation point.
    case truncated(HLCTimestamp)
    /// An expiry change answered: whether it applied.
    case touched(applied: Bool)
    /// A typed update acknowledged: the lead's reply and the slots that acknowledged it.
    case typedUpdated(reply: TypedReply, acknowledgedBy: [ReplicaPlan.Slot])
    /// A typed read's joined state (nil: no replica asked held the key).
    case typedRead(TypedState?)
    /// A strong operation reached a decision (issue #17).
    case strong(StrongAnswer)
}

/// Client requests into a simulated node: handed to the node's own `RequestDriver`, the
/// answer turned into what the checkers compare. A crash tells every open request's
/// client `indeterminate`, as a dropped connection would.
extension SimulatedNode {
    func get(bucket: String, key: [UInt8], options: RequestOptions, sloppy: Bool, completion: @escaping (ClientResult) -> Void) {
        let tell = open(completion)
        requests.get(bucket: bucket, key: key, options: options, sloppy: sloppy) { [self] result in
            switch result {
            case .success(let outcome):
                // What the node's service shows a client (checks see expired versions as
                // the tombstones they are stripped to).
                let now = faults.has(.expiryIgnored) ? 0 : wallNow  // the deliberate bug
                tell(.read(outcome.visibleState(atMilliseconds: now)))
            case .failure(let error): tell(.failed(error))
            }
        }
    }

    func write(
        bucket: String, key: [UInt8], intent: WriteIntent, options: RequestOptions, sloppy: Bool, ifAbsent: Bool = false,
        completion: @escaping (ClientResult) -> Void
    ) {
        let tell = open(completion)
        let command = WriteCommand(bucket: bucket, key: key, intent: intent, options: options, ifAbsent: ifAbsent, sloppy: sloppy)
        requests.write(command) { [self] result in
            switch result {
            case .success(let outcome):
                tell(.written(version: version(of: outcome), state: outcome.state, acknowledgedBy: outcome.acknowledged))
            case .failure(let error): tell(.failed(error))
            }
        }
    }

    func truncate(bucket: String, completion: @escaping (ClientResult) -> Void) {
        let tell = open(completion)
        requests.truncate(bucket: bucket, timeoutMilliseconds: limits.requestTimeoutMillisecondsDefault) { result in
            switch result {
            case .success(let outcome): tell(.truncated(outcome.point))
            case .failure(let error): tell(.failed(error))
            }
        }
    }

    /// An expiry change through the node's request path; `completion` runs once, also
    /// when the node crashes meanwhile.
    func touch(_ command: TouchCommand, completion: @escaping (ClientResult) -> Void) {
        let tell = open(completion)
        requests.touch(command, nowMilliseconds: wallNow) { result in
            switch result {
            case .success(let applied): tell(.touched(applied: applied))
            case .failure(let error): tell(.failed(error))
            }
        }
    }

    /// The exact version a write created: the stamped version of an lww write without a
    /// lead; else the lead's new dot (a create-only lww write goes through a lead too).
    private func version(of outcome: WriteOutcome) -> Sibling {
        if outcome.lead == nil, let version = outcome.lwwVersion { return version }
        let state = outcome.state
        // The lead's disk may have been wiped (a new actor id) before the write completed.
        let actors = outcome.lead.flatMap { world.node($0)?.actorIDs.reversed() } ?? []
        let found = actors.lazy.compactMap { actor in
            state.siblings.first { sibling in
                guard let stamped = outcome.lwwVersion else { return sibling.dot == Dot(actor: actor, counter: state.clock[actor]) }
                return sibling.dot.actor == actor && sibling.timestamp == stamped.timestamp  // lww keeps no clock
            }
        }.first
        // In lww a newer (or tied) version the lead held supersedes the write at once: what
        // the lead wrote is the stamped version under its own actor.
        let superseded = outcome.lwwVersion.map { stamped in
            Sibling(
                dot: Dot(actor: actors.first ?? stamped.dot.actor, counter: state.clock[actors.first ?? ""] + 1),
                value: stamped.value, contentType: stamped.contentType, isTombstone: stamped.isTombstone,
                timestamp: stamped.timestamp)
        }
        guard let version = found ?? superseded else {
            preconditionFailure("seed \(world.seed): a vclock write succeeded without its lead's new version in \(state)")
        }
        return version
    }

    /// Registers a client waiting for an answer; the returned closure answers it once.
    func open(_ completion: @escaping (ClientResult) -> Void) -> (ClientResult) -> Void {
        let number = nextRequest
        nextRequest += 1
        var answered = false
        let tell: (ClientResult) -> Void = { [self] result in
            guard !answered else { return }
            answered = true
            openRequests[number] = nil
            completion(result)
        }
        openRequests[number] = { tell(.indeterminate) }
        return tell
    }
}
