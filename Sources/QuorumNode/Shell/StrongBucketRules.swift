import QuorumCore

/// What a props change may do to a strongly consistent bucket (issue #17), checked before
/// anything is stored or sent.
///
/// Consistency is fixed when a bucket is created, like its datatype: a strong key's
/// stored form is its latest commit, and its clients were promised linearizability, so
/// neither can change under data. A strong bucket's n is fixed too: its keys' n primaries
/// hold the promises and commits, and a new n would make a different set of primaries
/// the majority without them. A strong bucket offers no expiry and no counters, sets or
/// maps. r, w and conflict are accepted and unused (every strong request needs a majority
/// of the primaries and settles by ballot).
enum StrongBucketRules {
    /// Throws `bad_parameter` when `update` may not be applied to `bucket`, whose props
    /// are `current` (`configured`: someone set them, so the bucket exists).
    static func check(
        _ update: BucketPropsUpdate, bucket: String, current: BucketProps, configured: Bool
    ) throws(KVError) {
        let strongAlready = current.consistency == .strong
        switch update.consistency {
        case .strong? where !strongAlready && configured:
            throw .badParameter(
                name: "consistency",
                message: "bucket \(bucket) already exists as an eventual bucket, and a bucket's consistency is fixed when it "
                    + "is created; use a new bucket name for strong keys")
        case .eventual? where strongAlready:
            throw .badParameter(
                name: "consistency",
                message: "bucket \(bucket) is strong, and a bucket's consistency is fixed when it is created; "
                    + "use another bucket for eventual keys")
        default:
            break
        }
        guard strongAlready || update.consistency == .strong else { return }
        if let datatype = update.datatype {
            throw .badParameter(
                name: "datatype",
                message: "a strong bucket holds plain values: \(datatype.rawValue)s are not offered in one; "
                    + "use an eventual bucket with datatype \(datatype.rawValue)")
        }
        if let ttl = update.ttlSeconds, ttl != 0 {
            throw .badParameter(
                name: "ttl_seconds",
                message: "a strong bucket offers no expiry (ttl_seconds); delete keys instead, or use an eventual bucket")
        }
        if strongAlready, let n = update.n, n != current.n {
            throw .badParameter(
                name: "n",
                message: "bucket \(bucket) is strong and its n (\(current.n)) is fixed when it is created: its keys' "
                    + "primaries hold their commits, and another n would choose other primaries; use a new bucket for n=\(n)")
        }
    }
}
