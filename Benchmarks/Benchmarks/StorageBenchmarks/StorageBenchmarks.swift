import Benchmark
import Foundation
import Logging
import QuorumCore
import BenchStorage

/// The SQLite replica store: a durable put (one group commit each, sync=full as nodes run
/// by default, and sync=normal), a put of 100 keys sharing group commits, and a get.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(3),
        maxIterations: 100_000)

    let value = [UInt8](repeating: 0x78, count: 100)
    let logger = Logger(label: "bench")
    func openStore(_ sync: SyncMode) -> (ReplicaStore, String) {
        let directory = NSTemporaryDirectory() + "quorumkv-storage-bench-" + UUID().uuidString
        var options = StoreOptions()
        options.syncMode = sync
        let store = try! ReplicaStore(directory: directory, options: options, logger: logger)
        return (store, directory)
    }
    let keys: [[UInt8]] = (0..<10_000).map { Array("qkvbench:\($0)".utf8) }

    for sync in [SyncMode.full, .normal] {
        Benchmark("Storage: put one key and wait for its commit (sync=\(sync.rawValue))") { benchmark in
            let (store, directory) = openStore(sync)
            defer {
                store.close()
                try? FileManager.default.removeItem(atPath: directory)
            }
            var index = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let key = keys[index % keys.count]
                _ = try? store.updateAndWait(partition: (index % keys.count) & 63, bucket: "default", key: key) { _ in value }
                index &+= 1
            }
        }
    }

    Benchmark("Storage: put 100 keys sharing group commits (sync=full)") { benchmark in
        let (store, directory) = openStore(.full)
        defer {
            store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        var base = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let group = DispatchGroup()
            for offset in 0..<100 {
                group.enter()
                let index = base + offset
                store.update(
                    partition: (index % keys.count) & 63, bucket: "default", key: keys[index % keys.count], transform: { _ in value },
                    completion: { _ in group.leave() })
            }
            group.wait()
            base &+= 100
        }
    }

    // One store for every sample of the get benchmark, filled once (group-committed) and
    // warmed by one read of every key, so samples measure a get, not the set-up.
    let (readStore, _) = openStore(.normal)
    let filled = DispatchGroup()
    for (index, key) in keys.enumerated() {
        filled.enter()
        readStore.update(
            partition: index & 63, bucket: "default", key: key, transform: { _ in value },
            completion: { _ in filled.leave() })
    }
    filled.wait()
    for (index, key) in keys.enumerated() { _ = try? readStore.read(partition: index & 63, bucket: "default", key: key) }

    Benchmark("Storage: get one key (10 000 stored)") { benchmark in
        let store = readStore
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(try? store.read(partition: (index % keys.count) & 63, bucket: "default", key: keys[index % keys.count]))
            index &+= 1
        }
    }
}
