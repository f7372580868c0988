// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "QuorumKV",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quorumkv", targets: ["quorumkv"]),
        .executable(name: "quorumkv-sim", targets: ["quorumkv-sim"]),
        .library(name: "QuorumCore", targets: ["QuorumCore"]),
        // For the fuzz targets in FuzzTesting/, which reach the decoders through these.
        .library(name: "QuorumStorage", targets: ["QuorumStorage"]),
        .library(name: "QuorumNode", targets: ["QuorumNode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Password hashing (PBKDF2-SHA256 in _CryptoExtras), HMAC and SHA-256 for the ACL;
        // keys and certificates for TLS.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.1.0"),
    ],
    targets: [
        // Pure protocol logic: no IO, no clocks, no randomness. Imports the standard library only.
        .target(name: "QuorumCore"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "QuorumStorage",
            dependencies: [
                "QuorumCore", "CSQLite", "CLZ4",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The node's driving services: the code that runs the pure core against the world.
        // It reaches sockets, files, clocks, timers and randomness only through the
        // interfaces in World/, so the real node and the simulator run the same lines.
        .target(name: "QuorumServices", dependencies: ["QuorumCore"]),
        // TLS material: development CA and node certificates (swift-certificates), loading
        // PEM files into swift-nio-ssl contexts, the peer SAN rule and reloadable contexts.
        .target(
            name: "QuorumTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "QuorumNode",
            dependencies: [
                "QuorumCore", "QuorumServices", "QuorumStorage", "QuorumTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The W/R benchmark harness behind `quorumkv bench`: workloads, load generation, reports.
        .target(
            name: "QuorumBench",
            dependencies: [
                "QuorumCore", "QuorumNode", "QuorumTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The deterministic simulator: the node's own services in a seeded world of faults.
        .target(name: "QuorumSimulation", dependencies: ["QuorumCore", "QuorumServices", "QuorumLinearizability"]),
        // The linearizability checker (Wing–Gong search with Lowe's memoisation). Its own
        // target, standard library only, so that both the simulator and the real-process
        // integration tests can use it without the integration tests linking the simulator.
        .target(name: "QuorumLinearizability"),
        .executableTarget(
            name: "quorumkv-sim",
            dependencies: [
                "QuorumSimulation", "QuorumServices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "quorumkv",
            dependencies: [
                "QuorumNode", "QuorumCore", "QuorumBench", "QuorumTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "QuorumCoreTests", dependencies: ["QuorumCore"]),
        .testTarget(name: "QuorumLinearizabilityTests", dependencies: ["QuorumLinearizability"]),
        .testTarget(name: "QuorumSimulationTests", dependencies: ["QuorumSimulation", "QuorumServices", "QuorumCore"]),
        // The services driven one step at a time by a tiny fake world: a schedule in, requests and state out.
        .testTarget(name: "QuorumServicesTests", dependencies: ["QuorumServices", "QuorumCore"]),
        .testTarget(name: "QuorumBenchTests", dependencies: ["QuorumBench", "QuorumCore"]),
        // A SQLite VFS that fails chosen writes and syncs, for the storage tests only: the
        // store takes a VFS name, and nothing outside the tests links this.
        .target(name: "CSQLiteFaultVFS", dependencies: ["CSQLite"], path: "Tests/CSQLiteFaultVFS"),
        .testTarget(
            name: "QuorumStorageTests",
            dependencies: [
                "QuorumStorage", "QuorumCore", "CSQLiteFaultVFS", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "QuorumNodeTests",
            dependencies: [
                "QuorumNode", "QuorumCore", "QuorumTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "QuorumTLSTests",
            dependencies: [
                "QuorumTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "QuorumNode", "QuorumCore", "QuorumTLS", "QuorumLinearizability",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
