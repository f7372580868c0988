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

    /// The `mode` column says what the blob is: 0 and 1 a plain `KeyState` under lww or
    /// vclock, 2 a typed key's delta (`TypedState`, issue #16). No schema change: older
    /// rows keep their meaning.
    private static let typedDeltaMode = 2

    static func row(from hint: Hint) -> StoredHint {
        let (mode, blob): (Int, [UInt8])
        switch hint.payload {
        case .versions(let state, let conflict): (mode, blob) = (conflict == .lww ? 0 : 1, state.encoded())
        case .typed(let delta): (mode, blob) = (typedDeltaMode, delta.encoded(isFull: false))
        }
        return StoredHint(
            id: Int64(hint.id), target: hint.target, bucket: hint.bucket, key: hint.key, mode: mode, blob: blob,
            createdMilliseconds: hint.createdMilliseconds)
    }

    static func hint(from row: StoredHint) throws -> Hint {
        let payload: ReplicaPayload
        switch row.mode {
        case 0, 1: payload = .versions(try KeyState(decoding: row.blob), mode: row.mode == 0 ? .lww : .vclock)
        case typedDeltaMode: payload = .typed(try TypedState(decoding: row.blob))
        default: throw WireError.malformed("a stored hint of unknown kind \(row.mode); a newer release wrote it")
        }
        return Hint(
            id: UInt64(row.id), target: row.target, bucket: row.bucket, key: row.key, payload: payload,
            createdMilliseconds: row.createdMilliseconds)
    }
}
