import QuorumCore

/// Where a stand-in keeps the hints it took, durably: a hint is acknowledged only once
/// stored, and restored after a restart. Completions run on the caller's executor.
public protocol HintStorage: AnyObject {
    func putHint(_ hint: Hint, completion: @escaping (Result<Void, StorageFailure>) -> Void)
    /// Removes delivered or expired hints; a failure leaves them to be delivered again
    /// after a restart, which merging makes harmless.
    func deleteHints(ids: [UInt64], completion: @escaping (Result<Void, StorageFailure>) -> Void)
}
