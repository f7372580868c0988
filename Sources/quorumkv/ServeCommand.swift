import ArgumentParser
import Dispatch
import Foundation
import Logging
import QuorumCore
import QuorumNode
import QuorumStorage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one QuorumKV node.",
        discussion: """
            The nodes that found a cluster get the same ordered --member list (it decides the
            first ring). A node added later starts with --join, naming any member's peer
            address, and an empty --data-dir: it copies its partitions from their current
            replicas, then serves. `quorumkv cluster leave --node URL` makes a node hand its
            partitions off and exit. Membership is kept in the data directory, so a restarted
            node rejoins its cluster without flags.
            Flags override values from --config, a JSON file such as:
              {"node_id": "node1", "http": "127.0.0.1:8081", "peer": "127.0.0.1:9081", "resp": "127.0.0.1:6381",
               "data_dir": "./data/node1", "partitions": 64, "sync": "full",
               "members": ["node1=127.0.0.1:9081", "node2=127.0.0.1:9082", "node3=127.0.0.1:9083"]}

            Examples:
              quorumkv serve --node-id node1 --http 127.0.0.1:8081 --peer 127.0.0.1:9081 \\
                --resp 127.0.0.1:6381 --data-dir ./data/node1 \\
                --member node1=127.0.0.1:9081 --member node2=127.0.0.1:9082 --member node3=127.0.0.1:9083
              quorumkv serve --config node1.json
              quorumkv serve --node-id node4 --http 127.0.0.1:8084 --peer 127.0.0.1:9084 \
                --data-dir ./data/node4 --join 127.0.0.1:9081

            The node logs to stderr and stops cleanly on SIGINT or SIGTERM.

            Exit codes:
              0  stopped cleanly on SIGINT or SIGTERM, or left the cluster
              1  could not start (port in use, data directory unusable); the log says why
              2  usage error: a bad flag or config value
            """
    )

    @Option(help: "JSON config file; flags given here override its values.")
    var config: String?

    @Option(name: .customLong("node-id"), help: "This node's stable id (1-64 characters).")
    var nodeID: String?

    @Option(help: "HTTP listen address, host:port (default 127.0.0.1:8081).")
    var http: String?

    @Option(help: "Node-to-node listen address, host:port (default 127.0.0.1:9081).")
    var peer: String?

    @Option(help: "RESP (Redis protocol) listen address, host:port, for redis-cli and Redis clients; none when not given.")
    var resp: String?

    @Option(name: .customLong("data-dir"), help: "Directory of this node's SQLite database (default ./data/<node-id>).")
    var dataDirectory: String?

    @Option(name: .customLong("member"), help: "A cluster member as id=host:port (its peer address); repeat for each, in the same order on every node. This node is added when missing.")
    var members: [String] = []

    @Option(help: "Join a running cluster through this member's peer address, host:port (instead of --member).")
    var join: String?

    @Option(help: "Partitions in the ring, a power of two (default 64). Must match on every node.")
    var partitions: Int?

    @Option(help: "SQLite sync level: full (survives power loss, default) or normal (survives a process crash).")
    var sync: String?

    @Option(name: .customLong("event-loop-threads"), help: "Network threads (default 1; more rarely helps on 2 cores).")
    var eventLoopThreads: Int?

    @Option(name: .customLong("read-repair"), help: "After reads, repair stale replicas: always (default), off, or a probability such as 0.1.")
    var readRepair: String?

    @Option(name: .customLong("sloppy-quorum"), help: "Let stand-ins take writes for unreachable replicas: on (default) or off.")
    var sloppyQuorum: String?

    @Option(name: .customLong("anti-entropy-interval"), help: "Milliseconds between anti-entropy exchanges (one partition with one peer each); 0 turns it off (default 1000).")
    var antiEntropyInterval: Int?

    @Option(name: .customLong("tombstone-grace"), help: "Milliseconds every replica must have held a delete's tombstone before it is purged (default 86400000, one day; keep it longer than nodes stay down).")
    var tombstoneGrace: UInt64?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String = "info"

    func run() async throws {
        let nodeConfig: NodeConfig
        do {
            nodeConfig = try buildConfig()
            try nodeConfig.validate()
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel); use trace, debug, info, notice, warning, error or critical")
        }
        let logger = Self.makeLogger(level: level, node: nodeConfig.nodeID)
        let node: Node
        do {
            node = try Node(config: nodeConfig, logger: logger)
            try await node.start()
        } catch {
            logger.critical("could not start: \(error)")
            throw ExitCode(1)
        }
        // Whichever comes first: a signal, or this node leaving its cluster. The other
        // waiter never ends by itself, so neither is awaited as a child task.
        let reason: String = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            Task {
                await SignalWaiter.waitForTermination()
                once.resume(returning: "stopping on signal")
            }
            Task {
                await node.waitUntilLeft()
                once.resume(returning: "left the cluster; stopping")
            }
        }
        logger.info("\(reason)")
        await node.stop()
    }

    static func makeLogger(level: Logger.Level, node: String) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "quorumkv")
        logger[metadataKey: "node"] = "\(node)"
        return logger
    }

    private func buildConfig() throws -> NodeConfig {
        var file = ConfigFile()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError("cannot read config file \(path)")
            }
            do {
                file = try JSONDecoder().decode(ConfigFile.self, from: data)
            } catch {
                throw ConfigError("config file \(path) is not valid: \(error)")
            }
        }
        guard let id = nodeID ?? file.node_id else { throw ConfigError("give the node an id with --node-id (or node_id in --config)") }
        var result = NodeConfig(nodeID: id)
        if let text = http ?? file.http {
            let address = try HostPort(parsing: text, what: "--http")
            result.httpHost = address.host
            result.httpPort = address.port
        }
        if let text = peer ?? file.peer {
            let address = try HostPort(parsing: text, what: "--peer")
            result.peerHost = address.host
            result.peerPort = address.port
        }
        if let text = resp ?? file.resp {
            let address = try HostPort(parsing: text, what: "--resp")
            result.respHost = address.host
            result.respPort = address.port
        }
        result.dataDirectory = dataDirectory ?? file.data_dir ?? "./data/\(id)"
        let memberTexts = members.isEmpty ? (file.members ?? []) : members
        result.members = try memberTexts.map { try NodeConfig.Member(parsing: $0) }
        result.joinSeed = join ?? file.join
        if result.joinSeed == nil, !result.members.contains(where: { $0.id == id }) {
            result.members.append(NodeConfig.Member(id: id, host: result.peerHost, port: result.peerPort))
        }
        result.partitionCount = partitions ?? file.partitions ?? result.partitionCount
        if let text = sync ?? file.sync {
            guard let mode = SyncMode(rawValue: text) else { throw ConfigError("--sync must be full or normal, got \(text)") }
            result.syncMode = mode
        }
        result.eventLoopThreads = eventLoopThreads ?? file.event_loop_threads ?? result.eventLoopThreads
        if let text = readRepair ?? file.read_repair {
            switch text.lowercased() {
            case "always", "on": result.readRepairProbability = 1
            case "off", "never": result.readRepairProbability = 0
            default:
                guard let probability = Double(text), (0...1).contains(probability) else {
                    throw ConfigError("--read-repair must be always, off or a probability between 0 and 1, got \(text)")
                }
                result.readRepairProbability = probability
            }
        }
        if let interval = antiEntropyInterval ?? file.anti_entropy_interval_ms {
            guard (0...3_600_000).contains(interval) else {
                throw ConfigError("--anti-entropy-interval must be 0...3600000 ms, got \(interval)")
            }
            result.antiEntropyIntervalMilliseconds = interval
        }
        if let grace = tombstoneGrace ?? file.tombstone_grace_ms {
            guard grace >= 1000 else { throw ConfigError("--tombstone-grace must be at least 1000 ms, got \(grace)") }
            result.tombstoneGraceMilliseconds = grace
        }
        if let text = sloppyQuorum ?? file.sloppy_quorum {
            switch text.lowercased() {
            case "on", "true": result.sloppyQuorum = true
            case "off", "false": result.sloppyQuorum = false
            default: throw ConfigError("--sloppy-quorum must be on or off, got \(text)")
            }
        }
        return result
    }
}

