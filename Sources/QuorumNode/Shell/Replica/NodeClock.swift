import Logging
import QuorumCore
import QuorumStorage
import Synchronization

/// This node's hybrid logical clock, shared by its request and replica drivers: write
/// timestamps come from `tick`, and every timestamp a replica sees moves it on (`observe`).
///
/// A bound above every timestamp issued is saved in the store (`ClockFloor` decides when),
/// so a restart starts the clock there even if the wall clock stepped back meanwhile.
final class NodeClock: Sendable {
    private let clock: Mutex<HybridLogicalClock>
    private let clockFloor: Mutex<ClockFloor>
    private static let clockFloorKey = "hlc_floor"
    private let store: ReplicaStore
    private let logger: Logger

    init(store: ReplicaStore, logger: Logger) throws {
        self.store = store
        self.logger = logger
        let floor = try store.metaValue(Self.clockFloorKey).flatMap { UInt64($0) } ?? 0
        self.clockFloor = Mutex(ClockFloor(saved: floor))
        self.clock = Mutex(HybridLogicalClock(last: HLCTimestamp(physicalMilliseconds: floor, logical: 0)))
        // Saved now, before serving, so the first writes don't wait for it.
        keepFloorAhead(of: max(WallClock.nowMilliseconds(), floor))
    }

    /// A timestamp for a write this node coordinates. It never waits for the floor's save
    /// unless the clock jumped past the saved floor (see `ClockFloor`): callers run on
    /// network threads.
    func tick() -> HLCTimestamp {
        let timestamp = clock.withLock { $0.tick(nowMilliseconds: WallClock.nowMilliseconds()) }
        keepFloorAhead(of: timestamp.physicalMilliseconds)
        return timestamp
    }

    /// Saves the clock floor when `ClockFloor` asks: in the background, or before the
    /// timestamp goes out.
    private func keepFloorAhead(of physicalMilliseconds: UInt64) {
        switch clockFloor.withLock({ $0.issuing(physicalMilliseconds: physicalMilliseconds) }) {
        case .none:
            return
        case .saveAhead(let value):
            store.setMetaValue(Self.clockFloorKey, String(value)) { [self] result in floorSaved(value, result) }
        case .saveBeforeIssuing(let value):
            floorSaved(value, Result { try store.setMetaValue(Self.clockFloorKey, String(value)) })
        }
    }

    private func floorSaved(_ value: UInt64, _ result: Result<Void, any Error>) {
        switch result {
        case .success:
            clockFloor.withLock { $0.saved(value) }
        case .failure(let error):
            clockFloor.withLock { $0.saveFailed(value) }
            logger.warning("could not save the clock floor; a restart with the clock stepped back may reorder lww writes",
                           metadata: ["error": "\(error)"])
        }
    }

    func observe(_ timestamp: HLCTimestamp) {
        clock.withLock { $0.observe(timestamp, nowMilliseconds: WallClock.nowMilliseconds()) }
    }
}
