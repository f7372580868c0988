import Logging
import NIOCore
import QuorumCore
import QuorumServices
import QuorumStorage

/// `HintStorage` on the real node: hint rows in the SQLite store, committed by its writer,
/// answers brought back to the hint driver's loop.
final class SQLiteHintStorage: HintStorage {
    private let store: ReplicaStore
    private let loop: any EventLoop

    init(store: ReplicaStore, loop: any EventLoop) {
        self.store = store
        self.loop = loop
    }

    func putHint(_ hint: Hint, completion: @escaping (Result<Void, StorageFailure>) -> Void) {
        let answer = LoopHop.back(to: loop, completion)
        store.putHint(Self.row(from: hint)) { result in answer(result.mapError(SQLiteReplicaStorage.failure)) }
    }

    func deleteHints(ids: [UInt64], completion: @escaping (Result<Void, StorageFailure>) -> Void) {
        let answer = LoopHop.back(to: loop, completion)
        store.deleteHints(ids: ids.map { Int64($0) }) { result in answer(result.mapError(SQLiteReplicaStorage.failure)) }
    }

    /// The hints a previous run stored; unreadable rows are logged and dropped.
    static func restore(from store: ReplicaStore, logger: Logger) throws -> [Hint] {
        try store.allHints().compactMap { row in
            do {
                return try hint(from: row)
            } catch {
                logger.error("dropping an unreadable stored hint", metadata: ["id": "\(row.id)", "error": "\(error)"])
                return nil
            }
        }
    }

    private static func row(from hint: Hint) -> StoredHint {
        StoredHint(
            id: Int64(hint.id), target: hint.target, bucket: hint.bucket, key: hint.key, mode: hint.mode == .lww ? 0 : 1,
            blob: hint.state.encoded(), createdMilliseconds: hint.createdMilliseconds)
    }

    private static func hint(from row: StoredHint) throws -> Hint {
        Hint(
            id: UInt64(row.id), target: row.target, bucket: row.bucket, key: row.key, state: try KeyState(decoding: row.blob),
            mode: row.mode == 0 ? .lww : .vclock, createdMilliseconds: row.createdMilliseconds)
    }
}
