import Foundation

/// Draws item indices 0..<count with a Zipfian distribution (YCSB's generator, Gray et al.,
/// "Quickly generating billion-record synthetic databases"): item 0 is the most popular.
/// `zeta(count)` is computed once at construction, O(count); everything after is O(1).
public struct ZipfianGenerator: Sendable {
    public let count: Int
    public let theta: Double
    private let zetaN: Double
    private let alpha: Double
    private let eta: Double
    private let halfPowTheta: Double

    /// YCSB's default skew.
    public static let defaultTheta = 0.99

    public init(count: Int, theta: Double = ZipfianGenerator.defaultTheta) {
        precondition(count >= 1, "a Zipfian generator needs at least one item")
        self.count = count
        self.theta = theta
        var zeta = 0.0
        for index in 1...count { zeta += 1.0 / pow(Double(index), theta) }
        zetaN = zeta
        let zeta2 = 1.0 + 1.0 / pow(2.0, theta)
        alpha = 1.0 / (1.0 - theta)
        eta = count == 1 ? 0 : (1.0 - pow(2.0 / Double(count), 1.0 - theta)) / (1.0 - zeta2 / zeta)
        halfPowTheta = pow(0.5, theta)
    }

    /// An index in 0..<count, from a uniform draw `u` in [0, 1).
    public func next(uniform u: Double) -> Int {
        let uz = u * zetaN
        if uz < 1.0 { return 0 }
        if uz < 1.0 + halfPowTheta { return min(1, count - 1) }
        let index = Int(Double(count) * pow(eta * u - eta + 1.0, alpha))
        return min(max(index, 0), count - 1)
    }

    /// Like `next`, with the popular items spread over the key space (YCSB's "scrambled
    /// zipfian"), so hot keys don't sit next to each other on the ring.
    public func nextScrambled(uniform u: Double) -> Int {
        Int(Self.fnv1a(UInt64(next(uniform: u))) % UInt64(count))
    }

    static func fnv1a(_ value: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var remaining = value
        for _ in 0..<8 {
            hash ^= remaining & 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
            remaining >>= 8
        }
        return hash
    }
}
