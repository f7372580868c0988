import QuorumCore
import Synchronization

/// A queued step of a strong key's acceptor (issue #17): the writer reads the key's `kv`
/// row (its commit, a `StrongRecord`) and its Paxos row (promise and accepted proposal),
/// runs `transform`, and writes whichever changed in the group's transaction.
struct PaxosWrite: Sendable {
    var row: RowKey
    /// Both rows as committed in, the rows to store out; nil: change nothing.
    var transform: @Sendable (StoredPaxos) throws -> StoredPaxos?
    /// Told the rows as stored after the step, on the writer thread before the commit; the
    /// operation's completion passes them on only once the commit succeeded.
    var deliver: @Sendable (StoredPaxos) -> Void
}

/// Hands the rows a Paxos step stored from the writer thread to its completion.
final class PaxosDelivery: Sendable {
    private let stored = Mutex<StoredPaxos?>(nil)

    func set(_ value: StoredPaxos) { stored.withLock { $0 = value } }
    func take() -> StoredPaxos? { stored.withLock { $0 } }
}

extension Statement {
    /// Runs `Schema.selectPaxos` (prepared on this statement) and decodes the row, if any.
    /// Throws `.corrupt` naming the row when its bytes don't decode. Unlike a `kv` row, a
    /// Paxos row is this replica's own votes: no other replica can repair it.
    func readPaxos(_ row: RowKey, blobBytesMax: Int) throws -> [UInt8]? {
        try withRow(partition: row.partition, bucket: row.bucket, key: row.key) {
            guard try step() else { return nil }
            do {
                return try withBlob(at: 0) { try StoredBlob.decode($0, blobBytesMax: blobBytesMax) }
            } catch StoreError.corrupt(let why) {
                throw StoreError.corrupt(
                    "the Paxos row of \(StoredBlob.describeRow(partition: row.partition, bucket: row.bucket, key: row.key)): "
                        + "\(why); its promises are lost and no replica holds them; the key's Paxos steps fail on this "
                        + "replica until it is restored from a backup or its data directory is wiped and caught up")
            }
        }
    }
}
