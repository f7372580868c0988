import Metrics
import QuorumCore

/// Counts node-to-node calls that failed in transport — timeouts above all, the first sign
/// of a slow or cut-off replica — by the kind of request and the reason.
///
/// Every call to a replica goes through `ReplicaRouter`, which counts its failures here.
/// The counter is recorded through swift-metrics, so it lands in the process registry that
/// `ProcessMetrics` bootstrapped and `/metrics` renders after the node's own metrics; the
/// `node` label keeps apart nodes that share a process (tests). Label values come from
/// fixed sets, so the number of series stays bounded.
///
/// `quorumkv_replica_failures_total{node, request, reason}`: `reason` is `timeout` (no
/// answer within the call's timeout: half the client's timeout for key requests),
/// `unreachable`, `connection_closed`, `overloaded`, `remote`, `hello_rejected`,
/// `too_large`, `undecodable` (an answer that did not decode) or `other`.
public enum ReplicaCallMetrics {
    public static let failures = "quorumkv_replica_failures_total"

    /// Counts one call from `node` that failed with `error`; `kind` is the request's
    /// `requestLabel`.
    static func count(_ kind: String, from node: String, _ error: any Error) {
        Counter(label: failures, dimensions: [("node", node), ("request", kind), ("reason", reasonLabel(error))]).increment()
    }

    /// The request's kind. Ifs rather than a switch, so a new `PeerRequest` case counts
    /// as `other` instead of breaking the build of whoever adds it.
    static func requestLabel(_ request: PeerRequest) -> String {
        if case .fetch = request { return "fetch" }
        if case .coordinateWrite = request { return "coordinate_write" }
        if case .merge = request { return "merge" }
        if case .mergeBatch = request { return "merge_batch" }
        if case .storeHint = request { return "store_hint" }
        if case .setBucketProps = request { return "set_bucket_props" }
        if case .listKeys = request { return "list_keys" }
        if case .gossip = request { return "gossip" }
        if case .treeRoot = request { return "tree_root" }
        if case .treeHashes = request { return "tree_hashes" }
        if case .segmentKeys = request { return "segment_keys" }
        if case .ping = request { return "ping" }
        return "other"
    }

    /// The failure's kind; ifs for the same reason as `requestLabel`.
    static func reasonLabel(_ error: any Error) -> String {
        guard let peerError = error as? PeerError else { return "undecodable" }
        if case .timeout = peerError { return "timeout" }
        if case .unreachable = peerError { return "unreachable" }
        if case .connectionClosed = peerError { return "connection_closed" }
        if case .overloaded = peerError { return "overloaded" }
        if case .remote = peerError { return "remote" }
        if case .helloRejected = peerError { return "hello_rejected" }
        if case .payloadTooLarge = peerError { return "too_large" }
        return "other"
    }
}
