// swift-tools-version: 6.0
// The libFuzzer targets, laid out as swift-protobuf's FuzzTesting/ package: a package of
// its own (so neither CI nor `swift build` at the root builds it, and the sanitizer flags
// stay here), one executable per target, each defining `LLVMFuzzerTestOneInput`.
// Build and run with `scripts/fuzz.sh TARGET [seconds]`; docs/fuzzing.md says more.
import PackageDescription

let package = Package(
    name: "FuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` because a clone's folder need not be called QuorumKV.
        .package(name: "QuorumKV", path: "../"),
    ],
    targets: [
        .executableTarget(name: "FuzzRESP", dependencies: [.product(name: "QuorumNode", package: "QuorumKV")]),
        .executableTarget(name: "FuzzHTTP", dependencies: [.product(name: "QuorumNode", package: "QuorumKV")]),
        .executableTarget(name: "FuzzPeerFrame", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")]),
        .executableTarget(name: "FuzzGossip", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")]),
        .executableTarget(name: "FuzzVersionCodecs", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")]),
        .executableTarget(
            name: "FuzzStoredRow",
            dependencies: [
                .product(name: "QuorumCore", package: "QuorumKV"), .product(name: "QuorumStorage", package: "QuorumKV"),
            ]),
        // FuzzACLFile: the ACL file parser of issue #15 item 1 gets its target here once it
        // exists (a check function beside it, a corpus in Corpus/FuzzACLFile, a replay test).
    ],
    swiftLanguageModes: [.v6]
)
