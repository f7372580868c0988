import ArgumentParser
import Dispatch
import Foundation
import QuorumNode

struct ClusterUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local cluster on loopback, one process per node, and wait.",
        discussion: """
            Nodes keep their data under --data (./data by default): <data>/<node>/quorumkv.sqlite,
            with each node's log in <data>/<node>/node.log. Run it again in the same folder and
            the same nodes restart on their data. Ctrl-C or SIGTERM stops every node.

            Examples:
              quorumkv cluster up
              quorumkv cluster up --nodes 5 --data /tmp/qkv
              quorumkv cluster up --http-port 18081 --peer-port 19081 --resp-port 16381
            
            Exit codes:
              0  every node stopped after Ctrl-C or SIGTERM
              1  a node did not start (see its node.log)
              2  usage error: a bad flag
            """
    )

    @Option(help: "Nodes to start on first run (later runs reuse the saved layout).")
    var nodes: Int = 3

    @Option(help: "Folder for every node's data and logs.")
    var data: String = "./data"

    @Option(name: .customLong("http-port"), help: "HTTP port of the first node; the others count up.")
    var httpPort: Int = 8081

    @Option(name: .customLong("peer-port"), help: "Node-to-node port of the first node; the others count up.")
    var peerPort: Int = 9081

    @Option(name: .customLong("resp-port"), help: "RESP (Redis protocol) port of the first node; the others count up.")
    var respPort: Int = 6381

    @Option(help: "Partitions in the ring, a power of two.")
    var partitions: Int = 64

    @Option(help: "SQLite sync level for every node: full or normal.")
    var sync: String = "full"

    @Option(help: "Seconds to wait for every node to answer /health.")
    var startupTimeout: Int = 30

    func validate() throws {
        guard (1...64).contains(nodes) else { throw ValidationError("--nodes must be 1...64, got \(nodes)") }
        guard ["full", "normal"].contains(sync) else { throw ValidationError("--sync must be full or normal") }
        guard partitions > 0, partitions & (partitions - 1) == 0 else {
            throw ValidationError("--partitions must be a power of two, got \(partitions)")
        }
    }

    func run() async throws {
        let layout = try loadOrCreateLayout()
        let supervisor = ProcessSupervisor()
        let executable = try Self.ownExecutable()
        for node in layout.nodes {
            let directory = (data as NSString).appendingPathComponent(node.id)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let arguments = [
                "serve", "--node-id", node.id, "--http", "\(layout.host):\(node.httpPort)",
                "--peer", "\(layout.host):\(node.peerPort)", "--data-dir", directory,
                "--resp", "\(layout.host):\(node.respPort ?? respPort)",
                "--partitions", String(layout.partitions), "--sync", sync,
            ] + layout.memberArguments
            try supervisor.launch(
                name: node.id, executable: executable, arguments: arguments,
                logPath: (directory as NSString).appendingPathComponent("node.log"))
        }
        supervisor.stopOnSignals()
        do {
            try await waitUntilHealthy(layout)
        } catch {
            say("error: \(error)")
            supervisor.stopAll()
            await supervisor.waitForAll()
            throw ExitCode(1)
        }
        printEndpoints(layout)
        await supervisor.waitForAll()
        say("cluster stopped")
    }

    private func loadOrCreateLayout() throws -> LocalClusterLayout {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let path = (data as NSString).appendingPathComponent("cluster.json")
        if let saved = try LocalClusterLayout.load(from: path) {
            say("restarting the \(saved.nodes.count)-node cluster saved in \(path)")
            let (existing, changed) = saved.withRESPPorts(base: respPort)
            if changed { try existing.save(to: path) }
            return existing
        }
        let layout = LocalClusterLayout.fresh(
            nodeCount: nodes, host: "127.0.0.1", httpPortBase: httpPort, peerPortBase: peerPort, respPortBase: respPort,
            partitions: partitions)
        try layout.save(to: path)
        return layout
    }

    private func waitUntilHealthy(_ layout: LocalClusterLayout) async throws {
        let deadline = Date().addingTimeInterval(TimeInterval(startupTimeout))
        for node in layout.nodes {
            let client = KVHTTPClient(baseURL: "http://\(layout.host):\(node.httpPort)")
            while true {
                if (try? await client.health()) != nil { break }
                guard Date() < deadline else {
                    throw ValidationError(
                        "\(node.id) did not answer on http://\(layout.host):\(node.httpPort)/health within \(startupTimeout) s; see \(data)/\(node.id)/node.log")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func printEndpoints(_ layout: LocalClusterLayout) {
        say("QuorumKV cluster of \(layout.nodes.count) node(s) is up (data in \(data)):")
        for node in layout.nodes {
            say("  \(node.id)  http://\(layout.host):\(node.httpPort)  redis://\(layout.host):\(node.respPort ?? respPort)")
        }
        let first = "http://\(layout.host):\(layout.nodes[0].httpPort)"
        say("""

            Try it:
              quorumkv put greeting hello --w 2 --endpoint \(first)
              quorumkv get greeting --r 2 --endpoint \(first)
              curl -X PUT --data-binary hi '\(first)/kv/default/greeting?w=all'
              curl -i '\(first)/kv/default/greeting?r=quorum'
              redis-cli -p \(layout.nodes[0].respPort ?? respPort) GET greeting

            Press Ctrl-C to stop every node.
            """)
    }

    /// The path of this very binary, so child nodes run the same build.
    static func ownExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}
