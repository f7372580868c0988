/// How a bucket's keys are kept consistent.
public enum BucketConsistency: String, Sendable, Equatable, Codable, CaseIterable {
    /// Dynamo-style: per-request n/w/r, sloppy quorums, hints, siblings or last-writer-wins.
    case eventual
    /// Every read and write of a key goes through per-key Paxos over its primaries and is
    /// linearizable (issue #17); conditional writes (compare-and-set) are offered.
    case strong
}