/// The config file's shape: every field optional, snake_case like the rest of the JSON.
private struct ConfigFile: Decodable {
    var node_id: String?
    var http: String?
    var peer: String?
    var resp: String?
    var data_dir: String?
    var members: [String]?
    var join: String?
    var partitions: Int?
    var sync: String?
    var event_loop_threads: Int?
    var read_repair: String?
    var sloppy_quorum: String?
    var anti_entropy_interval_ms: Int?
    var tombstone_grace_ms: UInt64?
}

/// Waits for SIGINT or SIGTERM without killing the process, so shutdown can finish.
enum SignalWaiter {
    static func waitForTermination() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            let queue = DispatchQueue(label: "quorumkv.signals")
            var sources: [DispatchSourceSignal] = []
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler { @Sendable in once.resume() }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
        }
    }
}

/// Resumes a continuation at most once, whichever event arrives first.
final class ResumeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Never>?

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = continuation
    }

    func resume(returning value: Value) {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume(returning: value)
    }
}

extension ResumeOnce where Value == Void {
    func resume() { resume(returning: ()) }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var retained: [DispatchSourceSignal] = []
    private static let lock = NSLock()

    static func keep(_ sources: [DispatchSourceSignal]) {
        lock.lock()
        retained += sources
        lock.unlock()
    }
}
