import QuorumCore

/// A `KVService` that records every get, put and delete in the node's metrics, the way
/// the HTTP API records its own: counted by operation and the HTTP status the outcome
/// maps to (200 or 404 for a read, 204 for a write, the error's status otherwise), timed
/// by operation and the r or w asked for, quorum failures apart.
///
/// The RESP server gets the node's service through this, so `/metrics` and the status
/// page's recent latency cover Redis-protocol traffic too. (HTTP keeps recording in
/// `HTTPAPI`, which also sees routing errors; wrapping it as well would count twice.)
final class MeteredKVService: KVService {
    private let base: any KVService
    private let metrics: NodeMetrics
    private let limits: Limits

    init(base: any KVService, metrics: NodeMetrics, limits: Limits) {
        self.base = base
        self.metrics = metrics
        self.limits = limits
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult {
        try await awaitCompletion { get(bucket: bucket, key: key, options: options, completion: $0) }
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions
    ) async throws(KVError) -> WriteResult {
        try await awaitCompletion {
            put(bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
                conditions: conditions, completion: $0)
        }
    }

    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult {
        try await awaitCompletion { delete(bucket: bucket, key: key, context: context, options: options, completion: $0) }
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>) {
        // An absent or deleted key answers 404 over HTTP; count it the same way here.
        let recording = metered("get", options.r, status: { $0.siblings.isEmpty ? 404 : 200 }, completion)
        base.get(bucket: bucket, key: key, options: options, completion: recording)
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions, completion: @escaping KVCompletion<WriteResult>
    ) {
        let recording = metered("put", options.w, status: { _ in 204 }, completion)
        base.put(
            bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
            conditions: conditions, completion: recording)
    }

    func delete(
        bucket: String, key: [UInt8], context: String?, options: RequestOptions, completion: @escaping KVCompletion<WriteResult>
    ) {
        let recording = metered("delete", options.w, status: { _ in 204 }, completion)
        base.delete(bucket: bucket, key: key, context: context, options: options, completion: recording)
    }

    func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer {
        try await awaitCompletion { completion in
            let recording = metered(operation == .read ? "strong_read" : "strong_write", nil, status: { (_: StrongAnswer) in 200 }, completion)
            Task {
                do throws(KVError) {
                    recording(.success(try await base.strong(bucket: bucket, key: key, operation: operation, options: options)))
                } catch {
                    recording(.failure(error))
                }
            }
        }
    }

    func consistency(of bucket: String) -> BucketConsistency { base.consistency(of: bucket) }

    func updateType(
        bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions
    ) async throws(KVError) -> TypedUpdateResult {
        try await awaitCompletion { completion in
            let recording = metered("type_update", options.w, status: { (_: TypedUpdateResult) in 200 }, completion)
            Task {
                do throws(KVError) {
                    recording(.success(try await base.updateType(bucket: bucket, key: key, operation: operation, options: options)))
                } catch {
                    recording(.failure(error))
                }
            }
        }
    }

    func readType(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions
    ) async throws(KVError) -> TypedReadResult {
        try await awaitCompletion { completion in
            let recording = metered("type_read", options.r, status: { (read: TypedReadResult) in read.state == nil ? 404 : 200 }, completion)
            Task {
                do throws(KVError) {
                    recording(.success(try await base.readType(bucket: bucket, key: key, members: members, options: options)))
                } catch {
                    recording(.failure(error))
                }
            }
        }
    }

    func expire(
        bucket: String, key: [UInt8], change: ExpiryChange, conditions: [ExpiryCondition], options: RequestOptions
    ) async throws(KVError) -> Bool {
        try await awaitCompletion { completion in
            let recording = metered("expire", options.w, status: { (applied: Bool) in applied ? 200 : 404 }, completion)
            Task {
                do throws(KVError) {
                    recording(.success(try await base.expire(bucket: bucket, key: key, change: change, conditions: conditions, options: options)))
                } catch {
                    recording(.failure(error))
                }
            }
        }
    }

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps { try await base.bucketProps(bucket: bucket) }

    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps {
        try await base.setBucketProps(bucket: bucket, update: update)
    }

    func health() -> HealthReport { base.health() }

    func truncate(bucket: String?) async throws(KVError) -> TruncationReport { try await base.truncate(bucket: bucket) }

    func listKeys(bucket: String, cursor: String?, limit: Int) async throws(KVError) -> KeyPage {
        try await base.listKeys(bucket: bucket, cursor: cursor, limit: limit)
    }

    func status() async -> NodeStatus { await base.status() }

    func ringReport() -> RingReport { base.ringReport() }

    func joinCluster(seed: String) async throws(KVError) -> MembershipChange { try await base.joinCluster(seed: seed) }

    func leaveCluster() async throws(KVError) -> MembershipChange { try await base.leaveCluster() }

    /// Starts recording one key request; the returned completion records its end, with
    /// `status` the HTTP status its answer would have had (a failure's from
    /// `HTTPResponder.status(for:)`), then passes the answer on.
    private func metered<Value>(
        _ operation: String, _ level: ConsistencyLevel?, status: @escaping @Sendable (Value) -> UInt,
        _ completion: @escaping KVCompletion<Value>
    ) -> KVCompletion<Value> {
        metrics.requestStarted()
        let started = ContinuousClock.now
        let consistency = NodeMetrics.consistencyLabel(level, replicasMax: limits.replicasMax)
        return { [metrics] result in
            metrics.requestFinished()
            metrics.recordDuration(operation: operation, consistency: consistency, duration: ContinuousClock.now - started)
            switch result {
            case .success(let value):
                metrics.recordResponse(operation: operation, status: status(value))
            case .failure(let error):
                if case .quorumNotMet = error { metrics.recordQuorumFailure(operation: operation) }
                metrics.recordResponse(operation: operation, status: HTTPResponder.status(for: error).code)
            }
            completion(result)
        }
    }
}
