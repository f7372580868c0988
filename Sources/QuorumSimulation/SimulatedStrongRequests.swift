import QuorumCore
import QuorumServices

/// A client's requests on strong keys (issue #17): turns each planned strong operation
/// into a `StrongOperation`, sends it through the node's `RequestDriver.strong`, and
/// records invocation and outcome for the linearizability check (m).
///
/// Shaped so the checker can tell operations apart: every written value is unique to its
/// request (`c<client>.<number>`), so a read names the one write it saw, and an etag
/// stands for exactly one value. A compare-and-set's condition comes from what the client
/// last saw of the key: `ifEquals` the value, `ifMatch` the etag it was given with it;
/// with no value seen, `ifAbsent`.
///
/// What the client learns becomes the entry's outcome as the checker reads it: an answer
/// (done, or condition failed) is definite; `unavailable` saying the operation "may still
/// have been applied", and a coordinator that crashed, are indeterminate; every other
/// failure (`unavailable` saying it was not applied, a refused request, a node that is
/// down) had no effect.
final class SimulatedStrongRequests {
    private let client: Int
    /// Per key (bucket/key): the value (nil: none) and etag this client last saw.
    private var seen: [String: (value: [UInt8]?, etag: StrongETag?)] = [:]

    init(client: Int) {
        self.client = client
    }

    /// Issues `operation` (the client's `number`th); `done` runs once it answered.
    func issue(_ operation: SimulationPlan.Operation, number: Int, in world: SimulatedWorld, done: @escaping () -> Void) {
        let name = operation.bucket + "/" + String(decoding: operation.key, as: UTF8.self)
        let unique = StrongValue.value(bytes: Array("c\(client).\(number)".utf8), contentType: "text/plain")
        let last = seen[name]
        var etagValue: [UInt8]?
        let strong: StrongOperation
        switch operation.kind {
        case .strongRead: strong = .read
        case .strongWrite: strong = .write(unique)
        case .strongDelete: strong = .delete
        case .strongIfEquals:
            strong = .compareAndSet(last?.value.map { .ifEquals($0) } ?? .ifAbsent, unique)
        case .strongIfMatch:
            if let value = last?.value, let etag = last?.etag {
                strong = .compareAndSet(.ifMatch(etag), unique)
                etagValue = value
            } else {
                strong = .compareAndSet(.ifAbsent, unique)
            }
        default: strong = .compareAndSet(.ifAbsent, unique)
        }
        let entry = world.history.begin(
            client: client, kind: .strong, bucket: operation.bucket, key: operation.key, node: operation.node,
            options: operation.options, sloppy: false, value: strong.newValue?.bytes ?? [], context: .empty, strong: strong,
            etagValue: etagValue, at: world.now)
        let node = world.nodes[operation.node]
        guard node.isUp else {
            world.history.complete(entry, outcome: .failed(code: "unavailable"), at: world.now)
            return done()
        }
        let command = StrongCommand(bucket: operation.bucket, key: operation.key, operation: strong, options: operation.options)
        node.strong(command) { [self] result in
            world.history.complete(entry, outcome: Self.outcome(result), at: world.now)
            switch result {
            case .strong(.done(let value, let etag)), .strong(.conditionFailed(let value, let etag)):
                seen[name] = (value?.bytes, etag)
            default: break
            }
            done()
        }
    }

    /// What the client learned, as the linearizability check reads it.
    static func outcome(_ result: ClientResult) -> History.Outcome {
        guard case .failed(let error) = result else { return SimulatedClient.outcome(result) }
        return mayHaveApplied(error) ? .indeterminate : .failed(code: error.code)
    }

    /// A strong failure whose operation may still be chosen: its message says so
    /// (`StrongCoordinator.failureMessage`).
    static func mayHaveApplied(_ error: KVError) -> Bool {
        error.code == "unavailable" && error.message.contains("may still have been applied")
    }
}
