import ArgumentParser
import Dispatch
import Foundation
import QuorumNode
import QuorumTLS

struct ClusterUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local cluster on loopback, one process per node, and wait.",
        discussion: """
            Nodes keep their data under --data (./data by default): <data>/<node>/quorumkv.sqlite,
            with each node's log in <data>/<node>/node.log. Run it again in the same folder and
            the same nodes restart on their data. Ctrl-C or SIGTERM stops every node.

            --secure runs the cluster as a secured deployment would: HTTPS,
            RESP over TLS and mutual TLS between nodes, and users. The first
            secured run in a folder creates, in --data: a development CA
            (ca.pem, ca-key.pem), each node's certificate and key (tls/), an
            ACL (acl.txt) whose one user `admin` may do everything, that
            user's random password (admin.password) and a netrc file for curl
            (admin.netrc); secrets are mode 0600. Later runs reuse every file;
            the password is never replaced. A folder once secured stays
            secured: later runs start it secured with or without --secure. The
            nodes still listen on loopback only.

            Examples:
              quorumkv cluster up
              quorumkv cluster up --nodes 5 --data /tmp/qkv
              quorumkv cluster up --http-port 18081 --peer-port 19081 --resp-port 16381
              quorumkv cluster up --secure --data ./secure-data
            
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

    @Flag(help: "TLS on every port and users (an admin with a generated password); the files are made in --data on the first run and reused after. A secured folder stays secured.")
    var secure = false

    func validate() throws {
        guard (1...64).contains(nodes) else { throw ValidationError("--nodes must be 1...64, got \(nodes)") }
        guard ["full", "normal"].contains(sync) else { throw ValidationError("--sync must be full or normal") }
        guard partitions > 0, partitions & (partitions - 1) == 0 else {
            throw ValidationError("--partitions must be a power of two, got \(partitions)")
        }
    }

    func run() async throws {
        let layout = try loadOrCreateLayout()
        let files = SecureClusterFiles(folder: data)
        let secured = layout.secure == true
        if secured {
            do {
                let made = try files.prepare(nodes: layout.nodes.map(\.id), host: layout.host)
                for path in made { say("created \(path)") }
            } catch {
                say("error: \(error)")
                throw ExitCode(1)
            }
        }
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
            ] + layout.memberArguments + (secured ? files.serveArguments(node: node.id) : [])
            try supervisor.launch(
                name: node.id, executable: executable, arguments: arguments,
                logPath: (directory as NSString).appendingPathComponent("node.log"))
        }
        supervisor.stopOnSignals()
        do {
            try await waitUntilHealthy(layout, trust: secured ? files.caPath : nil)
        } catch {
            say("error: \(error)")
            supervisor.stopAll()
            await supervisor.waitForAll()
            throw ExitCode(1)
        }
        if secured { printSecuredEndpoints(layout, files: files) } else { printEndpoints(layout) }
        await supervisor.waitForAll()
        say("cluster stopped")
    }

    private func loadOrCreateLayout() throws -> LocalClusterLayout {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let path = (data as NSString).appendingPathComponent("cluster.json")
        if let saved = try LocalClusterLayout.load(from: path) {
            say("restarting the \(saved.nodes.count)-node cluster saved in \(path)")
            var (existing, changed) = saved.withRESPPorts(base: respPort)
            if secure, existing.secure != true {
                say("securing it: from now on it runs with TLS and users")
                existing.secure = true
                changed = true
            } else if existing.secure == true, !secure {
                say("it was set up with --secure, so it stays secured (TLS and users)")
            }
            if changed { try existing.save(to: path) }
            return existing
        }
        var layout = LocalClusterLayout.fresh(
            nodeCount: nodes, host: "127.0.0.1", httpPortBase: httpPort, peerPortBase: peerPort, respPortBase: respPort,
            partitions: partitions)
        if secure { layout.secure = true }
        try layout.save(to: path)
        return layout
    }

    /// Waits until every node answers `/health` (open without a login), over HTTPS trusting
    /// only the CA at `trust` when given.
    private func waitUntilHealthy(_ layout: LocalClusterLayout, trust: String?) async throws {
        let deadline = Date().addingTimeInterval(TimeInterval(startupTimeout))
        let context = try trust.map { try TLSMaterial.clientContext(trusting: $0) }
        let scheme = trust == nil ? "http" : "https"
        for node in layout.nodes {
            let url = "\(scheme)://\(layout.host):\(node.httpPort)"
            let client = KVHTTPClient(baseURL: url, tls: context)
            while true {
                if (try? await client.health()) != nil { break }
                guard Date() < deadline else {
                    throw ValidationError(
                        "\(node.id) did not answer on \(url)/health within \(startupTimeout) s; see \(data)/\(node.id)/node.log")
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

    /// The addresses and how to log in with each client: the password stays in its file,
    /// read by the client or by `$(cat …)`, never printed.
    private func printSecuredEndpoints(_ layout: LocalClusterLayout, files: SecureClusterFiles) {
        say("QuorumKV cluster of \(layout.nodes.count) node(s) is up, secured (data in \(data)):")
        for node in layout.nodes {
            say("  \(node.id)  https://\(layout.host):\(node.httpPort)  rediss://\(layout.host):\(node.respPort ?? respPort)")
        }
        let first = "https://\(layout.host):\(layout.nodes[0].httpPort)"
        say("""

            Log in as \(SecureClusterFiles.adminUser); the password is in \(files.passwordPath) (mode 0600), the CA in \(files.caPath):
              export QUORUMKV_CACERT=\(files.caPath)
              quorumkv put greeting hello --w 2 --endpoint \(first) --user admin --password-file \(files.passwordPath)
              quorumkv get greeting --r 2 --endpoint \(first) --user admin --password-file \(files.passwordPath)
              curl --cacert \(files.caPath) --netrc-file \(files.netrcPath) '\(first)/kv/default/greeting?r=quorum'
              REDISCLI_AUTH="$(cat \(files.passwordPath))" redis-cli --tls --cacert \(files.caPath) --user admin -p \(layout.nodes[0].respPort ?? respPort) GET greeting
            Add users with `quorumkv user add NAME --acl \(files.aclPath) …`, then reload the nodes (SIGHUP).

            Press Ctrl-C to stop every node.
            """)
    }

    /// The path of this very binary, so child nodes run the same build.
    static func ownExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}
