/// The background work of a node — hints, read repair, anti-entropy, membership, storage —
/// as Prometheus metrics, rendered from a `NodeStatus` when `/metrics` is scraped.
///
/// The node already counts these for `/status`; reading them at scrape time (as a
/// "collector" does in other Prometheus clients) keeps one set of counters instead of a
/// second copy that could drift from the first. Counters here only grow while the process
/// lives, so `rate()` works on them; they start again at 0 when it restarts, which
/// Prometheus handles as a counter reset.
public enum StatusMetrics {
    /// Prometheus text exposition (0.0.4) of `status`.
    public static func exposition(_ status: NodeStatus) -> String {
        var text = Text()
        text.gauge("quorumkv_build_info", "Always 1; the version label says which QuorumKV this is.", [([("version", status.version)], 1)])
        text.gauge("quorumkv_uptime_seconds", "Seconds since this node started.", status.uptimeSeconds)

        let members = memberStates(status)
        text.gauge(
            "quorumkv_member_up", "1 when this node's failure detector sees the member as up (this node always is), else 0.",
            members.map { ([("member", $0.node)], $0.reachable ? 1 : 0) })
        text.gauge(
            "quorumkv_member_phi", "Phi accrual suspicion of each member as this node sees it; down at 8.",
            members.map { ([("member", $0.node)], $0.phi) })
        text.gauge(
            "quorumkv_partitions_owned", "Ring partitions each member owns, as this node's ring says.",
            status.ring.members.map { ([("member", $0)], Double(status.ring.ownership[$0] ?? 0)) })

        let hints = status.hints
        text.gauge("quorumkv_hints_pending", "Hints this node holds for unreachable replicas.", hints.pending)
        text.gauge("quorumkv_hints_pending_bytes", "Bytes of the hints this node holds.", hints.pendingBytes)
        text.counter("quorumkv_hints_delivered_total", "Hints delivered to their replica and deleted.", hints.delivered)
        text.counter("quorumkv_hints_refused_total", "Hints refused because hint storage was full.", hints.refused)
        text.counter("quorumkv_hints_expired_total", "Hints dropped undelivered after their time to live.", hints.expired)

        text.counter("quorumkv_read_repairs_total", "Reads after which stale replicas were sent the merged version.", status.repair.readRepairs)
        text.counter("quorumkv_read_repair_replicas_total", "Replica copies sent by read repair.", status.repair.readRepairReplicas)

        let ae = status.antiEntropy
        text.gauge("quorumkv_anti_entropy_enabled", "1 when this node starts anti-entropy exchanges.", ae.enabled ? 1 : 0)
        text.counter("quorumkv_anti_entropy_exchanges_total", "Anti-entropy exchanges (one partition with one peer) run to the end.", ae.partitionsExchanged)
        text.counter("quorumkv_anti_entropy_failed_exchanges_total", "Anti-entropy exchanges that failed (peer down, timeout).", ae.failedExchanges)
        text.counter("quorumkv_anti_entropy_keys_repaired_total", "Keys written because replicas differed.", ae.keysRepaired)
        text.counter("quorumkv_anti_entropy_hashes_moved_total", "Tree hashes and key digests received from peers.", ae.hashesMoved)
        text.counter("quorumkv_anti_entropy_bytes_shipped_total", "Compressed bytes of repair batches sent to peers.", ae.bytesShipped)
        text.counter("quorumkv_anti_entropy_tree_rebuilds_total", "Partition Merkle trees built from storage.", ae.treeRebuilds)
        text.gauge("quorumkv_anti_entropy_trees_ready", "Held partitions whose Merkle tree is built and kept current.", ae.treesReady)
        text.gauge("quorumkv_anti_entropy_last_exchange_seconds", "Duration of the last finished exchange.", Double(ae.lastExchangeMilliseconds) / 1000)
        text.gauge("quorumkv_ring_transfers_pending", "Partition transfers left while a member joins or leaves; 0 when settled.", ae.transfersPending)
        text.counter("quorumkv_ring_transfers_done_total", "Partition transfers finished for joins and leaves.", ae.transfersDone)

        text.counter(
            "quorumkv_expired_versions_total", "Versions this node's replicas found expired and stored stripped to a tombstone.",
            status.expiry?.versionsExpired ?? 0)
        text.counter(
            "quorumkv_expired_versions_hidden_total",
            "Versions reads coordinated here hid because this node's clock had passed their deadline before the replicas' clocks.",
            status.expiry?.versionsHidden ?? 0)
        text.counter(
            "quorumkv_expired_purged_total", "States of expired versions purged from every replica (by the node that checked them).",
            ae.expiredPurged ?? 0)

        if let consensus = status.consensus {
            text.gauge(
                "quorumkv_consensus_standing",
                "1 for this node's standing in strong buckets' consensus (catching_up, relearning, voting), 0 for the others.",
                ["catching_up", "relearning", "voting"].map { ([("standing", $0)], $0 == consensus ? 1 : 0) })
        }

        text.gauge("quorumkv_storage_keys", "Rows in this node's store, tombstones included.", status.storage.keys)
        text.gauge("quorumkv_storage_queued_writes", "Writes queued for a group commit, being committed, or with their acknowledgement still to start.", status.storage.queuedWrites)
        text.counter("quorumkv_storage_commits_total", "SQLite transactions committed by the writer.", status.storage.committedTransactions)
        let cache = status.storage.rowCache
        text.gauge("quorumkv_row_cache_entries", "Rows whose committed state the row cache holds.", cache.entries)
        text.gauge("quorumkv_row_cache_bytes", "Bytes the row cache holds (states, keys and per-entry overhead).", cache.bytes)
        text.gauge("quorumkv_row_cache_entries_max", "The row cache's bound in rows.", cache.entriesMax)
        text.gauge("quorumkv_row_cache_bytes_max", "The row cache's bound in bytes.", cache.bytesMax)
        text.counter("quorumkv_row_cache_hits_total", "Point reads answered from the row cache.", cache.hits)
        text.counter("quorumkv_row_cache_misses_total", "Point reads that went to SQLite.", cache.misses)
        text.counter("quorumkv_row_cache_evictions_total", "Rows pushed out of the row cache by its bounds.", cache.evictions)
        return text.output
    }

