import Foundation
import NIOCore

/// A local QuorumKV cluster the harness starts for itself: `quorumkv serve` processes of
/// the same binary on loopback, data in a fresh temporary folder removed at the end.
/// Node i (from 0) listens on HTTP base+i, peer base+100+i and RESP base+200+i.
public final class LocalBenchCluster: @unchecked Sendable {
    public let nodes: [ChildProcess]
    public let respEndpoints: [BenchTarget.Endpoint]
    /// The first node's HTTP API (`https://` with TLS; its client context is the RESP
    /// endpoints' one), for bucket props the harness sets (typed workloads).
    public let httpBaseURL: String
    public let directory: String
    private let keepData: Bool
    private let guardian: OrphanGuard
    /// Seconds every node gets to answer PING after starting.
    static let startupSeconds = 60.0
    /// Seconds every node gets, after the strong bucket is made, to take a strong write
    /// (its acceptor votes once its fresh store has caught up).
    static let strongReadySeconds = 60.0

    public static func ports(nodeCount: Int, basePort: Int) -> [Int] {
        (0..<nodeCount).flatMap { [basePort + $0, basePort + 100 + $0, basePort + 200 + $0] }
    }

    public static func start(
        executable: String, nodeCount: Int, basePort: Int, sync: String, eventLoopThreads: Int?,
        extraArguments: [String], keepData: Bool, tls: Bool = false, eventLoop: EventLoop
    ) async throws -> LocalBenchCluster {
        try PortCheck.requireFree(ports(nodeCount: nodeCount, basePort: basePort))
        let directory = NSTemporaryDirectory() + "quorumkv-bench-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let members = (0..<nodeCount).flatMap { ["--member", "node\($0 + 1)=127.0.0.1:\(basePort + 100 + $0)"] }
        var nodes: [ChildProcess] = []
        var endpoints: [BenchTarget.Endpoint] = []
        do {
            let certificates = try tls ? BenchCertificates.make(directory: directory + "/tls", nodeCount: nodeCount) : nil
            for index in 0..<nodeCount {
                let id = "node\(index + 1)"
                let data = directory + "/" + id
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                var arguments = [
                    "serve", "--node-id", id, "--http", "127.0.0.1:\(basePort + index)",
                    "--peer", "127.0.0.1:\(basePort + 100 + index)", "--resp", "127.0.0.1:\(basePort + 200 + index)",
                    "--data-dir", data, "--sync", sync, "--log-level", "warning",
                ] + members
                if let eventLoopThreads { arguments += ["--event-loop-threads", String(eventLoopThreads)] }
                if let certificates { arguments += certificates.serveArguments(nodeID: id) }
                arguments += extraArguments
                nodes.append(try ChildProcess(name: id, executable: executable, arguments: arguments, logPath: data + "/node.log"))
                endpoints.append(BenchTarget.Endpoint(host: "127.0.0.1", port: basePort + 200 + index, tls: certificates?.client))
            }
            for (node, endpoint) in zip(nodes, endpoints) {
                try await ServerReadiness.waitForPing(endpoint, eventLoop: eventLoop, seconds: startupSeconds, process: node)
            }
        } catch {
            for node in nodes { await node.stop() }
            if !keepData { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
        return LocalBenchCluster(
            nodes: nodes, respEndpoints: endpoints, httpBaseURL: "\(tls ? "https" : "http")://127.0.0.1:\(basePort)",
            directory: directory, keepData: keepData)
    }

    private init(
        nodes: [ChildProcess], respEndpoints: [BenchTarget.Endpoint], httpBaseURL: String, directory: String, keepData: Bool
    ) {
        self.httpBaseURL = httpBaseURL
        self.nodes = nodes
        self.respEndpoints = respEndpoints
        self.directory = directory
        self.keepData = keepData
        guardian = OrphanGuard(pids: nodes.map(\.pid), removing: keepData ? nil : directory)
    }

    public func stop() async {
        guardian.disarm()
        for node in nodes { await node.stop() }
        if !keepData { try? FileManager.default.removeItem(atPath: directory) }
    }

    public func killNow() { for node in nodes { node.killNow() } }
}
