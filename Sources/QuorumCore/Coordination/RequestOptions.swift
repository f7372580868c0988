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
    /// request never leaves a partial write behind.
    public func resolve(props: BucketProps, clusterSize: Int, limits: Limits) throws(KVError) -> ResolvedOptions {
        let n = self.n ?? props.n
        guard n >= 1 else { throw .badParameter(name: "n", message: "n must be at least 1, got \(n)") }
        guard n <= props.n else {
            throw .badParameter(name: "n", message: "n=\(n) exceeds the bucket's n=\(props.n); raise the bucket's n first")
        }
        guard n <= clusterSize else {
            throw .badParameter(name: "n", message: "n=\(n) exceeds the \(clusterSize) node(s) in the cluster")
        }
        let r = try Self.check("r", self.r ?? props.r, n: n, minimum: 1)
        let w = try Self.check("w", self.w ?? props.w, n: n, minimum: 1)
        let pr = try Self.check("pr", self.pr ?? .count(0), n: n, minimum: 0)
        let pw = try Self.check("pw", self.pw ?? .count(0), n: n, minimum: 0)
        guard pr <= r else { throw .badParameter(name: "pr", message: "pr=\(pr) exceeds r=\(r)") }
        guard pw <= w else { throw .badParameter(name: "pw", message: "pw=\(pw) exceeds w=\(w)") }
        let timeout = timeoutMilliseconds ?? limits.requestTimeoutMillisecondsDefault
        guard timeout >= 1, timeout <= limits.requestTimeoutMillisecondsMax else {
            throw .badParameter(
                name: "timeout",
                message: "timeout must be 1...\(limits.requestTimeoutMillisecondsMax) ms, got \(timeout)")
        }
        return ResolvedOptions(n: n, r: r, w: w, pr: pr, pw: pw, timeoutMilliseconds: timeout)
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
