import QuorumCore

/// A finished truncation: its point and the members that adopted it (all of them).
public struct TruncationOutcome: Sendable, Equatable {
    public var point: HLCTimestamp
    public var members: Int
}

extension RequestDriver {
    /// Truncates `bucket` (nil: every bucket): stamps a point after every write this node
    /// coordinated, then has every member of both rings adopt it (durably, its clock moved
    /// past it; `PeerRequest.truncate`) before answering. From then on no member stamps a
    /// write below the point, so a write acknowledged after the answer is never hidden by
    /// it. A member that does not answer within `timeoutMilliseconds` fails the call with
    /// `unavailable` naming it; the members that did keep the point, and it can be retried.
    ///
    /// A typed or strong bucket is refused with `bad_parameter` (see `BucketTruncation`):
    /// rather than answer "truncated" and leave the data, the refusal says so (the node
    /// refuses `FLUSHALL` the same way while such a bucket exists).
    public func truncate(
        bucket: String?, timeoutMilliseconds: Int, completion: @escaping (Result<TruncationOutcome, KVError>) -> Void
    ) {
        if let bucket, !BucketTruncation.isTruncatable(context.props(for: bucket)) {
            return completion(.failure(BucketTruncation.refusal(buckets: [bucket: context.props(for: bucket)])))
        }
        let point = context.tick()
        let members = Set(context.serving.members).union(context.target.members).sorted()
        var adopted: Set<String> = []
        var refusals: [String: KVError] = [:]
        var waiting = members.count
        for member in members {
            replicas.call(member, .truncate(bucket: bucket, point: point), timeoutMilliseconds: timeoutMilliseconds) { response in
                switch response {
                case .ack?: adopted.insert(member)
                case .failure(let code, let message)? where code == "bad_parameter":
                    refusals[member] = .badParameter(name: "bucket", message: message)
                default: break
                }
                waiting -= 1
                guard waiting == 0 else { return }
                // A member that refused the request (the bucket table is full) says why; the others did not answer.
                if let refusal = members.lazy.compactMap({ refusals[$0] }).first { return completion(.failure(refusal)) }
                let missing = members.filter { !adopted.contains($0) }
                guard missing.isEmpty else { return completion(.failure(Self.incomplete(bucket: bucket, missing: missing))) }
                completion(.success(TruncationOutcome(point: point, members: members.count)))
            }
        }
    }

    private static func incomplete(bucket: String?, missing: [String]) -> KVError {
        let what = bucket.map { "bucket \($0)" } ?? "every bucket"
        return .unavailable(
            message: "truncating \(what) needs every member to adopt it, but \(missing.joined(separator: ", ")) did not "
                + "answer; the members that did hide the old versions already. Bring the members up (or remove them from "
                + "the cluster) and truncate again")
    }
}

/// Which buckets a truncation point can cut, and the refusal for those it can't, in one
/// place for every caller.
///
/// - A typed bucket (counters, sets, maps; issue #16): its keys' dots carry no timestamps,
///   so no point can say which of them came before it, and the typed paths ignore points.
/// - A strong bucket (issue #17): its keys change only through consensus, and a point cut
///   by a clock would be a write no proposer made; reads go through Paxos, never by points.
public enum BucketTruncation {
    public static func isTruncatable(_ props: BucketProps) -> Bool {
        props.datatype == nil && props.consistency == .eventual
    }

    /// The refusal of a truncation that would cover `buckets`, none of them truncatable;
    /// `everyBucket` when it was `FLUSHALL` (`POST /cluster/truncate`).
    public static func refusal(buckets: [String: BucketProps], everyBucket: Bool = false) -> KVError {
        let typed = buckets.filter { $0.value.datatype != nil }.keys.sorted()
        let strong = buckets.filter { $0.value.datatype == nil && $0.value.consistency == .strong }.keys.sorted()
        var named: [String] = []
        var reasons: [String] = []
        var instead: [String] = []
        if !typed.isEmpty {
            named.append("the typed bucket\(typed.count == 1 ? "" : "s") \(typed.joined(separator: ", "))")
            reasons.append("counters, sets and maps are not truncated (their updates carry no timestamps a truncation point could cut at)")
            instead.append("reset typed keys with DEL")
        }
        if !strong.isEmpty {
            named.append("the strong bucket\(strong.count == 1 ? "" : "s") \(strong.joined(separator: ", "))")
            reasons.append("strongly consistent keys change only through consensus")
            instead.append("delete strong keys one by one")
        }
        let prefix = everyBucket ? "; nothing was truncated. Truncate the other buckets one by one, and " : "; "
        return .badParameter(
            name: "bucket",
            message: "cannot truncate \(named.joined(separator: " or ")): \(reasons.joined(separator: "; "))"
                + prefix + instead.joined(separator: ", and ") + " instead")
    }
}
