import ArgumentParser
import Foundation
import QuorumSimulation

/// `quorumkv-sim`: runs the deterministic simulator. One seed replays byte for byte and
/// prints its history; many seeds print a summary line and every failing seed.
@main
struct QuorumKVSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorumkv-sim",
        abstract: "Run QuorumKV's protocol logic under seeded faults and check what clients saw.",
        discussion: """
            Examples:
              quorumkv-sim --seed 42                 replay seed 42: its history and any violated check
              quorumkv-sim --seeds 500               seeds 1...500, one summary line
              quorumkv-sim --seed 42 --shrink        replay, then shrink a failing plan
              quorumkv-sim --seed 42 --keep 0-3,9    replay a shrunk plan (steps as --shrink printed)
            Exit status: 0 when every check passed, 1 when one failed.
            """)

    @Option(help: "Replay this one seed and print its history.")
    var seed: UInt64?

    @Option(help: "Run this many seeds and print a summary.")
    var seeds: UInt64?

    @Option(help: "The first seed of --seeds.")
    var first: UInt64 = 1

    @Option(help: "Fault mix for every seed: calm, lossy, partitions, crashes, clocks, chaos (default: each seed picks).")
    var faults: String?

    @Option(help: "Switch on a deliberate bug: readRepairDropsSiblings, antiEntropyIgnoresTombstones.")
    var bug: String = InjectedBug.none.rawValue

    @Option(help: "Operations per client.")
    var operations: Int?

    @Option(help: "Clients.")
    var clients: Int?

    @Option(help: "With --seed: run only these plan steps (as --shrink prints them).")
    var keep: String?

    @Flag(help: "With --seeds: print each seed to stderr before running it, so a crash names its seed.")
    var verbose = false

    @Flag(help: "Shrink a failing plan to fewer steps that still fail (with --seeds: the first failing seed).")
    var shrink = false

    func validate() throws {
        guard (seed == nil) != (seeds == nil) else { throw ValidationError("give exactly one of --seed and --seeds") }
        if let faults, FaultMix(rawValue: faults) == nil {
            throw ValidationError("unknown fault mix \(faults); one of \(FaultMix.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard InjectedBug(rawValue: bug) != nil else {
            throw ValidationError("unknown bug \(bug); one of \(InjectedBug.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let keep, Shrinker.parseRanges(keep) == nil { throw ValidationError("--keep takes steps like 0-3,7,9-12") }
        if keep != nil && seed == nil { throw ValidationError("--keep replays one seed; give --seed") }
        if let operations, operations < 0 || operations > 10_000 { throw ValidationError("--operations must be 0...10000") }
        if let clients, clients < 1 || clients > 100 { throw ValidationError("--clients must be 1...100") }
    }

    func run() throws {
        var config = SimulationConfig()
        config.faults = faults.flatMap(FaultMix.init(rawValue:))
        config.bug = InjectedBug(rawValue: bug)!
        if let operations { config.operationsPerClient = operations }
        if let clients { config.clientCount = clients }
        if let seed {
            try replay(seed: seed, config: config)
        } else {
            try sweep(count: seeds!, config: config)
        }
    }

    private func replay(seed: UInt64, config: SimulationConfig) throws {
        var report = Simulation.run(seed: seed, config: config)
        if let keep {
            let plan = report.plan.keeping(Set(Shrinker.parseRanges(keep)!))
            report = Simulation.run(seed: seed, config: config, plan: plan)
        }
        print(report.render(), terminator: "")
        if shrink && !report.passed { printShrunk(seed: seed, config: config, report: report) }
        if !report.passed { throw ExitCode(1) }
    }

    private func sweep(count: UInt64, config: SimulationConfig) throws {
        var failed: [SimulationReport] = []
        var events = 0
        let last = first + count - 1
        for seed in first...last {
            // To stderr, unbuffered: the line survives the crash it is there for.
            if verbose { FileHandle.standardError.write(Data("running seed \(seed)\n".utf8)) }
            let report = Simulation.run(seed: seed, config: config)
            events += report.events
            if !report.passed {
                failed.append(report)
                let checks = report.failedChecks.map(\.rawValue).joined(separator: ",")
                print("seed \(seed) (\(report.mix.rawValue)) FAILED (\(checks)): \(report.violations[0])")
                print("  replay: quorumkv-sim --seed \(seed)\(replayFlags(config))")
            }
        }
        print("seeds \(first)...\(last): \(Int(count) - failed.count) passed, \(failed.count) failed, \(events) events")
        if shrink, let report = failed.first { printShrunk(seed: report.seed, config: config, report: report) }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func printShrunk(seed: UInt64, config: SimulationConfig, report: SimulationReport) {
        let result = Shrinker.shrink(seed: seed, config: config, failing: report)
        print("shrunk seed \(seed) from \(report.plan.stepCount) to \(result.kept.count) plan steps in \(result.runs) runs:")
        print(result.report.render(), terminator: "")
        print("replay: quorumkv-sim --seed \(seed)\(replayFlags(config)) --keep \(Shrinker.ranges(result.kept))")
    }

    private func replayFlags(_ config: SimulationConfig) -> String {
        var flags = ""
        if let faults { flags += " --faults \(faults)" }
        if config.bug != .none { flags += " --bug \(config.bug.rawValue)" }
        if let operations { flags += " --operations \(operations)" }
        if let clients { flags += " --clients \(clients)" }
        return flags
    }
}
