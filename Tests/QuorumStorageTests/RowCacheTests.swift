import XCTest

@testable import QuorumStorage

/// The row cache alone (bounds, eviction, fills that lost a race) and inside a store
/// (it follows commits, deletes and restarts, and never answers ahead of the disk).
final class RowCacheTests: StoreTestCase {
    // MARK: - The cache alone

    func testEntryBoundEvictsAndKeepsRecentlyReadRows() {
        let cache = RowCache(options: options(entries: 4))
        cache.committed((0..<4).map { (key: row($0), blob: [UInt8($0)]) })
        _ = cache.lookup(row(0))  // marked: the hand passes it once
        cache.committed([(key: row(4), blob: [4])])
        let statistics = cache.statistics
        XCTAssertEqual(statistics.entries, 4)
        XCTAssertEqual(statistics.evictions, 1)
        XCTAssertEqual(cache.current(row(0)), [0], "a row read since it was cached survives the first pass")
        XCTAssertNil(cache.current(row(1)), "the oldest unread row goes first")
        XCTAssertEqual(cache.current(row(4)), [4])
    }

    func testByteBoundHoldsAndLargeStatesAreNotCached() {
        var options = options(entries: 1000)
        options.rowCacheBytesMax = 10 * (100 + row(0).chargedBytes)
        options.rowCacheBlobBytesMax = 200
        let cache = RowCache(options: options)
        cache.committed((0..<50).map { (key: row($0), blob: [UInt8](repeating: 1, count: 100)) })
        XCTAssertLessThanOrEqual(cache.statistics.bytes, options.rowCacheBytesMax)
        XCTAssertEqual(cache.statistics.entries, 10)
        cache.committed([(key: row(0), blob: [UInt8](repeating: 2, count: 201))])
        XCTAssertNil(cache.current(row(0)), "a state over the per-row bound is not cached, and an older one is dropped")
    }

    func testAFillThatRacedACommitIsDropped() {
        let cache = RowCache(options: options(entries: 10))
        guard case .miss(let generation) = cache.lookup(row(1)) else { return XCTFail("empty cache hit") }
        cache.committed([(key: row(1), blob: [2])])  // a commit lands while the reader reads [1]
        cache.fill(row(1), blob: [1], generation: generation)
        XCTAssertEqual(cache.current(row(1)), [2], "the older read never replaces the committed state")
        cache.committed([(key: row(1), blob: nil)])
        guard case .miss(let later) = cache.lookup(row(1)) else { return XCTFail("a deleted row is still cached") }
        cache.fill(row(1), blob: [3], generation: later)
        XCTAssertEqual(cache.current(row(1)), [3], "a fill with nothing committed meanwhile is kept")
    }

    func testADisabledCacheHoldsNothing() {
        let cache = RowCache(options: options(entries: 0))
        cache.committed([(key: row(1), blob: [1])])
        XCTAssertNil(cache.current(row(1)))
        XCTAssertEqual(cache.statistics.entries, 0)
    }

    // MARK: - Inside a store

    func testReadsAnswerFromTheCacheAfterACommitAndFollowDeletes() throws {
        let store = try openStore()
        _ = try store.updateAndWait(partition: 3, bucket: "b", key: bytes("k")) { _ in bytes("v1") }
        let before = store.rowCacheStatistics
        XCTAssertEqual(try store.read(partition: 3, bucket: "b", key: bytes("k")), bytes("v1"))
        XCTAssertEqual(store.rowCacheStatistics.hits, before.hits + 1, "a committed write is read from the cache")

        // The writer's read-modify-write sees the cached state.
        _ = try store.updateAndWait(partition: 3, bucket: "b", key: bytes("k")) { current in (current ?? []) + bytes("+v2") }
        XCTAssertEqual(try store.read(partition: 3, bucket: "b", key: bytes("k")), bytes("v1+v2"))
        XCTAssertEqual(try store.storedBytes(partition: 3, bucket: "b", key: bytes("k")), [0] + bytes("v1+v2"))

        let deleted = try waitForDelete(store, partition: 3, key: bytes("k"))
        XCTAssertEqual(deleted, bytes("v1+v2"))
        XCTAssertNil(try store.read(partition: 3, bucket: "b", key: bytes("k")), "a deleted row is gone from the cache too")
        XCTAssertEqual(store.rowCacheStatistics.entries, 0)
    }

    func testARowWrittenTwiceInOneGroupReadsItsOwnEarlierWrite() throws {
        let store = try openStore()
        let gate = WriterGate.block(store)
        let collector = ResultCollector()
        for index in 0..<3 {
            store.update(partition: 0, bucket: "b", key: bytes("k"), transform: { current in (current ?? []) + [UInt8(index)] },
                         completion: collector.completion(for: index))
        }
        gate.release()
        let results = collector.waitAll()
        XCTAssertEqual(try results[2]?.get(), [0, 1, 2])
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: bytes("k")), [0, 1, 2])
        XCTAssertEqual(try store.storedBytes(partition: 0, bucket: "b", key: bytes("k")), [0, 0, 1, 2])
    }

    func testAReopenedStoreFillsItsCacheFromDisk() throws {
        var store = try openStore()
        for index in 0..<20 {
            _ = try store.updateAndWait(partition: 1, bucket: "b", key: [UInt8(index)]) { _ in [UInt8(index), 9] }
        }
        store.close()
        store = try openStore()
        XCTAssertEqual(store.rowCacheStatistics.entries, 0)
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: [7]), [7, 9])
        XCTAssertEqual(store.rowCacheStatistics.misses, 1)
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: [7]), [7, 9])
        XCTAssertEqual(store.rowCacheStatistics.hits, 1, "a read fills the cache when no commit raced it")
        // The writer's UPDATE of a row it found in the cache changes the row on disk.
        _ = try store.updateAndWait(partition: 1, bucket: "b", key: [7]) { _ in [7, 10] }
        store.close()
        store = try openStore()
        XCTAssertEqual(try store.read(partition: 1, bucket: "b", key: [7]), [7, 10])
        XCTAssertEqual(try store.keyCount(), 20)
    }

    func testAStoreWithoutACacheWorks() throws {
        var options = StoreOptions()
        options.rowCacheEntriesMax = 0
        let store = try openStore(options)
        _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("k")) { _ in bytes("v") }
        _ = try store.updateAndWait(partition: 0, bucket: "b", key: bytes("k")) { current in (current ?? []) + bytes("w") }
        XCTAssertEqual(try store.read(partition: 0, bucket: "b", key: bytes("k")), bytes("vw"))
        XCTAssertEqual(store.rowCacheStatistics.entries, 0)
    }

    // MARK: - Support

    private func options(entries: Int) -> StoreOptions {
        var options = StoreOptions()
        options.rowCacheEntriesMax = entries
        return options
    }

    private func row(_ index: Int) -> RowKey {
        RowKey(partition: 0, bucket: "b", key: [UInt8(index)])
    }

    private func waitForDelete(_ store: ReplicaStore, partition: Int, key: [UInt8]) throws -> [UInt8]? {
        let collector = ResultCollector()
        store.deleteState(partition: partition, bucket: "b", key: key, matches: { _ in true }, completion: collector.completion(for: 0))
        return try collector.waitAll()[0]?.get()
    }
}
