import Foundation
import QuorumLinearizability
import QuorumNode
import XCTest

/// Strongly consistent buckets (issue #17) on a real three-node cluster: concurrent
/// compare-and-set increments of one key over HTTP (`If-Match` / `If-None-Match: *`) from
/// several clients while one replica is SIGKILLed and restarted and another SIGSTOPped and
/// continued. The history passes the linearizability checker the simulator uses, and the
/// final value lies between the acknowledged increments and those plus the indeterminate ones.
final class StrongCASTests: ClusterTestCase {
    private static let bucket = "strongcas"
    private static let key = "counter"

    /// Every bound of this test, in one place.
    private enum Bounds {
        /// The bucket's props reach every node.
        static let readySeconds = 30.0
        /// Concurrent clients, each spread over the nodes round-robin.
        static let clients = 4
        /// Acknowledged increments each fault phase waits for.
        static let progressIncrements = 8
        static let progressSeconds = 60.0
        /// Operations (reads and compare-and-sets) per client, at most: keeps the history
        /// small enough for the checker's budget.
        static let operationsPerClientMax = 120
        /// One HTTP request: the server's own deadline, and the client's a little longer.
        static let serverTimeoutMilliseconds = 2_000
        static let clientTimeoutMilliseconds = 4_000
        /// The final read, once every node is back.
        static let settleSeconds = 60.0
    }

