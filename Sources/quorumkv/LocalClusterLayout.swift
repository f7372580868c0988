import Foundation

/// Where a local cluster's nodes listen, kept in `<data>/cluster.json` so running
/// `cluster up` again in the same folder restarts the same nodes on their data.
struct LocalClusterLayout: Codable, Equatable {
    struct NodeLayout: Codable, Equatable {
        var id: String
        var httpPort: Int
        var peerPort: Int
    }

    var host: String
    var partitions: Int
    var nodes: [NodeLayout]

    static func fresh(nodeCount: Int, host: String, httpPortBase: Int, peerPortBase: Int, partitions: Int) -> LocalClusterLayout {
        LocalClusterLayout(
            host: host, partitions: partitions,
            nodes: (1...nodeCount).map { index in
                NodeLayout(id: "node\(index)", httpPort: httpPortBase + index - 1, peerPort: peerPortBase + index - 1)
            })
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
