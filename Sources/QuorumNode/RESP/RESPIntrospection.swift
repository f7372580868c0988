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
    static func info(section: String?, session: RESPSession, stats: RESPServerStats, health: HealthReport) -> RESPValue {
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
                lines = ["# Keyspace"]
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

    static func command(_ introspection: RESPCommandIntrospection) -> RESPValue {
        switch introspection {
        case .all:
            return .array(RESPCommand.table.map(commandInfo))
        case .count:
            return .integer(RESPCommand.table.count)
        case .docs:
            // `redis-cli` asks for docs to drive its hints; none is a valid answer.
            return .array([])
        case .list:
            return .array(RESPCommand.table.map { .bulk($0.name) })
        case .info(let names):
            return .array(
                names.map { name in
                    RESPCommand.table.first { $0.name == name }.map(commandInfo) ?? .null
                })
        }
    }

    /// One `COMMAND` entry in Redis 7's ten-element shape.
    private static func commandInfo(
        _ entry: (name: String, arity: Int, flags: [String], firstKey: Int, lastKey: Int, step: Int)
    ) -> RESPValue {
        .array([
            .bulk(entry.name), .integer(entry.arity), .array(entry.flags.map { .simpleString($0) }),
            .integer(entry.firstKey), .integer(entry.lastKey), .integer(entry.step),
            .array([]), .array([]), .array([]), .array([]),
        ])
    }

    /// The few settings Redis tools read (`redis-benchmark` asks for `save` and
    /// `appendonly`), as name/value pairs; patterns take `*` and `?`.
    static let configValues: [(String, String)] = [
        ("save", ""), ("appendonly", "no"),
    ]

    static func configGet(_ patterns: [String]) -> RESPValue {
        var pairs: [RESPValue] = []
        for (name, value) in configValues where patterns.contains(where: { glob($0, matches: name) }) {
            pairs += [.bulk(name), .bulk(value)]
        }
        return .array(pairs)
    }

    /// Glob match with `*` and `?`, as `CONFIG GET` patterns use.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let pattern = Array(pattern.utf8)
        let text = Array(text.utf8)
        var (p, t) = (0, 0)
        var star: (p: Int, t: Int)?
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = (p, t)
                p += 1
            } else if let last = star {
                p = last.p + 1
                t = last.t + 1
                star = (last.p, last.t + 1)
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
