/// The join as storage runs it, on a key stored decomposed: the header plus only the
/// member rows it read. The storage transform calls this inside its transaction.
public struct TypedStoredChanges: Sendable, Equatable {
    public var header: TypedHeader
    /// Changed members in key order: the new member, or nil to delete its row.
    public var members: [(key: [UInt8], member: Member?)]

    public init(header: TypedHeader, members: [(key: [UInt8], member: Member?)]) {
        self.header = header
        self.members = members
    }

    public static func == (lhs: TypedStoredChanges, rhs: TypedStoredChanges) -> Bool {
        lhs.header == rhs.header && lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.member == $1.member }
    }

    /// The rows as bytes: the header blob and each member row (nil: delete).
    public var encodedRows: (header: [UInt8], members: [([UInt8], [UInt8]?)]) {
        (header.encoded(), members.map { ($0.key, $0.member?.encodedRow()) })
    }
}

extension TypedState {
    /// The members storage must read to join `incoming`: the ones it lists, or all of them
    /// for a full state.
    public static func selection(forJoining incoming: TypedState, isFull: Bool) -> MemberSelection {
        isFull ? .all : .listed(incoming.sortedMemberKeys)
    }

    /// Joins `incoming` (a delta, or a full state when `isFull`) into a stored key given
    /// its header (nil: absent) and the stored members `selection(forJoining:isFull:)`
    /// names (absent ones simply missing). Returns the new header and the members that
    /// changed. A delta needs only its listed members; a full state needs every member.
    ///
    /// Gives the same state as `joined(with:isFull:)` on the whole stored state
    /// (`TypedStatePropertyTests` checks it). Throws `wrongType` when the datatypes differ.
    public static func joinStored(
        header: TypedHeader?, storedMembers: [[UInt8]: Member], incoming: TypedState, isFull: Bool,
        operationIDsMax: Int = Limits.defaults.typedOperationIDsMax
    ) throws(KVError) -> TypedStoredChanges {
        let base = header ?? TypedHeader(datatype: incoming.datatype)
        guard base.datatype == incoming.datatype else {
            throw .wrongType(message: "the key holds a \(base.datatype.rawValue), not a \(incoming.datatype.rawValue)")
        }
        var keys = Set(incoming.members.keys)
        if isFull { keys.formUnion(storedMembers.keys) }
        var newHeader = base
        newHeader.context = base.context.merged(with: incoming.context)
        newHeader.opIDs = base.opIDs.joined(with: incoming.opIDs, capacity: operationIDsMax)
        var changes: [(key: [UInt8], member: Member?)] = []
        for key in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let old = storedMembers[key].flatMap { $0.isEmpty ? nil : $0 }
            let joined = joinMember(old ?? .empty, base.context, incoming.members[key] ?? .empty, incoming.context)
            let new = joined.isEmpty ? nil : joined
            guard new != old else { continue }
            if let old {
                newHeader.membersDigest &-= TypedHeader.memberHash(key: key, member: old)
                newHeader.memberCount &-= 1
            }
            if let new {
                newHeader.membersDigest &+= TypedHeader.memberHash(key: key, member: new)
                newHeader.memberCount &+= 1
            }
            changes.append((key, new))
        }
        return TypedStoredChanges(header: newHeader, members: changes)
    }

    /// `joinStored` on bytes, as the storage transform holds them: the header blob (nil:
    /// absent) and the member rows it read. Undecodable rows are an internal error.
    public static func joinStoredRows(
        header: [UInt8]?, memberRows: [([UInt8], [UInt8])], incoming: TypedState, isFull: Bool, limits: Limits
    ) throws(KVError) -> TypedStoredChanges {
        var decodedHeader: TypedHeader?
        if let header {
            guard TypedHeader.isTypedHeader(header) else {
                throw .wrongType(message: "the key holds a plain value, not a \(incoming.datatype.rawValue)")
            }
            do { decodedHeader = try TypedHeader(decoding: header, limits: limits) } catch {
                throw .internalError(message: "stored typed header does not decode: \(error.message)")
            }
        }
        var members: [[UInt8]: Member] = [:]
        for (key, row) in memberRows {
            do { members[key] = try Member(decodingRow: row, limits: limits) } catch {
                throw .internalError(message: "stored typed member does not decode: \(error.message)")
            }
        }
        return try joinStored(
            header: decodedHeader, storedMembers: members, incoming: incoming, isFull: isFull,
            operationIDsMax: limits.typedOperationIDsMax)
    }

    /// The partial state a lead or a read works on: the header's context and window with
    /// the given members (the selected ones storage found).
    public init(header: TypedHeader, members: [[UInt8]: Member]) {
        self.init(datatype: header.datatype, context: header.context, members: members, opIDs: header.opIDs)
    }
}
