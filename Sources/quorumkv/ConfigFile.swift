import Foundation
import QuorumNode
import QuorumStorage
import QuorumTLS

/// A node's settings as written by people: the JSON `--config` file, the `QUORUMKV_*`
/// environment variables and the `serve` flags all fill this one shape, each field
/// optional. Layers override in that order (file < environment < flags), then
/// `nodeConfig()` checks the result and fills the defaults. `--print-config` prints the
/// effective values in the same shape, so its output is itself a valid config file.
struct ConfigFile: Codable, Equatable {
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
    var log_level: String?
    /// The ACL file (`--acl`); absent: no users, nothing checked.
    var acl: String?
    /// `open`, `user` or `admin` (`--metrics-access`).
    var metrics_access: String?

    var tls_cert: String?
    var tls_key: String?
    var tls_ca: String?
    var peer_tls: String?
    var tls_handshake_timeout_ms: Int?
    /// `--insecure`: listen on non-loopback addresses without `acl` and TLS
    /// (`ListenerExposure`); absent means false.
    var insecure: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case node_id, http, peer, resp, data_dir, members, join, partitions, sync, event_loop_threads, read_repair
        case sloppy_quorum, anti_entropy_interval_ms, tombstone_grace_ms, log_level, acl, metrics_access
        case tls_cert, tls_key, tls_ca, peer_tls, tls_handshake_timeout_ms, insecure
    }

    /// The environment variable of each field: `QUORUMKV_` and the field name in capitals
    /// (`QUORUMKV_NODE_ID`, `QUORUMKV_MEMBERS` as a comma-separated list, …).
    static func variable(_ field: CodingKeys) -> String { "QUORUMKV_" + field.rawValue.uppercased() }

    /// Reads the file at `path`; an empty config when `path` is nil.
    static func load(path: String?) throws(ConfigError) -> ConfigFile {
        guard let path else { return ConfigFile() }
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError("cannot read config file \(path)") }
        do {
            return try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch {
            throw ConfigError("config file \(path) is not valid: \(error)")
        }
    }

    /// The fields set in `environment`; a number that does not parse is an error naming the variable.
    init(environment: [String: String]) throws(ConfigError) {
        func text(_ field: CodingKeys) -> String? {
            environment[Self.variable(field)].flatMap { $0.isEmpty ? nil : $0 }
        }
        func number<T: FixedWidthInteger>(_ field: CodingKeys) throws(ConfigError) -> T? {
            guard let value = text(field) else { return nil }
            guard let parsed = T(value) else { throw ConfigError("\(Self.variable(field))=\(value) is not a whole number") }
            return parsed
        }
        node_id = text(.node_id)
        http = text(.http)
        peer = text(.peer)
        resp = text(.resp)
        data_dir = text(.data_dir)
        members = text(.members).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        join = text(.join)
        partitions = try number(.partitions)
        sync = text(.sync)
        event_loop_threads = try number(.event_loop_threads)
        read_repair = text(.read_repair)
        sloppy_quorum = text(.sloppy_quorum)
        anti_entropy_interval_ms = try number(.anti_entropy_interval_ms)
        tombstone_grace_ms = try number(.tombstone_grace_ms)
        log_level = text(.log_level)
        acl = text(.acl)
        metrics_access = text(.metrics_access)
        tls_cert = text(.tls_cert)
        tls_key = text(.tls_key)
        tls_ca = text(.tls_ca)
        peer_tls = text(.peer_tls)
        tls_handshake_timeout_ms = try number(.tls_handshake_timeout_ms)
        insecure = try Self.boolean(text(.insecure), variable: Self.variable(.insecure))
    }

    /// A yes/no setting from the environment: true/false, yes/no, on/off or 1/0.
    static func boolean(_ text: String?, variable: String) throws(ConfigError) -> Bool? {
        guard let text else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigError("\(variable)=\(text) must be true or false")
        }
    }

    init() {}

    /// This layer with every field `other` sets taken from `other`.
    func overridden(by other: ConfigFile) -> ConfigFile {
        ConfigFile(
            node_id: other.node_id ?? node_id, http: other.http ?? http, peer: other.peer ?? peer,
            resp: other.resp ?? resp, data_dir: other.data_dir ?? data_dir, members: other.members ?? members,
            join: other.join ?? join, partitions: other.partitions ?? partitions, sync: other.sync ?? sync,
            event_loop_threads: other.event_loop_threads ?? event_loop_threads, read_repair: other.read_repair ?? read_repair,
            sloppy_quorum: other.sloppy_quorum ?? sloppy_quorum,
            anti_entropy_interval_ms: other.anti_entropy_interval_ms ?? anti_entropy_interval_ms,
            tombstone_grace_ms: other.tombstone_grace_ms ?? tombstone_grace_ms, log_level: other.log_level ?? log_level,
            acl: other.acl ?? acl, metrics_access: other.metrics_access ?? metrics_access,
            tls_cert: other.tls_cert ?? tls_cert, tls_key: other.tls_key ?? tls_key, tls_ca: other.tls_ca ?? tls_ca,
            peer_tls: other.peer_tls ?? peer_tls,
            tls_handshake_timeout_ms: other.tls_handshake_timeout_ms ?? tls_handshake_timeout_ms,
            insecure: other.insecure ?? insecure)
    }

    init(
        node_id: String? = nil, http: String? = nil, peer: String? = nil, resp: String? = nil, data_dir: String? = nil,
        members: [String]? = nil, join: String? = nil, partitions: Int? = nil, sync: String? = nil,
        event_loop_threads: Int? = nil, read_repair: String? = nil, sloppy_quorum: String? = nil,
        anti_entropy_interval_ms: Int? = nil, tombstone_grace_ms: UInt64? = nil, log_level: String? = nil,
        acl: String? = nil, metrics_access: String? = nil,
        tls_cert: String? = nil, tls_key: String? = nil, tls_ca: String? = nil, peer_tls: String? = nil,
        tls_handshake_timeout_ms: Int? = nil, insecure: Bool? = nil
    ) {
        self.insecure = insecure
        self.acl = acl
        self.metrics_access = metrics_access
        self.tls_handshake_timeout_ms = tls_handshake_timeout_ms
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.tls_ca = tls_ca
        self.peer_tls = peer_tls
        self.node_id = node_id
        self.http = http
        self.peer = peer
        self.resp = resp
        self.data_dir = data_dir
        self.members = members
        self.join = join
        self.partitions = partitions
        self.sync = sync
        self.event_loop_threads = event_loop_threads
        self.read_repair = read_repair
        self.sloppy_quorum = sloppy_quorum
        self.anti_entropy_interval_ms = anti_entropy_interval_ms
        self.tombstone_grace_ms = tombstone_grace_ms
        self.log_level = log_level
    }

    /// Every value `config` runs with, defaults included.
    init(effective config: NodeConfig, logLevel: String, acl: String? = nil, metricsAccess: String? = nil, insecure: Bool = false) {
        self.init(
            node_id: config.nodeID, http: "\(config.httpHost):\(config.httpPort)", peer: "\(config.peerHost):\(config.peerPort)",
            resp: config.respPort.map { "\(config.respHost):\($0)" }, data_dir: config.dataDirectory,
            members: config.members.map { "\($0.id)=\($0.host):\($0.port)" }, join: config.joinSeed,
            partitions: config.partitionCount, sync: config.syncMode.rawValue, event_loop_threads: config.eventLoopThreads,
            read_repair: config.readRepairProbability == 1 ? "always" : config.readRepairProbability == 0 ? "off" : String(config.readRepairProbability),
            sloppy_quorum: config.sloppyQuorum ? "on" : "off", anti_entropy_interval_ms: config.antiEntropyIntervalMilliseconds,
            tombstone_grace_ms: config.tombstoneGraceMilliseconds, log_level: logLevel, acl: acl, metrics_access: acl == nil ? nil : metricsAccess,
            tls_cert: config.tls?.certificatePath, tls_key: config.tls?.keyPath, tls_ca: config.tls?.caPath,
            peer_tls: config.peerTLS.rawValue, tls_handshake_timeout_ms: config.tlsHandshakeTimeoutMilliseconds,
            insecure: insecure)
    }

    /// The node's settings: these values over the defaults, each checked with a message
    /// that names the setting.
    func nodeConfig() throws(ConfigError) -> NodeConfig {
        guard let id = node_id else {
            throw ConfigError("give the node an id with --node-id (or node_id in --config, or \(Self.variable(.node_id)))")
        }
        var result = NodeConfig(nodeID: id)
        if let http {
            let address = try HostPort(parsing: http, what: "--http")
            result.httpHost = address.host
            result.httpPort = address.port
        }
        if let peer {
            let address = try HostPort(parsing: peer, what: "--peer")
            result.peerHost = address.host
            result.peerPort = address.port
        }
        if let resp {
            let address = try HostPort(parsing: resp, what: "--resp")
            result.respHost = address.host
            result.respPort = address.port
        }
        result.dataDirectory = data_dir ?? "./data/\(id)"
        result.members = try (members ?? []).map { text throws(ConfigError) in try NodeConfig.Member(parsing: text) }
        result.joinSeed = join
        if result.joinSeed == nil, !result.members.contains(where: { $0.id == id }) {
            result.members.append(NodeConfig.Member(id: id, host: result.peerHost, port: result.peerPort))
        }
        result.partitionCount = partitions ?? result.partitionCount
        if let sync {
            guard let mode = SyncMode(rawValue: sync) else { throw ConfigError("--sync must be full or normal, got \(sync)") }
            result.syncMode = mode
        }
        result.eventLoopThreads = event_loop_threads ?? result.eventLoopThreads
        if let read_repair {
            switch read_repair.lowercased() {
            case "always", "on": result.readRepairProbability = 1
            case "off", "never": result.readRepairProbability = 0
            default:
                guard let probability = Double(read_repair), (0...1).contains(probability) else {
                    throw ConfigError("--read-repair must be always, off or a probability between 0 and 1, got \(read_repair)")
                }
                result.readRepairProbability = probability
            }
        }
        if let interval = anti_entropy_interval_ms {
            guard (0...3_600_000).contains(interval) else {
                throw ConfigError("--anti-entropy-interval must be 0...3600000 ms, got \(interval)")
            }
            result.antiEntropyIntervalMilliseconds = interval
        }
        if let grace = tombstone_grace_ms {
            guard grace >= 1000 else { throw ConfigError("--tombstone-grace must be at least 1000 ms, got \(grace)") }
            result.tombstoneGraceMilliseconds = grace
        }
        if let sloppy_quorum {
            switch sloppy_quorum.lowercased() {
            case "on", "true": result.sloppyQuorum = true
            case "off", "false": result.sloppyQuorum = false
            default: throw ConfigError("--sloppy-quorum must be on or off, got \(sloppy_quorum)")
            }
        }
        switch (tls_cert, tls_key) {
        case (let certificate?, let key?):
            result.tls = TLSFiles(certificatePath: certificate, keyPath: key, caPath: tls_ca)
        case (nil, nil):
            if tls_ca != nil { throw ConfigError("--tls-ca needs --tls-cert and --tls-key: a node presents its own certificate to peers") }
        default:
            throw ConfigError("--tls-cert and --tls-key go together: give both (PEM files from `quorumkv cert issue`)")
        }
        if let peer_tls {
            guard let mode = PeerTLSMode(rawValue: peer_tls.lowercased()) else {
                throw ConfigError("--peer-tls must be off, accept or require, got \(peer_tls)")
            }
            result.peerTLS = mode
        } else {
            // A CA bundle only matters for the peer port, so giving one turns its TLS on.
            result.peerTLS = tls_ca != nil ? .require : .off
        }
        if let tls_handshake_timeout_ms { result.tlsHandshakeTimeoutMilliseconds = tls_handshake_timeout_ms }
        return result
    }

    /// Secure by default: what `ListenerExposure` decides for `config` (this layer's
    /// result) with these settings' `acl` and `insecure`.
    func exposure(of config: NodeConfig) -> ListenerExposure.Decision {
        var listeners = [
            ListenerExposure.Listener(flag: "--http", host: config.httpHost, port: config.httpPort),
            ListenerExposure.Listener(flag: "--peer", host: config.peerHost, port: config.peerPort, isPeer: true),
        ]
        if let port = config.respPort {
            listeners.insert(ListenerExposure.Listener(flag: "--resp", host: config.respHost, port: port), at: 1)
        }
        return ListenerExposure.decide(
            listeners: listeners,
            protection: ListenerExposure.Protection(
                acl: acl != nil, tls: config.tls != nil, tlsCA: config.tls?.caPath != nil,
                peerTLSOff: config.peerTLS == .off, insecure: insecure ?? false))
    }
}
