import Dispatch
import QuorumCore
import QuorumServices
import QuorumStorage
import Synchronization

/// Where this node's store stands as a Paxos acceptor (issue #17), shared by the replica
/// contexts of every event loop, and kept in the store's meta table so a restart finds it.
///
/// A store made empty (a new node, or one whose disk was wiped) may belong to a node that
/// promised ballots before it lost them, so it must not vote until catch-up has chosen a
/// floor above them (`ConsensusFloor`). The file is created with the `catchUpMeta` row set
/// to `pending` in the very transaction that creates it (`StoreOptions.metaAtCreation`),
/// so no crash leaves a new store that looks caught up. Catch-up ends by saving the floor,
/// then marking the row `done` or `relearning`, in that order: a crash between the two
/// leaves a store that catches up again, never one that votes without its floor. A store
/// from before strong buckets (no row at all) never promised anything and votes with no floor.
///
/// Every change of the floor (catch-up's own, and fences other members' catch-ups set) is
/// saved on one serial queue, so the saved floor only ever rises, and the standing in
/// memory moves only after the save is durable.
final class ConsensusStanding: Sendable {
    /// The meta row that says whether this store still catches up (`pending`), votes
    /// (`done`) or relearns (`relearning`).
    static let catchUpMeta = "paxos_catch_up"
    /// The meta row holding the floor: a `PaxosBallot`'s binary form in hex.
    static let floorMeta = "paxos_floor"
    static let pending = "pending"
    static let done = "done"
    static let relearning = "relearning"

    /// The meta rows a new store file is created with.
    static let creationMeta = [catchUpMeta: pending]

    private let store: ReplicaStore
    private let standing: Mutex<ConsensusFloor>
    private let saves = DispatchQueue(label: "quorumkv.consensus.standing")

    /// Reads the standing the store was left in. Throws when the saved floor is unreadable:
    /// voting without it could break a promise, so the node must not start.
    init(store: ReplicaStore) throws {
        self.store = store
        standing = Mutex(try Self.read(store))
    }

    private static func read(_ store: ReplicaStore) throws -> ConsensusFloor {
        let mode = try store.metaValue(catchUpMeta)
        let floor = try store.metaValue(floorMeta).map { saved in
            guard let bytes = hexBytes(saved), let floor = try? PaxosBallot(decoding: bytes) else {
                throw StoreError.corrupt(
                    "the consensus floor saved in \(store.databasePath) (meta \(floorMeta) = \(saved.prefix(80))) is unreadable; "
                        + "this node must not vote on strong keys without it: restore the file from a backup, or wipe the data "
                        + "directory so the node starts empty and catches up from its peers")
            }
            return floor
        }
        switch (mode, floor) {
        case (pending?, _): return .catchingUp(floor: floor)
        case (relearning?, let floor?): return .relearning(floor: floor)
        case (relearning?, nil):
            throw StoreError.corrupt(
                "\(store.databasePath) says this node relearns strong keys but holds no consensus floor (meta \(floorMeta)); "
                    + "restore the file from a backup, or wipe the data directory so the node starts empty and catches up")
        default: return .voting(floor: floor)
        }
    }

    var current: ConsensusFloor { standing.withLock { $0 } }

    /// Ends catch-up: saves the floor (never lowering one saved before), then marks catch-up
    /// done or relearning, then votes with it; `completion` runs once both are durable, or
    /// with the failure (the node then keeps catching up).
    func adopt(_ floor: PaxosBallot, relearning: Bool, completion: @escaping @Sendable (Result<Void, KVError>) -> Void) {
        save(completion: completion) { current in
            guard current.isCatchingUp else { return nil }
            return current.caughtUp(floor: floor, relearning: relearning)
        }
    }

    /// Raises the floor to at least `fence` (another member's catch-up), keeping the mode.
    func raise(to fence: PaxosBallot, completion: @escaping @Sendable (Result<Void, KVError>) -> Void) {
        save(completion: completion) { $0.raised(to: fence) }
    }

    /// Runs `change` on the standing on the save queue; saves the floor, then the mode, then
    /// takes the new standing. A nil or unchanged standing saves nothing.
    private func save(
        completion: @escaping @Sendable (Result<Void, KVError>) -> Void,
        _ change: @escaping @Sendable (ConsensusFloor) -> ConsensusFloor?
    ) {
        saves.async { [self] in
            let current = standing.withLock { $0 }
            guard let next = change(current), next != current else { return completion(.success(())) }
            do {
                if let floor = next.floor, floor != current.floor { try store.setMetaValue(Self.floorMeta, Self.hex(floor.encoded())) }
                switch next {
                case .catchingUp: break
                case .relearning: try store.setMetaValue(Self.catchUpMeta, Self.relearning)
                case .voting: if current.isCatchingUp { try store.setMetaValue(Self.catchUpMeta, Self.done) }
                }
            } catch {
                return completion(.failure(Self.failed(error)))
            }
            standing.withLock { $0 = next }
            completion(.success(()))
        }
    }

    private static func failed(_ error: any Error) -> KVError {
        .unavailable(message: "could not save the consensus floor (\(error)); the node keeps its standing and retries")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

extension ConsensusFloor {
    /// The standing as `/status` names it.
    var statusName: String {
        switch self {
        case .catchingUp: return "catching_up"
        case .relearning: return "relearning"
        case .voting: return "voting"
        }
    }
}