    override func setUp() async throws {
        try await super.setUp()
        let created = try await cluster.client(0).setProps(Self.bucket, #"{"consistency": "strong"}"#)
        XCTAssertEqual(created.status, 200, created.text)
        try await eventually("every node knows the strong bucket", seconds: Bounds.readySeconds) {
            for index in 0..<3 {
                let props = try await self.cluster.client(index).request("GET", "/buckets/\(Self.bucket)/props")
                guard props.json["consistency"] as? String == "strong" else { return false }
            }
            return true
        }
    }

    func testConcurrentCompareAndSetIncrementsAreLinearizableUnderKillAndStop() async throws {
        let history = StrongHistory()
        let stop = StopFlag()
        let started = DispatchTime.now().uptimeNanoseconds
        let clients = (0..<Bounds.clients).map { client in
            Task { [cluster] in
                var node = client % 3
                for _ in 0..<Bounds.operationsPerClientMax where !stop.isSet {
                    await Self.increment(client: client, via: cluster!.client(node), history: history, since: started)
                    node = (node + 1) % 3
                }
            }
        }
        defer {
            stop.set()
            cluster.signal(2, SIGCONT)
        }

        var seen = try await waitForProgress(history, after: 0, "the load starts")
        cluster.signal(1, SIGKILL)
        seen = try await waitForProgress(history, after: seen, "node 2 is killed")
        try await cluster.restart(1)
        seen = try await waitForProgress(history, after: seen, "node 2 restarted")
        cluster.signal(2, SIGSTOP)
        seen = try await waitForProgress(history, after: seen, "node 3 is stopped")
        cluster.signal(2, SIGCONT)
        _ = try await waitForProgress(history, after: seen, "node 3 continued")
        stop.set()
        for client in clients { await client.value }

        let operations = history.operations
        let acknowledged = history.acknowledgedIncrements
        let indeterminate = history.indeterminateIncrements
        print("strong CAS: \(operations.count) operations, \(acknowledged) increments acknowledged, \(indeterminate) indeterminate")

        var final: Int?
        try await eventually("a strong read answers once every node is back", seconds: Bounds.settleSeconds) {
            let response = try await self.cluster.client(0).get(Self.key, bucket: Self.bucket)
            if response.status == 404 { final = 0 }
            if response.status == 200 { final = Int(response.text) }
            return final != nil
        }
        let value = try XCTUnwrap(final)
        XCTAssertGreaterThanOrEqual(value, acknowledged, "an acknowledged increment was lost")
        XCTAssertLessThanOrEqual(value, acknowledged + indeterminate, "an increment nobody may have made was counted")

        let checker = LinearizabilityChecker(model: RegisterModel())
        let result = checker.check(operations)
        XCTAssertTrue(result.isLinearizable, result.failure ?? "undecided")
    }

    /// One client step: a strong read, then a compare-and-set of the value read plus one
    /// (create-only when the key is absent). Each is recorded with its outcome.
    private static func increment(client: Int, via http: TestClient, history: StrongHistory, since started: UInt64) async {
        let path = KVHTTPClient.kvPath(bucket: bucket, key: key)
        let query = [("timeout", String(Bounds.serverTimeoutMilliseconds))]
        let readAt = elapsed(since: started)
        let read = try? await http.request("GET", path, query: query, timeoutMilliseconds: Bounds.clientTimeoutMilliseconds)
        let current: Int
        let etag: String?
        switch read?.status {
        case 200?:
            guard let number = Int(read!.text) else { return history.record(client: client, at: readAt, .read, .failed) }
            (current, etag) = (number, read!.header("ETag"))
        case 404?:
            (current, etag) = (0, nil)
        default:
            return history.record(client: client, at: readAt, .read, .failed)  // a read that failed changed nothing
        }
        history.record(
            client: client, at: readAt, .read,
            .ok(.value(current == 0 ? nil : Array(String(current).utf8)), respondedAt: elapsed(since: started)))

        let next = Array(String(current + 1).utf8)
        let condition = etag.map { ("If-Match", $0) } ?? ("If-None-Match", "*")
        let input = RegisterModel.Input.compareAndSet(expected: current == 0 ? nil : Array(String(current).utf8), new: next)
        let writeAt = elapsed(since: started)
        let written = try? await http.request(
            "PUT", path, query: query, headers: [("Content-Type", "text/plain"), condition], body: next,
            timeoutMilliseconds: Bounds.clientTimeoutMilliseconds)
        let outcome: LinearizabilityOutcome<RegisterModel.Output>
        switch written?.status {
        case 200?, 204?: outcome = .ok(.applied(true), respondedAt: elapsed(since: started))
        case 412?: outcome = .ok(.applied(false), respondedAt: elapsed(since: started))
        case 503? where !written!.text.contains("may still have been applied"): outcome = .failed
        case 400?, 403?: outcome = .failed
        default: outcome = .indeterminate  // no answer, or one that says it may have applied
        }
        history.record(client: client, at: writeAt, input, outcome)
    }

    private static func elapsed(since started: UInt64) -> UInt64 { DispatchTime.now().uptimeNanoseconds - started }

    /// Waits until more increments than `seen` plus a phase's worth are acknowledged.
    private func waitForProgress(_ history: StrongHistory, after seen: Int, _ phase: String) async throws -> Int {
        var now = seen
        try await eventually(
            "\(Bounds.progressIncrements) more increments are acknowledged after \(phase)", seconds: Bounds.progressSeconds
        ) {
            now = history.acknowledgedIncrements
            return now >= seen + Bounds.progressIncrements
        }
        return now
    }
}

/// The operations the clients recorded, shared between their tasks.
private final class StrongHistory: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [LinearizabilityOperation<RegisterModel.Input, RegisterModel.Output>] = []

    func record(
        client: Int, at invokedAt: UInt64, _ input: RegisterModel.Input, _ outcome: LinearizabilityOutcome<RegisterModel.Output>
    ) {
        lock.withLock {
            recorded.append(LinearizabilityOperation(id: recorded.count, client: client, invokedAt: invokedAt, input: input, outcome: outcome))
        }
    }

    var operations: [LinearizabilityOperation<RegisterModel.Input, RegisterModel.Output>] { lock.withLock { recorded } }

    private func count(_ matches: (LinearizabilityOutcome<RegisterModel.Output>) -> Bool) -> Int {
        lock.withLock {
            recorded.filter { operation in
                guard case .compareAndSet = operation.input else { return false }
                return matches(operation.outcome)
            }.count
        }
    }

    var acknowledgedIncrements: Int { count { if case .ok(.applied(true), _) = $0 { true } else { false } } }
    var indeterminateIncrements: Int { count { if case .indeterminate = $0 { true } else { false } } }
}

private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    var isSet: Bool { lock.withLock { stopped } }
    func set() { lock.withLock { stopped = true } }
}
