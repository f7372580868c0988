import QuorumCore

/// Runs the commands of typed buckets, and the generic commands (`GET`, `DEL`, `EXISTS`,
/// `TYPE`) on keys of typed buckets.
///
/// The generic commands try the plain path first and come here only when the service
/// answered `wrong_type` (a check it makes before any replica is asked), so a plain bucket
/// pays nothing for typed ones.
extension RESPCommandHandler {
    func executeTyped(_ command: RESPTypedCommand, request: RESPRequest) async -> RESPValue {
        do throws(KVError) {
            switch command {
            case .update(let key, let operation, let own):
                let result = try await service.updateType(
                    bucket: request.bucket, key: key, operation: operation, options: request.options(own))
                return Self.integerReply(result.reply)
            case .read(let key, let query, let own):
                return try await typedRead(
                    bucket: request.bucket, key: key, query: query, options: request.options(own), resp3: request.protocolVersion == 3)
            }
        } catch {
            return RESPErrorReply.reply(for: error)
        }
    }

    /// Every typed update answers an integer: a value (`INCR`, `HINCRBY`) or a count.
    static func integerReply(_ reply: TypedReply) -> RESPValue {
        switch reply {
        case .integer(let value): return .integer(Int(value))
        case .count(let count): return .integer(count)
        }
    }

    /// Reads what `query` needs and answers it. A key of another type answers `WRONGTYPE`;
    /// so does an absent key in a bucket of another type (the bucket fixes every key's type).
    func typedRead(
        bucket: String, key: [UInt8], query: RESPTypedQuery, options: RequestOptions, resp3: Bool = false
    ) async throws(KVError) -> RESPValue {
        let read = try await service.readType(bucket: bucket, key: key, members: query.members, options: options)
        var held = read.state?.datatype
        if read.state == nil { held = try await bucketType(bucket) }
        guard held == query.datatype else { throw Self.wrongType(bucket: bucket, held: held, wanted: query.datatype) }
        return try query.reply(read.state, resp3: resp3)
    }

    /// The datatype of `bucket` by this node's props (nil: plain values).
    func bucketType(_ bucket: String) async throws(KVError) -> DataType? {
        try await service.bucketProps(bucket: bucket).datatype
    }

    static func wrongType(bucket: String, held: DataType?, wanted: DataType) -> KVError {
        .wrongType(message: "bucket \(bucket) holds \(held.map { $0.rawValue + "s" } ?? "plain values"); this command is for a \(wanted.rawValue)")
    }

    // MARK: - Generic commands on typed keys

    /// The bucket's type when a plain call failed with `error` because the bucket is
    /// typed; otherwise rethrows `error`.
    func typedBucket(after error: KVError, bucket: String) async throws(KVError) -> DataType {
        guard case .wrongType = error, let datatype = try await bucketType(bucket) else { throw error }
        return datatype
    }

    /// `GET` in a typed bucket: a counter's value; a set or map key is the wrong type.
    func typedGet(bucket: String, key: [UInt8], options: RequestOptions, after error: KVError) async -> RESPValue {
        do throws(KVError) {
            guard try await typedBucket(after: error, bucket: bucket) == .counter else {
                throw KVError.wrongType(message: "GET reads counters and plain values; use the set or hash commands")
            }
            return try await typedRead(bucket: bucket, key: key, query: .counterValue, options: options)
        } catch {
            return RESPErrorReply.reply(for: error)
        }
    }

    /// `DEL` of a typed key: an observed-remove reset. 1 when the lead replica held
    /// members (they are gone, along with any other replica's copies of them), 0 when not.
    /// An update the lead had not seen survives the reset: add wins.
    func typedDelete(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> Int {
        let result = try await service.updateType(bucket: bucket, key: key, operation: .reset, options: options)
        guard case .count(let count) = result.reply else { return 0 }
        return count
    }

    /// Whether a typed key holds anything: a counter that was incremented, a set with an
    /// element, a map with a field (all members are read, as `SCARD` reads them).
    func typedExists(bucket: String, key: [UInt8], options: RequestOptions) async throws(KVError) -> Bool {
        let read = try await service.readType(bucket: bucket, key: key, members: .all, options: options)
        return !(read.state?.members.values.allSatisfy(\.isEmpty) ?? true)
    }

    /// `TYPE`'s word for a key of a typed bucket: `string` (a counter, as Redis's `INCR`
    /// keys are), `set`, `hash`; `none` when it holds nothing.
    func typedTypeName(bucket: String, key: [UInt8], datatype: DataType, options: RequestOptions) async throws(KVError) -> String {
        guard try await typedExists(bucket: bucket, key: key, options: options) else { return "none" }
        return Self.redisTypeName(datatype)
    }

    /// Redis's type name for keys of a bucket of `datatype` (nil: plain values).
    static func redisTypeName(_ datatype: DataType?) -> String {
        switch datatype {
        case nil, .counter?: return "string"
        case .set?: return "set"
        case .map?: return "hash"
        }
    }
}
