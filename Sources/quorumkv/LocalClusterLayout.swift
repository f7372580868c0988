import Foundation

/// Where a local cluster's nodes listen, kept in `<data>/cluster.json` so running
/// `cluster up` again in the same folder restarts the same nodes on their data.
struct LocalClusterLayout: Codable, Equatable {
    struct NodeLayout: Codable, Equatable {
        var id: String
        var httpPort: Int
        var peerPort: Int
        /// RESP port; optional so layouts saved before the line protocol still load
        /// (`withRESPPorts` fills it in).
        var respPort: Int?
    }

    var host: String
    var partitions: Int
    var nodes: [NodeLayout]
    /// Set once the cluster was started with `cluster up --secure`: later runs stay secured
    /// (TLS and users), so a cluster never falls back to plaintext by a forgotten flag.
    /// Optional so layouts saved before it still load (nil: not secured).
    var secure: Bool?

    static func fresh(
        nodeCount: Int, host: String, httpPortBase: Int, peerPortBase: Int, respPortBase: Int, partitions: Int
    ) -> LocalClusterLayout {
        LocalClusterLayout(
            host: host, partitions: partitions,
            nodes: (1...nodeCount).map { index in
                NodeLayout(
                    id: "node\(index)", httpPort: httpPortBase + index - 1, peerPort: peerPortBase + index - 1,
                    respPort: respPortBase + index - 1)
            })
    }

    /// This layout with a RESP port for every node that has none (the k-th node gets
    /// `base + k`), and whether anything changed.
    func withRESPPorts(base: Int) -> (layout: LocalClusterLayout, changed: Bool) {
        var result = self
        var changed = false
        for index in result.nodes.indices where result.nodes[index].respPort == nil {
            result.nodes[index].respPort = base + index
            changed = true
        }
        return (result, changed)
    }

    var memberArguments: [String] {
        nodes.flatMap { ["--member", "\($0.id)=\(host):\($0.peerPort)"] }
    }

    static func load(from path: String) throws -> LocalClusterLayout? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(LocalClusterLayout.self, from: data)
    }

    func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
