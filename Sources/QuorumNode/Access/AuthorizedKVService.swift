import QuorumCore

/// The one enforcement point: a `KVService` that acts as one user, asking
/// `AccessDecision` (through `AccessControl`, under the ACL in force now) before every
/// call and refusing with `KVError.forbidden` (HTTP 403, RESP `-NOPERM`).
///
/// Created per authenticated RESP connection and per HTTP request, in front of the node's
/// service, so every interface, `quorumkv shell` (over HTTP) and anything else built on
/// `KVService` passes the same check. Actions:
///
/// | call | action | bucket |
/// | --- | --- | --- |
/// | `get` | read | the key's |
/// | `put` | write (and read with `returnBody`) | the key's |
/// | `delete` | delete | the key's |
/// | `expire` | write | the key's |
/// | `listKeys` | list | the bucket |
/// | `bucketProps` | any action on the bucket | the bucket |
/// | `setBucketProps` | admin | the bucket |
/// | `truncate(bucket)` | admin | the bucket; nil (`FLUSHALL`): node-wide |
/// | `joinCluster`, `leaveCluster` | admin | node-wide (a grant on `*`) |
/// | `health`, `status`, `ringReport` | not checked here: see `AccessControl.MetricsAccess` | |
///
/// `status` and `ringReport` can't fail by their signature, so the HTTP routes that show
/// them check `MetricsAccess` before calling; `health` is open by design.
struct AuthorizedKVService: KVService {
    let base: any KVService
    let user: String
    let access: AccessControl

    private func check(_ action: AccessAction, _ bucket: String?) throws(KVError) {
        if case .denied(let denial) = access.decide(user: user, action: action, bucket: bucket) { throw .forbidden(denial) }
    }

    private func denial(_ action: AccessAction, _ bucket: String?) -> KVError? {
        if case .denied(let denial) = access.decide(user: user, action: action, bucket: bucket) { return .forbidden(denial) }
        return nil
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> ReadResult {
        try check(.read, bucket)
        return try await base.get(bucket: bucket, key: key, options: options)
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions
    ) async throws(KVError) -> WriteResult {
        try check(.write, bucket)
        if conditions.returnBody { try check(.read, bucket) }
        return try await base.put(
            bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
            conditions: conditions)
    }

    /// A reset (`DEL`) is a delete; every other update a write.
    func updateType(
        bucket: String, key: [UInt8], operation: TypedOperation, options: RequestOptions
    ) async throws(KVError) -> TypedUpdateResult {
        try check(operation == .reset ? .delete : .write, bucket)
        return try await base.updateType(bucket: bucket, key: key, operation: operation, options: options)
    }

    /// A read needs read access; a delete, or a compare-and-set that deletes, delete
    /// access; every other strong operation write access.
    func strong(
        bucket: String, key: [UInt8], operation: StrongOperation, options: RequestOptions
    ) async throws(KVError) -> StrongAnswer {
        switch operation {
        case .read: try check(.read, bucket)
        case .delete, .compareAndSet(_, .tombstone): try check(.delete, bucket)
        case .write, .compareAndSet: try check(.write, bucket)
        }
        return try await base.strong(bucket: bucket, key: key, operation: operation, options: options)
    }

    func consistency(of bucket: String) -> BucketConsistency { base.consistency(of: bucket) }

    func readType(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions
    ) async throws(KVError) -> TypedReadResult {
        try check(.read, bucket)
        return try await base.readType(bucket: bucket, key: key, members: members, options: options)
    }

    func delete(bucket: String, key: [UInt8], context: String?, options: RequestOptions) async throws(KVError) -> WriteResult {
        try check(.delete, bucket)
        return try await base.delete(bucket: bucket, key: key, context: context, options: options)
    }

    func get(bucket: String, key: [UInt8], options: RequestOptions, completion: @escaping KVCompletion<ReadResult>) {
        if let error = denial(.read, bucket) { return completion(.failure(error)) }
        base.get(bucket: bucket, key: key, options: options, completion: completion)
    }

    func put(
        bucket: String, key: [UInt8], value: [UInt8], contentType: String, context: String?, options: RequestOptions,
        conditions: WriteConditions, completion: @escaping KVCompletion<WriteResult>
    ) {
        if let error = denial(.write, bucket) ?? (conditions.returnBody ? denial(.read, bucket) : nil) {
            return completion(.failure(error))
        }
        base.put(
            bucket: bucket, key: key, value: value, contentType: contentType, context: context, options: options,
            conditions: conditions, completion: completion)
    }

    func delete(
        bucket: String, key: [UInt8], context: String?, options: RequestOptions, completion: @escaping KVCompletion<WriteResult>
    ) {
        if let error = denial(.delete, bucket) { return completion(.failure(error)) }
        base.delete(bucket: bucket, key: key, context: context, options: options, completion: completion)
    }

    func expire(
        bucket: String, key: [UInt8], change: ExpiryChange, conditions: [ExpiryCondition], options: RequestOptions
    ) async throws(KVError) -> Bool {
        try check(.write, bucket)
        return try await base.expire(bucket: bucket, key: key, change: change, conditions: conditions, options: options)
    }

    func bucketProps(bucket: String) async throws(KVError) -> BucketProps {
        // Reading props (n, r, w) reveals nothing stored: any grant on the bucket allows it.
        let allowed = AccessAction.allCases.contains { access.decide(user: user, action: $0, bucket: bucket).isAllowed }
        if !allowed { try check(.read, bucket) }
        return try await base.bucketProps(bucket: bucket)
    }

    func setBucketProps(bucket: String, update: BucketPropsUpdate) async throws(KVError) -> BucketProps {
        try check(.admin, bucket)
        return try await base.setBucketProps(bucket: bucket, update: update)
    }

    func health() -> HealthReport { base.health() }

    func truncate(bucket: String?) async throws(KVError) -> TruncationReport {
        try check(.admin, bucket)
        return try await base.truncate(bucket: bucket)
    }

    func listKeys(bucket: String, cursor: String?, limit: Int) async throws(KVError) -> KeyPage {
        try check(.list, bucket)
        return try await base.listKeys(bucket: bucket, cursor: cursor, limit: limit)
    }

    func status() async -> NodeStatus { await base.status() }

    func ringReport() -> RingReport { base.ringReport() }

    func joinCluster(seed: String) async throws(KVError) -> MembershipChange {
        try check(.admin, nil)
        return try await base.joinCluster(seed: seed)
    }

    func leaveCluster() async throws(KVError) -> MembershipChange {
        try check(.admin, nil)
        return try await base.leaveCluster()
    }
}
