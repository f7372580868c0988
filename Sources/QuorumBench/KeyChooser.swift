import QuorumCore

/// How a workload picks the key of each operation.
public enum KeyDistribution: String, Codable, CaseIterable, Sendable {
    /// Every record equally likely.
    case uniform
    /// Scrambled Zipfian (theta 0.99): a few hot records take most operations.
    case zipfian
    /// Reads favour the most recently written records (Zipfian over recency, like YCSB's
    /// "latest"); writes pick uniformly, so recency keeps moving. Reads then often follow a
    /// write to the same key closely, which is what the stale-read figures need.
    case latest

    public static func parse(_ text: String) throws -> KeyDistribution {
        guard let distribution = KeyDistribution(rawValue: text.lowercased()) else {
            throw BenchError.usage("unknown key distribution '\(text)'; use uniform, zipfian or latest")
        }
        return distribution
    }
}

/// Picks record indices for one load generator. Seeded, so a run's key sequence replays.
/// Confined to the load generator's event loop.
public struct KeyChooser: Sendable {
    public let recordCount: Int
    public let distribution: KeyDistribution
    private var random: SplitMix64
    private let zipfian: ZipfianGenerator?
    /// The most recently written records, newest at `recentNext - 1`. Bounded so `latest`
    /// costs constant memory whatever the run length.
    private var recent: [Int32]
    private var recentNext = 0
    private var recentFilled = 0
    private let recencyZipfian: ZipfianGenerator?
    /// How many recent writes `latest` remembers.
    public static let recentCapacity = 1024

    public init(recordCount: Int, distribution: KeyDistribution, seed: UInt64) {
        precondition(recordCount >= 1)
        self.recordCount = recordCount
        self.distribution = distribution
        random = SplitMix64(seed: seed)
        zipfian = distribution == .zipfian ? ZipfianGenerator(count: recordCount) : nil
        let capacity = min(Self.recentCapacity, recordCount)
        recent = distribution == .latest ? [Int32](repeating: 0, count: capacity) : []
        recencyZipfian = distribution == .latest ? ZipfianGenerator(count: capacity) : nil
    }

    /// A uniform draw in [0, 1), shared with the workload's operation choice.
    public mutating func unit() -> Double {
        Double(random.next() >> 11) * 0x1.0p-53
    }

    public mutating func keyForRead() -> Int {
        switch distribution {
        case .uniform: return uniformIndex()
        case .zipfian: return zipfian!.nextScrambled(uniform: unit())
        case .latest:
            guard recentFilled > 0, let recency = recencyZipfian else { return uniformIndex() }
            let back = recency.next(uniform: unit()) % recentFilled
            let slot = (recentNext - 1 - back + recent.count) % recent.count
            return Int(recent[slot])
        }
    }

    public mutating func keyForWrite() -> Int {
        switch distribution {
        case .uniform, .latest: return uniformIndex()
        case .zipfian: return zipfian!.nextScrambled(uniform: unit())
        }
    }

    /// Tells `latest` that a record was just written.
    public mutating func noteWritten(_ index: Int) {
        guard distribution == .latest else { return }
        recent[recentNext] = Int32(index)
        recentNext = (recentNext + 1) % recent.count
        recentFilled = min(recentFilled + 1, recent.count)
    }

    private mutating func uniformIndex() -> Int {
        Int(random.next() % UInt64(recordCount))
    }
}
