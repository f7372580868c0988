import Foundation
import QuorumCore

/// The answers that describe the server rather than the data: `INFO`, `HELLO`,
/// `COMMAND` and `CONFIG GET`. Redis tools read a few of these fields on start-up
/// (`redis_version`, `cluster_enabled`, `CONFIG GET save`), so they are answered in
/// Redis's shapes; everything QuorumKV-specific is under its own names.
enum RESPIntrospection {
    /// The Redis version QuorumKV's command set is compatible with, reported to tools
    /// that gate features on it.
    static let redisCompatibleVersion = "7.0.0"

    static let infoSections = ["server", "clients", "stats", "replication", "cluster", "keyspace", "quorumkv"]

    /// `INFO [section]` as Redis formats it: `# Section` headers, `field:value` lines,
    /// CRLF line ends. An unknown section gives an empty text, as in Redis.
    /// - Parameter keyspace: the `# Keyspace` section's lines (`db0:keys=…`), which the
    ///   caller counted through the service.
    static func info(
        section: String?, session: RESPSession, stats: RESPServerStats, health: HealthReport, keyspace: [String] = []
    ) -> RESPValue {
        let wanted: [String]
        switch section {
        case nil, "all", "default", "everything": wanted = infoSections
        case let name?: wanted = infoSections.filter { $0 == name }
        }
        let uptime = Int((WallClock.nowMilliseconds() &- stats.startedMilliseconds) / 1000)
        var blocks: [String] = []
        for name in wanted {
            var lines: [String]
            switch name {
            case "server":
                lines = [
                    "# Server", "redis_version:\(redisCompatibleVersion)", "redis_mode:standalone",
                    "quorumkv_version:\(QuorumKVVersion.current)", "os:Linux", "arch_bits:\(MemoryLayout<Int>.size * 8)",
                    "process_id:\(ProcessInfo.processInfo.processIdentifier)", "uptime_in_seconds:\(uptime)",
                    "uptime_in_days:\(uptime / 86_400)",
                ]
            case "clients":
                lines = ["# Clients", "connected_clients:\(stats.connectedClients)"]
            case "stats":
                lines = ["# Stats", "total_commands_processed:\(stats.commandsProcessed)"]
            case "replication":
                lines = ["# Replication", "role:master", "connected_slaves:0"]
            case "cluster":
                lines = ["# Cluster", "cluster_enabled:0"]
            case "keyspace":
                lines = ["# Keyspace"] + keyspace
            default:
                let reachable = health.peers.filter(\.reachable).count
                lines = [
                    "# QuorumKV", "node_id:\(health.node)", "node_status:\(health.status)",
                    "peers:\(health.peers.count)", "peers_reachable:\(reachable)",
                    "bucket:\(session.bucket)",
                ] + consistencyPairs(session.defaults).map { "consistency_\($0.0):\($0.1)" }
            }
            blocks.append(lines.joined(separator: "\r\n"))
        }
        let text = blocks.isEmpty ? "" : blocks.joined(separator: "\r\n\r\n") + "\r\n"
        return .bulk(text)
    }

    /// Whether `INFO section` includes the keyspace section, which needs a key count.
    static func wantsKeyspace(_ section: String?) -> Bool {
        switch section {
        case nil, "all", "default", "everything", "keyspace": return true
        default: return false
        }
    }

    /// `INFO keyspace`'s line for a bucket, as Redis shapes it (`db0:keys=3,expires=0,avg_ttl=0`):
    /// `default` is `db0`, `db<n>` keeps its name, other buckets go by theirs. Redis leaves
    /// out empty databases, and so does this.
    static func keyspaceLine(bucket: String, keys: Int) -> String? {
        guard keys > 0 else { return nil }
        let name = RESPClientRecord.databaseNumber(bucket).map { "db\($0)" } ?? bucket
        return "\(name):keys=\(keys),expires=0,avg_ttl=0"
    }

    /// The connection's defaults as `(name, value)`; `default` means "the bucket's".
    static func consistencyPairs(_ options: RequestOptions) -> [(String, String)] {
        [
            ("r", options.r?.description ?? "default"), ("w", options.w?.description ?? "default"),
            ("n", options.n.map(String.init) ?? "default"), ("pr", options.pr?.description ?? "default"),
            ("pw", options.pw?.description ?? "default"),
            ("timeout", options.timeoutMilliseconds.map(String.init) ?? "default"),
        ]
    }

    /// `HELLO`'s map: a RESP3 map after `HELLO 3`, flattened to an array in RESP2.
    static func hello(session: RESPSession, health: HealthReport) -> RESPValue {
        let fields: [RESPValue] = [
            .bulk("server"), .bulk("quorumkv"),
            .bulk("version"), .bulk(redisCompatibleVersion),
            .bulk("quorumkv_version"), .bulk(QuorumKVVersion.current),
            .bulk("proto"), .integer(session.protocolVersion),
            .bulk("id"), .integer(session.clientID),
            .bulk("mode"), .bulk("standalone"),
            .bulk("role"), .bulk("master"),
            .bulk("modules"), .array([]),
            .bulk("node_id"), .bulk(health.node),
        ]
        return session.protocolVersion == 3 ? .map(fields) : .array(fields)
    }

