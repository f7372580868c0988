/// A bucket's durable settings. Every node keeps a copy; the newest `version` wins when
/// two copies meet, so a broadcast (and later gossip) converges.
public struct BucketProps: Sendable, Equatable, Codable {
    public var n: Int
    public var r: ConsistencyLevel
    public var w: ConsistencyLevel
    public var conflict: ConflictMode
    /// When these props were set; orders concurrent changes (newest wins).
    public var version: HLCTimestamp
    /// The ttl of writes that give none (`ttl_seconds`); nil: such writes never expire.
    /// A `KEEPTTL` write or one with its own ttl is not affected.
    public var ttlSeconds: UInt64?
    /// The convergent type every key of the bucket holds (counter, set or map); nil for a
    /// bucket of plain values. Fixed when the bucket is created: a key's stored form
    /// depends on it, so it can never change under data.
    public var datatype: DataType?
    /// Eventual (the default) or strong (per-key consensus, issue #17). Fixed when the
    /// bucket is created, like `datatype`: a strong key's stored form is its commit.
    public var consistency: BucketConsistency

    public init(
        n: Int = 3, r: ConsistencyLevel = .quorum, w: ConsistencyLevel = .quorum,
        conflict: ConflictMode = .lww, version: HLCTimestamp = .zero, ttlSeconds: UInt64? = nil, datatype: DataType? = nil,
        consistency: BucketConsistency = .eventual
    ) {
        self.datatype = datatype
        self.consistency = consistency
        self.n = n
        self.r = r
        self.w = w
        self.conflict = conflict
        self.version = version
        self.ttlSeconds = ttlSeconds
    }

    /// Two copies of a bucket's props as every node settles them: the newest `version`
    /// wins; equal versions with different content (two nodes set props in the same HLC
    /// tick) fall back to the larger encoding, so every node picks the same. The datatype
    /// is apart: once set it stays, whatever a newer copy that never saw it says (a node
    /// that changed n before the creation reached it), since the keys' stored form depends
    /// on it. Two different types set concurrently settle on the smaller wire byte.
    ///
    /// `consistency: strong` is sticky the same way: once a copy says strong, the bucket
    /// stays strong, since its keys are commits and its clients were promised
    /// linearizability. A strong bucket has no datatype, so when a strong creation and a
    /// typed one of the same bucket race (each node refuses the second, but two nodes can
    /// each take one), strong wins and the datatype is dropped: the typed clients then see
    /// `wrong_type` errors rather than the strong clients silently losing their guarantee.
    /// Each rule depends only on which copies were joined, so every order gives the same.
    /// For that, the tie-break between equal versions compares the copies without their
    /// sticky fields: those come from the rules above, and a copy that had already taken
    /// in another's datatype or consistency must not compare differently for it.
    public func joined(with other: BucketProps) -> BucketProps {
        var result: BucketProps
        if other.version != version {
            result = other.version > version ? other : self
        } else {
            result = tieBreakBytes.lexicographicallyPrecedes(other.tieBreakBytes) ? other : self
        }
        if consistency == .strong || other.consistency == .strong {
            result.consistency = .strong
            result.datatype = nil
        } else {
            result.datatype = [datatype, other.datatype].compactMap { $0 }.min { $0.wireByte < $1.wireByte }
        }
        return result
    }

    /// The encoding without the sticky fields (datatype, consistency): the same bytes as
    /// `encoded()` for an eventual bucket of plain values.
    private var tieBreakBytes: [UInt8] {
        var plain = self
        plain.datatype = nil
        plain.consistency = .eventual
        return plain.encoded()
    }

    /// Props of a bucket nobody configured: n=3, quorum reads and writes, last-writer-wins.
    public static let defaults = BucketProps()

    enum CodingKeys: String, CodingKey {
        case n, r, w, conflict, version, ttlSeconds, datatype, consistency
    }

    /// Reads props written before strong buckets existed too: an absent `consistency` is
    /// `eventual`, as an absent `datatype` is a bucket of plain values.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            n: try container.decode(Int.self, forKey: .n), r: try container.decode(ConsistencyLevel.self, forKey: .r),
            w: try container.decode(ConsistencyLevel.self, forKey: .w),
            conflict: try container.decode(ConflictMode.self, forKey: .conflict),
            version: try container.decode(HLCTimestamp.self, forKey: .version),
            ttlSeconds: try container.decodeIfPresent(UInt64.self, forKey: .ttlSeconds),
            datatype: try container.decodeIfPresent(DataType.self, forKey: .datatype),
            consistency: try container.decodeIfPresent(BucketConsistency.self, forKey: .consistency) ?? .eventual)
    }
}

/// How a bucket settles concurrent writes.
public enum ConflictMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// Newest hybrid-logical-clock timestamp wins; never siblings.
    case lww
    /// Dotted version vectors; concurrent writes are kept as siblings.
    case vclock
}

extension ConsistencyLevel: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .count(number)
            return
        }
        let text = try container.decode(String.self)
        guard let level = ConsistencyLevel(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an integer or one/two/three/quorum/all, got \(text)")
        }
        self = level
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if case .count(let number) = self {
            try container.encode(number)
        } else {
            try container.encode(description)
        }
    }
}

/// Checks a bucket name: 1–64 of `[A-Za-z0-9_.-]`. Runs on every request: it reads the
/// string's UTF-8 view in place, copying nothing.
public func validateBucketName(_ name: String, limits: Limits = .defaults) throws(KVError) {
    let bytes = name.utf8
    guard !bytes.isEmpty, bytes.count <= limits.bucketNameBytesMax,
        bytes.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2E || byte == 0x2D
        })
    else {
        throw .badParameter(
            name: "bucket",
            message: "bucket name must be 1-\(limits.bucketNameBytesMax) characters of A-Z a-z 0-9 _ . -, got \"\(name)\"")
    }
}
