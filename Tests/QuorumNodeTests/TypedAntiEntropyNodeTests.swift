import Foundation
import Logging
import QuorumCore
import XCTest

@testable import QuorumNode

/// Typed keys repaired between real nodes (issue #16): three `Node`s in this process over
/// loopback TCP, each with its own SQLite store. A set is updated while one replica is
/// stopped; after it restarts, anti-entropy alone (no reads are made, and with three
/// nodes and n = 3 there is no stand-in to hold hints) brings its rows level with the
/// others', and the set reads as the updates left it. On the way, `FLUSHDB` of the typed
/// bucket and `FLUSHALL` are refused.
///
/// In process rather than through `ClusterHarness`, because this branch has no client
/// interface (RESP or HTTP) for typed updates yet; the service API the interfaces call is
/// the one used here.
final class TypedAntiEntropyNodeTests: XCTestCase {
    private let logger = Logger(label: "typed-anti-entropy-test") { _ in SwiftLogNoOpLogHandler() }
    /// How long anti-entropy may take to converge the replicas.
    private let convergeSeconds = 60.0
    /// How often the replicas' Merkle roots are compared while waiting.
    private let pollMilliseconds: UInt64 = 100
    private let bucket = "tags"

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func configs(root: String) throws -> [NodeConfig] {
        let ports = try Self.freePorts(6)
        let members = (0..<3).map { NodeConfig.Member(id: "node\($0 + 1)", host: "127.0.0.1", port: ports[$0 * 2 + 1]) }
        return (0..<3).map { index in
            var config = NodeConfig(nodeID: "node\(index + 1)")
            config.httpPort = ports[index * 2]
            config.peerPort = ports[index * 2 + 1]
            config.members = members
            config.dataDirectory = "\(root)/node\(index + 1)"
            config.partitionCount = 8
            config.eventLoopThreads = 1
            config.antiEntropyIntervalMilliseconds = 50
            return config
        }
    }

    func testAnUpdateARestartedReplicaMissedReachesItByAntiEntropy() async throws {
        let root = NSTemporaryDirectory() + "typed-ae-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configs = try configs(root: root)
        var nodes: [Node] = []
        for config in configs {
            let node = try Node(config: config, logger: logger)
            _ = try await node.start()
            nodes.append(node)
        }
        var stopped = false
        defer { if !stopped { let all = nodes; Task { for node in all { await node.stop() } } } }

        // Creating a typed bucket needs every member's confirmation: retried while the peers connect.
        let created = Date().addingTimeInterval(convergeSeconds)
        while true {
            do {
                _ = try await nodes[0].service.setBucketProps(bucket: bucket, update: BucketPropsUpdate(datatype: .set))
                break
            } catch {
                guard Date() < created else { throw error }
                try await Task.sleep(nanoseconds: pollMilliseconds * 1_000_000)
            }
        }
        // Neither FLUSHDB of the typed bucket nor FLUSHALL truncates anything: both are refused.
        for target in [bucket, nil] as [String?] {
            do {
                _ = try await nodes[1].service.truncate(bucket: target)
                XCTFail("truncating \(target ?? "every bucket") with a typed bucket was not refused")
            } catch {
                guard case .badParameter(_, let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("typed bucket \(bucket)"), message)
            }
        }
        // A key node1 leads (first on its preference list), so the stopped node3 is never asked to lead.
        let ring = Ring(members: configs.map(\.nodeID), partitionCount: 8)
        let key = try XCTUnwrap((0..<1000).lazy.map { self.bytes("cart-\($0)") }.first {
            ring.preferenceList(partition: ring.partition(bucket: self.bucket, key: $0), n: 3).first == "node1"
        })
        let all = RequestOptions(w: .all)
        _ = try await nodes[0].service.updateType(bucket: bucket, key: key, operation: .setAdd([bytes("a"), bytes("b")]), options: all)

        await nodes[2].stop()
        let two = RequestOptions(w: .count(2))
        let added = try await nodes[0].service.updateType(bucket: bucket, key: key, operation: .setAdd([bytes("c")]), options: two)
        XCTAssertEqual(added.acks, 2)
        _ = try await nodes[0].service.updateType(bucket: bucket, key: key, operation: .setRemove([bytes("a")]), options: two)
        let before = await nodes[0].service.status().antiEntropy.roots
        let restarted = try Node(config: configs[2], logger: logger)
        _ = try await restarted.start()
        nodes[2] = restarted
        let missed = await restarted.service.status().antiEntropy.roots
        XCTAssertNotEqual(missed, before, "node3 missed the updates")

        let deadline = Date().addingTimeInterval(convergeSeconds)
        var roots: [[String: String]] = []
        while Date() < deadline {
            roots = []
            for node in nodes { roots.append(await node.service.status().antiEntropy.roots) }
            if roots.allSatisfy({ $0 == roots[0] && $0.count == 8 }) { break }
            try await Task.sleep(nanoseconds: pollMilliseconds * 1_000_000)
        }
        XCTAssertTrue(roots.allSatisfy { $0 == roots[0] }, "replicas did not converge within \(convergeSeconds) s: \(roots)")
        var repaired = 0
        for node in nodes { repaired += await node.service.status().antiEntropy.keysRepaired }
        XCTAssertGreaterThan(repaired, 0, "anti-entropy did the repair")

        // Node3 alone answers as the others do.
        for node in nodes.prefix(2) { await node.stop() }
        let read = try await restarted.service.readType(bucket: bucket, key: key, members: .all, options: RequestOptions(r: .count(1)))
        XCTAssertEqual(read.state?.setElements, [bytes("b"), bytes("c")], "a removed, c added, on the restarted replica")
        await restarted.stop()
        stopped = true
    }

    /// Ports the kernel hands out as free; bound and released at once.
    private static func freePorts(_ count: Int) throws -> [Int] {
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
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
                }
            }
            guard bound else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "no free port"]) }
            sockets.append(fd)
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
