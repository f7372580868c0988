import QuorumCore

/// The strong clients' requests (issue #17): reads, writes, deletes and compare-and-sets
/// of the strong bucket's few keys. The condition of a compare-and-set is left to the
/// client at run time (the value or etag it last saw), so a plan stays valid when
/// shrinking drops steps.
extension SimulationPlan {
    static func drawStrongOperation(config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64) -> Operation {
        let kinds: [Operation.Kind] = [
            .strongRead, .strongRead, .strongWrite, .strongWrite, .strongDelete, .strongIfEquals, .strongIfEquals,
            .strongIfAbsent, .strongIfMatch, .strongIfMatch,
        ]
        let kind = kinds[Int(random.below(UInt64(kinds.count)))]
        let key = Array("k\(random.below(UInt64(config.strongKeys)))".utf8)
        // No n, r, w, pr or pw: a strong bucket refuses them. Sometimes a short timeout, so
        // operations end undecided ("may still have been applied") and finish later.
        var options = RequestOptions()
        if random.below(5) == 0 { options.timeoutMilliseconds = 10 + random.below(300) }
        return Operation(
            kind: kind, bucket: SimulatedBuckets.strong, key: key, node: Int(random.below(UInt64(config.nodeCount))),
            options: options, thinkMilliseconds: strongThinkTime(using: &random))
    }

    /// Up to 100 ms, a third of requests at once: strong clients are few, so they follow
    /// each other closely to keep several proposers on one key at a time.
    static func strongThinkTime(using random: inout SplitMix64) -> UInt64 {
        random.below(3) == 0 ? 0 : random.below(100)
    }
}