    static func command(_ introspection: RESPCommandIntrospection, resp3: Bool) -> RESPValue {
        switch introspection {
        case .all:
            return .array(RESPCommand.table.map(commandInfo))
        case .count:
            return .integer(RESPCommand.table.count)
        case .docs, .docsNamed:
            var names: [String] = []
            if case .docsNamed(let named) = introspection { names = named }
            // Redis 7's shape: name → {summary, since, group, complexity, arguments}; a
            // refused command asked for by name is described with the reason it is refused.
            var fields: [RESPValue] = []
            if names.isEmpty {
                for spec in RESPCommand.table { fields += [.bulk(spec.name), docs(summary: spec.summary, group: spec.group, resp3: resp3)] }
            } else {
                for name in names {
                    if let spec = RESPCommand.spec(named: name) {
                        fields += [.bulk(spec.name), docs(summary: spec.summary, group: spec.group, resp3: resp3)]
                    } else if let reason = RESPCommand.refused[name] {
                        fields += [.bulk(name), docs(summary: "Refused by QuorumKV: \(reason).", group: "quorumkv-refused", resp3: resp3)]
                    }
                }
            }
            return resp3 ? .map(fields) : .array(fields)
        case .list:
            return .array(RESPCommand.table.map { .bulk($0.name) })
        case .info(let names):
            return .array(names.map { name in RESPCommand.spec(named: name).map(commandInfo) ?? .null })
        }
    }

    private static func docs(summary: String, group: String, resp3: Bool) -> RESPValue {
        let fields: [RESPValue] = [
            .bulk("summary"), .bulk(summary), .bulk("since"), .bulk("1.0.0"), .bulk("group"), .bulk(group),
            .bulk("complexity"), .bulk("O(1) for single keys; O(N) for N keys"), .bulk("arguments"), .array([]),
        ]
        return resp3 ? .map(fields) : .array(fields)
    }

    /// One `COMMAND` entry in Redis 7's ten-element shape; the category is the ACL category.
    private static func commandInfo(_ spec: RESPCommandSpec) -> RESPValue {
        .array([
            .bulk(spec.name), .integer(spec.arity), .array(spec.flags.map { .simpleString($0) }),
            .integer(spec.firstKey), .integer(spec.lastKey), .integer(spec.step),
            .array([.simpleString("@" + spec.category.rawValue)]), .array([]), .array([]), .array([]),
        ])
    }

    /// The settings Redis tools and client libraries read, as name/value pairs:
    /// `redis-benchmark` asks for `save` and `appendonly`; admin tools and session stores
    /// probe `databases`, `maxmemory`, `maxmemory-policy`, `timeout` and
    /// `notify-keyspace-events`. `databases` is Redis's default 16 so tools show a usual
    /// list, though `SELECT` takes any number.
    static func configValues(limits: RESPLimits) -> [(String, String)] {
        [
            ("save", ""), ("appendonly", "no"), ("databases", "16"), ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"), ("timeout", String(limits.idleTimeout.nanoseconds / 1_000_000_000)),
            ("notify-keyspace-events", ""), ("proto-max-bulk-len", String(limits.bulkBytesMax)),
            ("cluster-enabled", "no"),
        ]
    }

    /// A map in RESP3 (redis-py reads it as one), flat pairs in RESP2; patterns are globs.
    static func configGet(_ patterns: [String], limits: RESPLimits = .defaults, resp3: Bool = false) -> RESPValue {
        var pairs: [RESPValue] = []
        for (name, value) in configValues(limits: limits) where patterns.contains(where: { glob($0, matches: name) }) {
            pairs += [.bulk(name), .bulk(value)]
        }
        return resp3 ? .map(pairs) : .array(pairs)
    }

    /// Glob match, as `CONFIG GET` patterns use (Redis's rules: see `RESPGlob`).
    static func glob(_ pattern: String, matches text: String) -> Bool {
        RESPGlob.matches(Array(pattern.utf8), Array(text.utf8))
    }
}

extension RESPCommandHandler {
    /// `INFO` with its keyspace section: the connection's bucket counted by listing it
    /// (bounded by `keyCountKeysMax`; past the bound, or on a failure, the line is left out
    /// and `keyspace_error` says why).
    func info(section: String?, request: RESPRequest) async -> RESPValue {
        var keyspace: [String] = []
        let bound = protocolLimits.keyCountKeysMax
        do throws(KVError) {
            let count = try await forEachKey(bucket: request.bucket, max: bound) { _ in }
            if count > bound {
                keyspace.append("keyspace_error:bucket \(request.bucket) has more than \(bound) keys; not counted")
            } else if let line = RESPIntrospection.keyspaceLine(bucket: request.bucket, keys: count) {
                keyspace.append(line)
            }
        } catch {
            let message = error.message.map { $0 == "," || $0 == "=" || $0 == ":" ? " " : $0 }
            keyspace.append("keyspace_error:\(String(message))")
        }
        var session = RESPSession(clientID: 0)
        session.bucket = request.bucket
        session.defaults = request.defaults
        return RESPIntrospection.info(
            section: section, session: session, stats: stats, health: service.health(), keyspace: keyspace)
    }
}
