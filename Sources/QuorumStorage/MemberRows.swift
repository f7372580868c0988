import QuorumCore
import Synchronization

/// A queued update of a typed key (issue #16): the writer reads its header (the `kv` row)
/// and the selected member rows, runs `transform`, and writes the new header and the
/// changed members in the group's transaction.
struct TypedWrite: Sendable {
    var row: RowKey
    var selection: MemberSelection
    var transform: @Sendable (StoredTyped?) throws -> TypedRowChanges
    /// Told the key as stored after the change, on the writer thread before the commit;
    /// the operation's completion passes it on only once the commit succeeded.
    var deliver: @Sendable (StoredTyped) -> Void
}

/// Hands the typed result of a write from the writer thread to its completion.
final class TypedDelivery: Sendable {
    private let stored = Mutex<StoredTyped?>(nil)

    func set(_ value: StoredTyped) { stored.withLock { $0 = value } }
    func take() -> StoredTyped? { stored.withLock { $0 } }
}

/// The statements that read a typed key's member rows on one connection.
struct MemberReads {
    /// `Schema.selectMember`: one member, by primary key.
    var one: Statement
    /// `Schema.selectMembers`: every member of the key, in member order.
    var all: Statement

    /// The selected members of `row` that exist, sorted by member bytes. A listed selection
    /// costs one primary-key lookup per distinct member, never a pass over the others.
    /// Throws `.corrupt` naming the row when a payload doesn't decode.
    func read(_ row: RowKey, selection: MemberSelection, blobBytesMax: Int) throws -> [StoredMember] {
        guard let listed = selection.sortedDistinct else { return try readAll(row, blobBytesMax: blobBytesMax) }
        var found: [StoredMember] = []
        found.reserveCapacity(listed.count)
        for member in listed {
            let payload = try one.withRow(partition: row.partition, bucket: row.bucket, key: row.key, state: member) {
                try one.step() ? try decodedPayload(one, column: 0, row: row, member: member, blobBytesMax: blobBytesMax) : nil
            }
            if let payload { found.append(StoredMember(member: member, payload: payload)) }
        }
        return found
    }

    private func readAll(_ row: RowKey, blobBytesMax: Int) throws -> [StoredMember] {
        try all.withRow(partition: row.partition, bucket: row.bucket, key: row.key) {
            var found: [StoredMember] = []
            while try all.step() {
                let member = all.bytes(at: 0)
                let payload = try decodedPayload(all, column: 1, row: row, member: member, blobBytesMax: blobBytesMax)
                found.append(StoredMember(member: member, payload: payload))
            }
            return found
        }
    }

    private func decodedPayload(
        _ statement: Statement, column: Int32, row: RowKey, member: [UInt8], blobBytesMax: Int
    ) throws -> [UInt8] {
        do {
            return try statement.withBlob(at: column) { try StoredBlob.decode($0, blobBytesMax: blobBytesMax) }
        } catch StoreError.corrupt(let why) {
            throw StoreError.corrupt(
                "\(StoredBlob.describeRow(partition: row.partition, bucket: row.bucket, key: row.key)) member "
                    + "\(StoredBlob.describeBytes(member)): \(why); the member can't be used; repair the key from another replica")
        }
    }
}

extension StoredBlob {
    /// Hex of the first 32 bytes, for error messages.
    static func describeBytes(_ bytes: [UInt8]) -> String {
        let shown = bytes.prefix(32).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return "0x\(shown)\(bytes.count > 32 ? "…" : "")"
    }
}
