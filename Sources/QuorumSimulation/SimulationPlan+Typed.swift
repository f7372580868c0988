import QuorumCore

/// The typed clients' requests (issue #16): updates and reads of the counter, set and map
/// buckets, with per-request n/r/w, timeouts and sloppy quorums drawn as the other
/// clients' are. Which element a remove names is left to the client at run time (one it
/// added and last read present), so a plan stays valid when shrinking drops steps.
extension SimulationPlan {
    static func drawTypedOperation(config: SimulationConfig, mix: FaultMix, using random: inout SplitMix64) -> Operation {
        let buckets = [SimulatedBuckets.counter, SimulatedBuckets.set, SimulatedBuckets.map]
        let bucket = buckets[Int(random.below(UInt64(buckets.count)))]
        let kinds: [Operation.Kind]
        switch bucket {
        case SimulatedBuckets.counter: kinds = [.typedRead, .typedRead, .increment, .increment, .increment]
        case SimulatedBuckets.set: kinds = [.typedRead, .typedReadSome, .setAdd, .setAdd, .setAdd, .setRemove, .setRemoveObserved]
        default: kinds = [.typedRead, .typedReadSome, .mapSetField, .mapSetField, .mapIncrementField, .mapIncrementField, .mapRemoveField]
        }
        let kind = kinds[Int(random.below(UInt64(kinds.count)))]
        let (key, options, sloppy) = drawTarget(in: bucket, config: config, mix: mix, using: &random)
        // Increments of 1–5; on the counter one in four a decrement, so both halves of the
        // PN-counter move. The map's counter field only grows: its increments carry no
        // operation id, so a duplicated message counts twice, and only growth keeps the
        // lower bound (nothing acknowledged lost) checkable in mixes that duplicate.
        var amount: Int64 = 0
        if kind == .increment || kind == .mapIncrementField {
            let decrement = kind == .increment && random.below(4) == 0
            amount = Int64(1 + random.below(5)) * (decrement ? -1 : 1)
        }
        return Operation(
            kind: kind, bucket: bucket, key: key, node: Int(random.below(UInt64(config.nodeCount))), options: options,
            sloppy: sloppy, thinkMilliseconds: thinkTime(mix: mix, using: &random), amount: amount)
    }
}
