import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import QuorumNode
import XCTest

/// A real QuorumKV cluster for tests: separate `quorumkv serve` processes on loopback,
/// each with its own SQLite directory under a fresh temporary folder.
final class ClusterHarness: @unchecked Sendable {
    struct NodeInfo {
        var id: String
        var httpPort: Int
        var peerPort: Int
        /// RESP (Redis protocol) port, for redis-cli and Redis client libraries.
        var respPort: Int
        var directory: String
        var process: Process?
        /// The peer address this node joins through; nil for a founder given the member list.
        var joinSeed: String?
    }

    let root: String
    private(set) var nodes: [NodeInfo]
    private let executable: String

    /// Flags every node gets besides its addresses (e.g. a faster anti-entropy interval).
    private let extraArguments: [String]
    /// The address the HTTP and RESP listeners bind (peers stay on loopback); clients
    /// always connect through 127.0.0.1.
    let clientBindHost: String
    /// Flags of one node by id, after `extraArguments` (its certificate, its --peer-tls);
    /// change an entry and `restart` the node to roll a setting through the cluster.
    var nodeArguments: [String: [String]]
    /// Set when the HTTP ports serve HTTPS: the client context trusting the test CA.
    var httpsTrust: NIOSSLContext?

    /// Starts `count` nodes and waits until every one answers `/health` and, when
    /// `waitForPeers`, until every node reaches every peer.
    init(
        nodes count: Int, extraArguments: [String] = [], nodeArguments: [String: [String]] = [:],
        httpsTrust: NIOSSLContext? = nil, waitForPeers: Bool = true, root: String? = nil, clientBindHost: String = "127.0.0.1",
        file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        self.extraArguments = extraArguments
        self.clientBindHost = clientBindHost
        self.nodeArguments = nodeArguments
        self.httpsTrust = httpsTrust
        executable = try Self.quorumkvBinary()
        let root = root ?? NSTemporaryDirectory() + "quorumkv-it-\(UUID().uuidString.prefix(8))"
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let ports = try Self.freePorts(count * 3)
        nodes = (0..<count).map { index in
            NodeInfo(
                id: "node\(index + 1)", httpPort: ports[index * 3], peerPort: ports[index * 3 + 1],
                respPort: ports[index * 3 + 2], directory: "\(root)/node\(index + 1)")
        }
        for index in nodes.indices { try launch(index) }
        for index in nodes.indices { try await waitUntilHealthy(index) }
        if waitForPeers { try await waitUntilConnected() }
    }

    /// Waits until every node has reached every peer: nodes start one after another, so
    /// the first ones' early connects are refused and back off, and a test's first
    /// all-replica write could otherwise meet a peer link still backing off.
    func waitUntilConnected(seconds: Double = 30) async throws {
        let expected = nodes.count - 1
        try await eventually("every node reaches its \(expected) peers", seconds: seconds) {
            for index in self.nodes.indices {
                let health = try await self.client(index).request("GET", "/health", timeoutMilliseconds: 1000)
                let peers = health.json["peers"] as? [[String: Any]] ?? []
                guard peers.count == expected, peers.allSatisfy({ $0["reachable"] as? Bool == true }) else { return false }
            }
            return true
        }
    }

    func endpoint(_ index: Int) -> String { "\(httpsTrust == nil ? "http" : "https")://127.0.0.1:\(nodes[index].httpPort)" }

    func client(_ index: Int) -> TestClient { TestClient(base: endpoint(index), tls: httpsTrust) }

    func respPort(_ index: Int) -> Int { nodes[index].respPort }

    func launch(_ index: Int) throws {
        let node = nodes[index]
        try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
        let log = "\(node.directory)/node.log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "serve", "--node-id", node.id, "--http", "\(clientBindHost):\(node.httpPort)", "--peer", "127.0.0.1:\(node.peerPort)",
            "--resp", "\(clientBindHost):\(node.respPort)", "--data-dir", node.directory, "--log-level", "warning",
        ] + membershipArguments(for: node) + extraArguments + (nodeArguments[node.id] ?? [])
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        nodes[index].process = process
    }

    /// Founders get the founders' member list; a node added later joins through its seed.
    private func membershipArguments(for node: NodeInfo) -> [String] {
        if let seed = node.joinSeed { return ["--join", seed] }
        return nodes.filter { $0.joinSeed == nil }.flatMap { ["--member", "\($0.id)=127.0.0.1:\($0.peerPort)"] }
    }

    /// Starts one more node that joins the cluster through node `seed`'s peer address;
    /// returns its index once it answers `/health` (it is then `joining`).
    func addNode(joiningThrough seed: Int) async throws -> Int {
        let ports = try Self.freePorts(3)
        let index = nodes.count
        nodes.append(
            NodeInfo(
                id: "node\(index + 1)", httpPort: ports[0], peerPort: ports[1], respPort: ports[2],
                directory: "\(root)/node\(index + 1)", joinSeed: "127.0.0.1:\(nodes[seed].peerPort)"))
        try launch(index)
        try await waitUntilHealthy(index, seconds: 60)
        return index
    }

    /// Waits for node `index`'s process to end by itself (a node that left); returns its exit code.
    func waitForExit(_ index: Int, seconds: Double) async throws -> Int32 {
        guard let process = nodes[index].process else { throw HarnessError("node \(nodes[index].id) is not running") }
        try await eventually("node \(nodes[index].id) exits", seconds: seconds) { !process.isRunning }
        nodes[index].process = nil
        return process.terminationStatus
    }

    func waitUntilHealthy(_ index: Int, seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let response = try? await client(index).request("GET", "/health", timeoutMilliseconds: 1000), response.status == 200 {
                return
            }
            if let process = nodes[index].process, !process.isRunning {
                throw HarnessError("node \(nodes[index].id) exited during start-up:\n\(log(index))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("node \(nodes[index].id) did not become healthy in \(seconds) s:\n\(log(index))")
    }

    /// Sends a signal: SIGKILL to crash, SIGSTOP/SIGCONT to freeze and thaw.
    func signal(_ index: Int, _ signalNumber: Int32) {
        guard let process = nodes[index].process else { return }
        kill(process.processIdentifier, signalNumber)
        if signalNumber == SIGKILL || signalNumber == SIGTERM {
            process.waitUntilExit()
            nodes[index].process = nil
        }
    }

    /// Starts node `index` again on its data directory; a process of it still running is
    /// killed first (SIGKILL, as a crash), so the node that answers is the new one and no
    /// process outlives the harness.
    func restart(_ index: Int) async throws {
        if let process = nodes[index].process, process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try launch(index)
        try await waitUntilHealthy(index)
    }

    func log(_ index: Int) -> String {
        (try? String(contentsOfFile: "\(nodes[index].directory)/node.log", encoding: .utf8)) ?? "(no log)"
    }

    /// Kills every node and removes the data.
    func shutdown() {
        for index in nodes.indices {
            if let process = nodes[index].process, process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            nodes[index].process = nil
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The `quorumkv` binary built beside the test bundle.
    static func quorumkvBinary() throws -> String {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("quorumkv").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw HarnessError("no quorumkv binary beside \(testBinary); run `swift build --build-tests` first")
    }

    /// Ports the kernel hands out as free; bound and released at once.
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        var ports: [Int] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutablePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else {
                        throw HarnessError("could not find a free port")
                    }
                }
            }
            sockets.append(fd)
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Waits for `condition` to hold, checking every 50 ms, for at most `seconds`.
func eventually(
    _ what: String, seconds: Double = 10, _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw HarnessError("timed out after \(seconds) s waiting until \(what)")
}
