import Foundation
import QuorumCore
import Synchronization
import XCTest

@testable import QuorumStorage

/// Issue #16's "Done when" on state size and cost, measured on a real SQLite file: a set
/// that saw 10 000 adds and 9 000 removes of distinct elements is stored in a small
/// factor of its 1 000 live elements' bytes (no tombstones, a context that stays one
/// vector entry), and every add or remove reads only the member row it names, never the
/// whole set. The same lead path as a replica's: `TypedState.delta`, then
/// `TypedState.joinStored`, inside the store's `updateTyped` transform.
final class TypedStateSizeTests: XCTestCase {
    /// Adds, then removes of the first `removes` of them; live = adds - removes.
    static let adds = 10_000
    static let removes = 9_000
    /// Stored bytes (header + member keys + payloads) may be this many times the live
    /// elements' bytes, plus `overheadBytes` (header and context, independent of size).
    static let sizeFactorMax = 3
    static let overheadBytes = 256
    /// An actor the way a node names its store (`node id.creation time in base 36`).
    static let actor = "node1.mj3k2l1a"

    private var directory: TemporaryDirectory!
    private var store: ReplicaStore!

    override func setUp() {
        super.setUp()
        directory = TemporaryDirectory(name)
    }

    override func tearDown() {
        store?.close()
        store = nil
        directory.remove()
        super.tearDown()
    }

    /// Element i: 16 bytes, like a short id.
    private static func element(_ index: Int) -> [UInt8] {
        let digits = String(index)
        return Array(("element-" + String(repeating: "0", count: 8 - digits.count) + digits).utf8)
    }

    /// Runs `operation` as a lead replica does; returns how many member rows the
    /// transform was handed.
    @discardableResult
    private func lead(_ operation: TypedOperation, serial: Int) throws -> Int {
        let rowsSeen = Mutex(0)
        let limits = Limits.defaults
        let stamp = HLCTimestamp(physicalMilliseconds: 1_800_000_000_000 + UInt64(serial), logical: 0)
        try store.updateTypedAndWait(partition: 3, bucket: "tags", key: bytes("big"), members: operation.touchedMembers) { stored in
            rowsSeen.withLock { $0 = stored?.members.count ?? 0 }
            var header: TypedHeader?
            if let stored { header = try TypedHeader(decoding: stored.header, limits: limits) }
            var members: [[UInt8]: Member] = [:]
            for row in stored?.members ?? [] { members[row.member] = try Member(decodingRow: row.payload, limits: limits) }
            let current = TypedState(header: header ?? TypedHeader(datatype: .set), members: members)
            let delta = try TypedState.delta(
                applying: operation, actor: Self.actor, stamp: stamp, current: current,
                memberCount: header.map { Int($0.memberCount) } ?? 0, limits: limits)
            let changes = try TypedState.joinStored(
                header: header, storedMembers: members, incoming: delta.delta, isFull: delta.isFull,
                operationIDsMax: limits.typedOperationIDsMax)
            return TypedRowChanges(
                header: changes.header.encoded(),
                members: changes.members.map { MemberChange(member: $0.key, payload: $0.member?.encodedRow()) })
        }
        return rowsSeen.withLock { $0 }
    }

    private func query(_ sql: String) throws -> Int {
        let raw = try SQLiteConnection(path: store.databasePath, readOnly: true, busyTimeoutMilliseconds: 1000)
        defer { raw.close() }
        return Int(try raw.queryText(sql) ?? "-1") ?? -1
    }

    func testTenThousandAddsAndNineThousandRemovesStoreAboutTheLiveElementsAndReadOneRowEach() throws {
        var options = StoreOptions()
        options.syncMode = .normal  // the size and rows read do not depend on fsync; the run time does
        store = try ReplicaStore(directory: directory.path, options: options, logger: testLogger())

        var rowsReadMax = 0
        var addDurations: [Duration] = []
        let clock = ContinuousClock()
        for index in 0..<Self.adds {
            let started = clock.now
            rowsReadMax = max(rowsReadMax, try lead(.setAdd([Self.element(index)]), serial: index))
            addDurations.append(clock.now - started)
        }
        XCTAssertLessThanOrEqual(rowsReadMax, 1, "an add reads its own element's row only, never the set")
        for index in 0..<Self.removes {
            let rows = try lead(.setRemove([Self.element(index)]), serial: Self.adds + index)
            XCTAssertEqual(rows, 1, "a remove of element \(index) reads its row (and only it)")
            if rows != 1 { break }
        }

        let stored = try XCTUnwrap(store.readTyped(partition: 3, bucket: "tags", key: bytes("big"), members: .all))
        let live = Self.adds - Self.removes
        XCTAssertEqual(stored.members.count, live, "removed elements leave no rows (no tombstones)")
        let header = try TypedHeader(decoding: stored.header, limits: .defaults)
        XCTAssertEqual(header.memberCount, UInt64(live))
        XCTAssertEqual(header.context.sortedVV.map { $0.counter }, [UInt64(Self.adds)], "one actor, one vector entry: adds made dots, removes none")
        XCTAssertTrue(header.context.cloud.isEmpty, "the context stays compact")

        let liveBytes = (Self.removes..<Self.adds).map { Self.element($0).count }.reduce(0, +)
        let memberBytes = try query("SELECT sum(length(member) + length(payload)) FROM members")
        let headerBytes = try query("SELECT sum(length(state)) FROM kv")
        let storedBytes = memberBytes + headerBytes
        XCTAssertGreaterThanOrEqual(headerBytes, stored.header.count, "the stored blob is the header (plus the store's framing)")
        XCTAssertLessThanOrEqual(headerBytes, Self.overheadBytes, "the header does not grow with the history: one vector entry, no tombstones")
        XCTAssertLessThanOrEqual(
            storedBytes, Self.sizeFactorMax * liveBytes + Self.overheadBytes,
            "stored \(storedBytes) bytes (header \(headerBytes)) for \(liveBytes) bytes of live elements")

        // Cost: the last hundred adds against the first hundred (medians, so one slow
        // fsync or scheduling hiccup does not decide it). Generous: a whole-set rewrite
        // per add would make the 10 000th about 10 000 times the first, not 4.
        let first = median(addDurations.prefix(100))
        let last = median(addDurations.suffix(100))
        XCTAssertLessThan(last, first * 4, "the 10 000th add costs about what the first did: first \(first), last \(last)")
        print(
            "typed set size: \(storedBytes) bytes stored (header \(headerBytes)) for \(live) live elements of "
                + "\(liveBytes) bytes (\(String(format: "%.2f", Double(storedBytes) / Double(liveBytes)))x); "
                + "median add: first 100 \(first), last 100 \(last)")
    }

    private func median(_ durations: ArraySlice<Duration>) -> Duration {
        durations.sorted()[durations.count / 2]
    }
}
