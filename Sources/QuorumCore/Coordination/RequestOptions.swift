/// What a client asked for on one request, before it is checked against the bucket.
public struct RequestOptions: Sendable, Equatable {
    public var n: Int?
    public var r: ConsistencyLevel?
    public var w: ConsistencyLevel?
    public var pr: ConsistencyLevel?
    public var pw: ConsistencyLevel?
    public var timeoutMilliseconds: Int?

    public init(
        n: Int? = nil, r: ConsistencyLevel? = nil, w: ConsistencyLevel? = nil,
        pr: ConsistencyLevel? = nil, pw: ConsistencyLevel? = nil, timeoutMilliseconds: Int? = nil
    ) {
        self.n = n
        self.r = r
        self.w = w
        self.pr = pr
        self.pw = pw
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Checks the request against the bucket and the cluster and fixes every number.
    ///
    /// Invalid combinations are rejected here, before any replica is contacted, so a bad
    /// request never leaves a partial write behind. Only the quorums the operation uses
    /// are checked (a read ignores `w`), and a bucket's default quorum is capped at the
    /// request's `n`, so `n=1` works on a bucket whose default `w` is 3. The bucket's `n`
    /// is capped at the cluster's size, so a one-node cluster serves the default bucket.
    public func resolve(
        props: BucketProps, clusterSize: Int, limits: Limits, for operation: QuorumOperation? = nil
    ) throws(KVError) -> ResolvedOptions {
        // A bucket's n above the cluster's size means "every node" until the cluster grows.
        let n = self.n ?? min(props.n, clusterSize)
        guard n >= 1 else { throw .badParameter(name: "n", message: "n must be at least 1, got \(n)") }
        guard n <= props.n else {
            throw .badParameter(name: "n", message: "n=\(n) exceeds the bucket's n=\(props.n); raise the bucket's n first")
        }
        guard n <= clusterSize else {
            throw .badParameter(name: "n", message: "n=\(n) exceeds the \(clusterSize) node(s) in the cluster")
        }
        var resolved = ResolvedOptions(n: n, r: 1, w: 1, timeoutMilliseconds: 0)
        if operation != .write {
            resolved.r = try Self.quorum("r", requested: self.r, default: props.r, n: n, minimum: 1)
            resolved.pr = try Self.quorum("pr", requested: self.pr, default: .count(0), n: n, minimum: 0)
            guard resolved.pr <= resolved.r else {
                throw .badParameter(name: "pr", message: "pr=\(resolved.pr) exceeds r=\(resolved.r)")
            }
        }
        if operation != .read {
            resolved.w = try Self.quorum("w", requested: self.w, default: props.w, n: n, minimum: 1)
            resolved.pw = try Self.quorum("pw", requested: self.pw, default: .count(0), n: n, minimum: 0)
            guard resolved.pw <= resolved.w else {
                throw .badParameter(name: "pw", message: "pw=\(resolved.pw) exceeds w=\(resolved.w)")
            }
        }
        let timeout = timeoutMilliseconds ?? limits.requestTimeoutMillisecondsDefault
        guard timeout >= 1, timeout <= limits.requestTimeoutMillisecondsMax else {
            throw .badParameter(
                name: "timeout",
                message: "timeout must be 1...\(limits.requestTimeoutMillisecondsMax) ms, got \(timeout)")
        }
        resolved.timeoutMilliseconds = timeout
        return resolved
    }

    private static func quorum(
        _ name: String, requested: ConsistencyLevel?, default fallback: ConsistencyLevel, n: Int, minimum: Int
    ) throws(KVError) -> Int {
        guard let requested else { return min(max(fallback.resolve(n: n), minimum), n) }
        return try check(name, requested, n: n, minimum: minimum)
    }

    private static func check(_ name: String, _ level: ConsistencyLevel, n: Int, minimum: Int) throws(KVError) -> Int {
        let value = level.resolve(n: n)
        guard value >= minimum, value <= n else {
            throw .badParameter(
                name: name,
                message: "\(name)=\(level.description) means \(value) replica(s), which must be \(minimum)...n (n=\(n))")
        }
        return value
    }
}

/// Request options with every number fixed and checked: 1 ≤ r, w ≤ n; pr ≤ r; pw ≤ w.
public struct ResolvedOptions: Sendable, Equatable {
    public var n: Int
    public var r: Int
    public var w: Int
    public var pr: Int
    public var pw: Int
    public var timeoutMilliseconds: Int

    public init(n: Int, r: Int, w: Int, pr: Int = 0, pw: Int = 0, timeoutMilliseconds: Int = 2000) {
        self.n = n
        self.r = r
        self.w = w
        self.pr = pr
        self.pw = pw
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}
