// swift-tools-version: 5.4
// The libFuzzer targets, laid out as swift-protobuf's FuzzTesting/ package: a package of
// its own (so neither CI nor `swift build` at the root builds it, and the sanitizer flags
// stay here), one executable per target, each defining `LLVMFuzzerTestOneInput`.
// Build and run with `scripts/fuzz.sh TARGET [seconds]`; docs/fuzzing.md says more.
import PackageDescription

/// Each target's file defines `LLVMFuzzerTestOneInput` and no top-level code: libFuzzer
/// brings `main`, and without this flag Swift would emit an empty one that shadows it.
/// (Tools version 5.4 for the same reason: from 5.5 on, SwiftPM links an executable
/// against a renamed Swift entry point, which a library-mode file does not have.)
let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "FuzzTesting",
    dependencies: [
        // `name:` because a clone's folder need not be called QuorumKV.
        .package(name: "QuorumKV", path: "../"),
    ],
    targets: [
        .executableTarget(name: "FuzzRESP", dependencies: [.product(name: "QuorumNode", package: "QuorumKV")], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzHTTP", dependencies: [.product(name: "QuorumNode", package: "QuorumKV")], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzPeerFrame", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzGossip", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzVersionCodecs", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")], swiftSettings: fuzzTarget),
        .executableTarget(
            name: "FuzzStoredRow",
            dependencies: [
                .product(name: "QuorumCore", package: "QuorumKV"), .product(name: "QuorumStorage", package: "QuorumKV"),
            ],
            swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzACLFile", dependencies: [.product(name: "QuorumCore", package: "QuorumKV")], swiftSettings: fuzzTarget),
    ]
)
