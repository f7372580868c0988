// swift-tools-version: 6.1
// Microbenchmarks of QuorumKV's hot paths, with package-benchmark (ordo-one/benchmark).
// A package of its own so the main build and CI don't compile package-benchmark.
// Run from this folder: swift package benchmark --no-progress
import PackageDescription

let package = Package(
    name: "QuorumKVBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "QuorumKV", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // QuorumStorage is not a product of the main package, and target names must be unique
        // in a package graph: BenchStorage compiles the same sources (Sources/BenchStorage is
        // a symbolic link to them), and BenchSQLite/BenchLZ4 declare the C modules they
        // import (module maps copied from the main package's CSQLite and CLZ4).
        .systemLibrary(name: "BenchSQLite", path: "Sources/BenchSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "BenchLZ4", path: "Sources/BenchLZ4", pkgConfig: "liblz4"),
        .target(
            name: "BenchStorage",
            dependencies: [
                .product(name: "QuorumCore", package: "QuorumKV"), "BenchSQLite", "BenchLZ4",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/BenchStorage"
        ),
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "QuorumCore", package: "QuorumKV"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "QuorumCore", package: "QuorumKV"),
                .product(name: "Logging", package: "swift-log"),
                "BenchStorage",
            ],
            path: "Benchmarks/StorageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
