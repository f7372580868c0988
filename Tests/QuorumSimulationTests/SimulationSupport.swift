import QuorumSimulation
import XCTest

/// Runs seeds and fails the test with every failing seed and how to replay it.
func assertSeedsPass(
    _ seeds: ClosedRange<UInt64>, config: SimulationConfig, file: StaticString = #filePath, line: UInt = #line
) {
    var failures: [String] = []
    for seed in seeds {
        let report = Simulation.run(seed: seed, config: config)
        if !report.passed {
            let flags = config.replayFlags
            failures.append("seed \(seed) (\(report.mix.rawValue)): \(report.violations[0]); replay: quorumkv-sim --seed \(seed)\(flags)")
        }
    }
    XCTAssert(failures.isEmpty, "\(failures.count) of \(seeds.count) seeds failed:\n" + failures.joined(separator: "\n"), file: file, line: line)
}

/// The first seed in `seeds` whose run violates `check`, with its report.
func firstSeed(violating check: Check, in seeds: ClosedRange<UInt64>, config: SimulationConfig) -> SimulationReport? {
    for seed in seeds {
        let report = Simulation.run(seed: seed, config: config)
        if report.failedChecks.contains(check) { return report }
    }
    return nil
}

/// The settings tests run seeds with. Without truncating, typed or strong clients unless
/// asked: the seeds these tests name were found before those clients existed, and their
/// runs (message order, losses) change with the extra requests.
func config(
    faults: FaultMix? = nil, bug: InjectedBug = .none, truncatingClients: Int = 0, typedClients: Int = 0, strongClients: Int = 0
) -> SimulationConfig {
    var config = SimulationConfig()
    config.faults = faults
    config.bug = bug
    config.truncatingClients = truncatingClients
    config.typedClients = typedClients
    config.strongClients = strongClients
    return config
}

/// The workload runs had before they grew to 6 clients × 16 requests: 4 × 10. A seed's plan
/// (requests and faults both) depends on the workload's size, so seeds found then
/// reproduce only with it.
func firstWorkload(_ config: SimulationConfig) -> SimulationConfig {
    var config = beforeExpiry(config)
    config.clientCount = 4
    config.operationsPerClient = 10
    return config
}

/// The workload without the expiring bucket, as runs were before expiry: the bucket a
/// request goes to is drawn from fewer buckets, so seeds found before reproduce only with it.
func beforeExpiry(_ config: SimulationConfig) -> SimulationConfig {
    var config = config
    config.expiryWorkload = false
    return config
}
