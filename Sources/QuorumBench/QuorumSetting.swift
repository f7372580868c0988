import Foundation

/// One consistency setting of the sweep: how many replicas hold a key (n), how many must
/// acknowledge a write (w) and how many must answer a read (r).
public struct QuorumSetting: Codable, Hashable, Sendable, CustomStringConvertible {
    public var n: Int
    public var w: Int
    public var r: Int

    public init(n: Int, w: Int, r: Int) {
        self.n = n
        self.w = w
        self.r = r
    }

    /// Read and write quorums overlap, so a read that begins after a write was acknowledged
    /// must see it (with no faults and no clock anomalies): the harness expects no stale reads.
    public var quorumsOverlap: Bool { w + r > n }

    public var description: String { "n=\(n) w=\(w) r=\(r)" }
    public var label: String { "w\(w)r\(r)" }

    /// The sweep for a given n. For n = 3 these are the seven settings of the issue; for
    /// other n the same shape: the weakest, both quorums, and each side at its extremes.
    public static func defaultSweep(n: Int) -> [QuorumSetting] {
        if n == 3 {
            return [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (1, 3), (3, 3)].map { QuorumSetting(n: 3, w: $0.0, r: $0.1) }
        }
        let quorum = n / 2 + 1
        let pairs = [(1, 1), (1, quorum), (quorum, 1), (quorum, quorum), (n, 1), (1, n), (n, n)]
        var seen = Set<QuorumSetting>()
        return pairs.map { QuorumSetting(n: n, w: $0.0, r: $0.1) }.filter { seen.insert($0).inserted }
    }

    /// Parses "w,r" (for the given n), e.g. "2,2".
    public static func parse(_ text: String, n: Int) throws -> QuorumSetting {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let w = Int(parts[0]), let r = Int(parts[1]) else {
            throw BenchError.usage("a setting is w,r such as 2,2; got '\(text)'")
        }
        guard (1...n).contains(w), (1...n).contains(r) else {
            throw BenchError.usage("w and r must be 1...n (n=\(n)); got '\(text)'")
        }
        return QuorumSetting(n: n, w: w, r: r)
    }
}
