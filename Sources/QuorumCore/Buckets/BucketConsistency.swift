/// How a bucket's keys are kept consistent.
///
/// The raw value is the JSON spelling (`"consistency": "strong"` in bucket props and
/// HTTP); `wireByte` is the byte `BucketProps` version 4 carries.
public enum BucketConsistency: String, Sendable, Equatable, Codable, CaseIterable {
    /// Dynamo-style: per-request n/w/r, sloppy quorums, hints, siblings or last-writer-wins.
    case eventual
    /// Every read and write of a key goes through per-key Paxos over its primaries and is
    /// linearizable (issue #17); conditional writes (compare-and-set) are offered.
    case strong

    public var wireByte: UInt8 {
        switch self {
        case .eventual: return 0
        case .strong: return 1
        }
    }

    public init?(wireByte: UInt8) {
        switch wireByte {
        case 0: self = .eventual
        case 1: self = .strong
        default: return nil
        }
    }
}