    /// Every member with its up/down state: from the gossiped view when there is one,
    /// else from the transport's peers plus this node.
    public static func memberStates(_ status: NodeStatus) -> [MemberReport] {
        if !status.members.isEmpty { return status.members }
        let ownership = status.ring.ownership
        let me = MemberReport(
            node: status.node, address: "", status: "up", reachable: true, phi: 0, partitions: ownership[status.node] ?? 0)
        return [me] + status.peers.map {
            MemberReport(node: $0.node, address: $0.address, status: "up", reachable: $0.reachable, phi: 0, partitions: ownership[$0.node] ?? 0)
        }
    }

    /// Builds the text: a HELP and TYPE line per metric, then its samples.
    struct Text {
        var output = ""

        mutating func gauge(_ name: String, _ help: String, _ value: Int) { gauge(name, help, [([], Double(value))]) }
        mutating func gauge(_ name: String, _ help: String, _ value: Double) { gauge(name, help, [([], value)]) }
        mutating func gauge(_ name: String, _ help: String, _ samples: [([(String, String)], Double)]) {
            metric(name, "gauge", help, samples)
        }
        mutating func counter(_ name: String, _ help: String, _ value: Int) { metric(name, "counter", help, [([], Double(value))]) }

        private mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
            output += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples {
                let rendered = labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
                output += labels.isEmpty ? name : "\(name){\(rendered)}"
                output += " \(format(value))\n"
            }
        }

        private func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        }
    }

    /// Label values escape backslash, double quote and newline (text format 0.0.4).
    static func escapeLabel(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
