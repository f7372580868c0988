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
            Settings come from a JSON --config file, then QUORUMKV_* environment variables
            (QUORUMKV_NODE_ID, QUORUMKV_HTTP, QUORUMKV_MEMBERS as a comma-separated list, …:
            each config field in capitals), then flags; each overrides the one before.
            --print-config shows the result. A config file looks like:
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

            With --acl FILE every request acts as a user of that file (see docs/security.md;
            `quorumkv user add` writes it): clients log in with HTTP Basic or Bearer, or RESP
            AUTH; the `default` user needs no login on listeners bound to a loopback address
            only. SIGHUP (or POST /admin/acl/reload) reads the file again; a malformed file
            keeps the ACL in force and says why. Without --acl nothing is checked.

            TLS: --tls-cert and --tls-key put HTTPS on the HTTP port and RESP over TLS on the
            RESP port (TLS only); --tls-ca adds mutual TLS on the peer port, where a peer's
            certificate must chain to the bundle and name its node id as DNS:<node-id>.
            `quorumkv cert init|issue` makes development certificates. SIGHUP re-reads the
            certificate, key and CA files: new connections use them, open ones continue, and
            a failed reload keeps the old material and logs why. See docs/security.md.

            Secure by default: a listener (--http, --resp or --peer) on an
            address that is not loopback (127.0.0.0/8, ::1, localhost; 0.0.0.0
            and :: are not) needs --acl and --tls-cert/--tls-key, and an
            exposed --peer also --tls-ca with --peer-tls not off. Otherwise
            the node refuses to start (exit 2) and says what to give.
            --insecure (or "insecure": true, or QUORUMKV_INSECURE=true) starts
            it anyway, with a warning.

            The node logs to stderr and stops cleanly on SIGINT or SIGTERM.

            Exit codes:
              0  stopped cleanly on SIGINT or SIGTERM, or left the cluster
              1  could not start (port in use, data directory unusable, ACL file malformed);
                 the log says why
              2  usage error: a bad flag or config value, or a non-loopback listener without
                 --acl and TLS (and no --insecure)
              74 the store hit a disk I/O error or corruption (a failed fsync): restart
                 the node, SQLite recovers what is durable; check the disk
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

    @Option(name: .customLong("event-loop-threads"), help: "Network threads (default: the cores, at most 4). Reads of local replicas run on them.")
    var eventLoopThreads: Int?

    @Option(name: .customLong("read-repair"), help: "After reads, repair stale replicas: always (default), off, or a probability such as 0.1.")
    var readRepair: String?

    @Option(name: .customLong("sloppy-quorum"), help: "Let stand-ins take writes for unreachable replicas: on (default) or off.")
    var sloppyQuorum: String?

    @Option(name: .customLong("anti-entropy-interval"), help: "Milliseconds between anti-entropy exchanges (one partition with one peer each; tombstone purges and clearing copies left by a join run on the same ticks); 0 turns them off (default 1000).")
    var antiEntropyInterval: Int?

    @Option(name: .customLong("tombstone-grace"), help: "Milliseconds every replica must have held a delete's tombstone before it is purged (default 86400000, one day; keep it longer than nodes stay down).")
    var tombstoneGrace: UInt64?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate (chain allowed, leaf first) for HTTPS, RESP over TLS and the peer port; with it the HTTP and RESP ports take TLS only.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (unencrypted; keep it 0600).")
    var tlsKey: String?

    @Option(name: .customLong("tls-ca"), help: "PEM bundle of one or more CAs peers' certificates must chain to (several while rotating); turns on mutual TLS on the peer port.")
    var tlsCA: String?

    @Option(name: .customLong("peer-tls"), help: "Peer port TLS: off, accept (TLS and plaintext, for moving a running cluster to TLS) or require (default require with --tls-ca, else off).")
    var peerTLS: String?

    @Option(name: .customLong("tls-handshake-timeout"), help: "Milliseconds a TLS handshake may take before its connection is closed (default 10000).")
    var tlsHandshakeTimeout: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(help: ArgumentHelp("The node's users and grants (docs/security.md); without it nothing is checked.", valueName: "file"))
    var acl: String?

    @Option(
        name: .customLong("metrics-access"),
        help: "Who may read /metrics, /status, /ring and the status page with --acl: open (anyone), user (any logged-in user; default) or admin (admin on *).")
    var metricsAccess: String?

    @Flag(help: "Listen on non-loopback addresses without --acl and TLS: anyone who reaches the node can read and change every key, in plain text. For a trusted network only; logs a warning.")
    var insecure = false

    @Flag(name: .customLong("print-config"), help: "Print the effective settings (file, environment and flags over the defaults) as JSON and exit.")
    var printConfig = false

    func run() async throws {
        let nodeConfig: NodeConfig
        let logLevel: String
        let aclPath: String?
        let metricsAccessText: String
        let insecureSetting: Bool
        let exposure: ListenerExposure.Decision
        do throws(ConfigError) {
            let settings = try settings()
            nodeConfig = try settings.nodeConfig()
            try nodeConfig.validate()
            logLevel = settings.log_level ?? "info"
            aclPath = settings.acl
            metricsAccessText = settings.metrics_access ?? AccessControl.MetricsAccess.user.rawValue
            insecureSetting = settings.insecure ?? false
            exposure = settings.exposure(of: nodeConfig)
        } catch {
            throw ValidationError(error.message)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel); use trace, debug, info, notice, warning, error or critical")
        }
        guard let metricsAccess = AccessControl.MetricsAccess(rawValue: metricsAccessText) else {
            throw ValidationError("metrics access (--metrics-access) must be open, user or admin, got \(metricsAccessText)")
        }
        if case .refused(let message) = exposure {
            // One line and the usage code: the fix is a flag, and scripts read the status.
            FileOutput.standardError("error: \(message)\n")
            throw ExitCode(ClientExitCode.usage.rawValue)
        }
        if printConfig {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileOutput.standardOutput(
                Array(try encoder.encode(
                    ConfigFile(
                        effective: nodeConfig, logLevel: logLevel, acl: aclPath, metricsAccess: metricsAccessText,
                        insecure: insecureSetting))))
            FileOutput.standardOutput("\n")
            return
        }
        let logger = Self.makeLogger(level: level, node: nodeConfig.nodeID)
        if case .allowedInsecurely(let warning) = exposure { logger.warning("\(warning)") }
        let access: AccessControl
        if let acl = aclPath {
            do {
                access = try AccessControl.load(path: acl, metricsAccess: metricsAccess, logger: logger)
            } catch {
                // Fail closed: a node whose ACL can't be read must not serve without it.
                logger.critical("could not start: \(error)")
                throw ExitCode(1)
            }
            logger.info("ACL loaded", metadata: ["users": "\(access.acl.order.count)"])
            if let mode = (try? FileManager.default.attributesOfItem(atPath: acl))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                logger.warning(
                    "the ACL file can be read by other users of this machine; chmod 600 it",
                    metadata: ["file": "\(acl)", "mode": "\(String(mode, radix: 8))"])
            }
        } else {
            access = .open()
        }
        let node: Node
        do {
            node = try Node(config: nodeConfig, logger: logger, access: access)
            try await node.start()
        } catch {
            logger.critical("could not start: \(error)")
            throw ExitCode(1)
        }
        if access.enforcing || nodeConfig.tls != nil {
            // One SIGHUP re-reads every file the node serves from: the ACL and the TLS
            // material. Each reload logs its outcome; a failed one keeps what was in force.
            SignalWaiter.onReload {
                if access.enforcing { _ = access.reload() }
                if nodeConfig.tls != nil { try? node.reloadTLS() }
            }
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

    /// The flags as the top config layer: only those given are set.
    private var flagLayer: ConfigFile {
        ConfigFile(
            node_id: nodeID, http: http, peer: peer, resp: resp, data_dir: dataDirectory,
            members: members.isEmpty ? nil : members, join: join, partitions: partitions, sync: sync,
            event_loop_threads: eventLoopThreads, read_repair: readRepair, sloppy_quorum: sloppyQuorum,
            anti_entropy_interval_ms: antiEntropyInterval, tombstone_grace_ms: tombstoneGrace, log_level: logLevel,
            acl: acl, metrics_access: metricsAccess,
            tls_cert: tlsCert, tls_key: tlsKey, tls_ca: tlsCA, peer_tls: peerTLS,
            tls_handshake_timeout_ms: tlsHandshakeTimeout, insecure: insecure ? true : nil)
    }

    /// File, then environment, then flags.
    private func settings() throws(ConfigError) -> ConfigFile {
        try ConfigFile.load(path: config)
            .overridden(by: ConfigFile(environment: ProcessInfo.processInfo.environment))
            .overridden(by: flagLayer)
    }
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

extension SignalWaiter {
    /// Calls `reload` on every SIGHUP for the life of the process (instead of the default,
    /// which would end it).
    static func onReload(_ reload: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "quorumkv.sighup"))
        source.setEventHandler { @Sendable in reload() }
        source.resume()
        SignalSources.keep([source])
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
