import ArgumentParser
import Foundation
import QuorumSimulation

/// `quorumkv-sim`: runs the deterministic simulator. One seed replays byte for byte and
/// prints its history; many seeds (a count, or as many as fit a time budget) print a
/// summary line and every failing seed.
@main
struct QuorumKVSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorumkv-sim",
        abstract: "Run QuorumKV's protocol logic under seeded faults and check what clients saw.",
        discussion: """
            Examples:
              quorumkv-sim --seed 42              replay seed 42: its history and verdict
              quorumkv-sim --seeds 500            seeds 1...500, one summary line
              quorumkv-sim --seconds 600          seeds from 1 on for ten minutes (a soak)
              quorumkv-sim --seeds 500 --summary-json sweep.json
                                                  also write the totals as JSON
              quorumkv-sim --seed 42 --shrink     replay, then shrink a failing plan
              quorumkv-sim --seed 42 --keep 0-3,9 replay a shrunk plan (steps as --shrink
                                                  printed them)
              quorumkv-sim --list-bugs            the deliberate bugs --bug takes
            Each seed runs \(SimulationConfig().clientCount) clients of \(SimulationConfig().operationsPerClient) \
            requests (--clients, --operations), plus \(SimulationConfig().truncatingClients) truncating and \
            \(SimulationConfig().typedClients) typed client (counters, sets, maps; --typed-clients) and \
            \(SimulationConfig().strongClients) strong clients (reads, writes, compare-and-sets of a strongly \
            consistent bucket, checked for linearizability; --strong-clients).
            Exit status: 0 when every check passed, 1 when one failed.
            """)

    @Option(help: "Replay this one seed and print its history.")
    var seed: UInt64?

    @Option(help: "Run this many seeds and print a summary.")
    var seeds: UInt64?

    @Option(help: "Run seeds until this many seconds have passed (checked between seeds), then print a summary.")
    var seconds: Int?

    @Option(help: "The first seed of --seeds or --seconds.")
    var first: UInt64 = 1

    @Option(help: "Fault mix for every seed: \(FaultMix.allCases.map(\.rawValue).joined(separator: ", ")) (default: each seed picks).")
    var faults: String?

    @Option(help: "Switch on a deliberate bug: \(InjectedBug.deliberate.map(\.rawValue).joined(separator: ", ")).")
    var bug: String = InjectedBug.none.rawValue

    @Option(help: "Operations per client (default \(SimulationConfig().operationsPerClient)).")
    var operations: Int?

    @Option(help: "Clients (default \(SimulationConfig().clientCount)).")
    var clients: Int?

    @Option(
        name: .customLong("truncating-clients"),
        help: "Clients that also truncate a bucket of their own, beside the others (default \(SimulationConfig().truncatingClients)).")
    var truncatingClients: Int?

    @Option(
        name: .customLong("typed-clients"),
        help: "Clients that update and read the counter, set and map buckets, beside the others (default \(SimulationConfig().typedClients)).")
    var typedClients: Int?

    @Option(
        name: .customLong("strong-clients"),
        help: "Clients that read, write and compare-and-set the strongly consistent bucket, beside the others (default \(SimulationConfig().strongClients)).")
    var strongClients: Int?

    @Option(
        name: .customLong("strong-keys"),
        help: "Keys of the strongly consistent bucket the strong clients share (default \(SimulationConfig().strongKeys); fewer: more contention).")
    var strongKeys: Int?

    @Option(help: "With --seed: run only these plan steps (as --shrink prints them).")
    var keep: String?

    @Option(
        name: .customLong("summary-json"),
        help: ArgumentHelp("With --seeds or --seconds: write the seeds run, failures and event totals here as JSON.", valueName: "file"))
    var summaryJSON: String?

    @Flag(help: "With --seeds or --seconds: print each seed to stderr before running it, so a crash names its seed.")
    var verbose = false

    @Flag(help: "Shrink a failing plan to fewer steps that still fail (with --seeds or --seconds: the first failing seed).")
    var shrink = false

    @Flag(help: "Print the deliberate bugs --bug takes, one a line, and exit.")
    var listBugs = false

    @Flag(
        name: .customLong("no-expiry"),
        help: "Leave the expiring bucket (ttls, expiry changes) out of the workload: plans as drawn before expiry existed.")
    var noExpiry = false

    func validate() throws {
        if listBugs { return }
        guard [seed != nil, seeds != nil, seconds != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --seed, --seeds and --seconds")
        }
        if let seconds, seconds < 1 { throw ValidationError("--seconds must be at least 1") }
        if let seeds, seeds > UInt64.max - first + 1 { throw ValidationError("--seeds runs past the last seed") }
        if let faults, FaultMix(rawValue: faults) == nil {
            throw ValidationError("unknown fault mix \(faults); one of \(FaultMix.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard InjectedBug(rawValue: bug) != nil else {
            throw ValidationError("unknown bug \(bug); one of \(InjectedBug.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let keep, Shrinker.parseRanges(keep) == nil { throw ValidationError("--keep takes steps like 0-3,7,9-12") }
        if keep != nil && seed == nil { throw ValidationError("--keep replays one seed; give --seed") }
        if summaryJSON != nil && seed != nil { throw ValidationError("--summary-json sums a sweep; give --seeds or --seconds") }
        if let operations, operations < 0 || operations > 10_000 { throw ValidationError("--operations must be 0...10000") }
        if let clients, clients < 1 || clients > 100 { throw ValidationError("--clients must be 1...100") }
        if let truncatingClients, truncatingClients < 0 || truncatingClients > 100 {
            throw ValidationError("--truncating-clients must be 0...100")
        }
        if let typedClients, typedClients < 0 || typedClients > 100 { throw ValidationError("--typed-clients must be 0...100") }
        if let strongClients, strongClients < 0 || strongClients > 100 { throw ValidationError("--strong-clients must be 0...100") }
        if let strongKeys, strongKeys < 1 || strongKeys > 100 { throw ValidationError("--strong-keys must be 1...100") }
    }

    func run() throws {
        if listBugs {
            for bug in InjectedBug.deliberate { print(bug.rawValue) }
            return
        }
        if let seed {
            try replay(seed: seed, config: config)
        } else {
            try sweep(SeedSweep(first: first, config: config))
        }
    }

    private var config: SimulationConfig {
        var config = SimulationConfig()
        config.faults = faults.flatMap(FaultMix.init(rawValue:))
        config.bug = InjectedBug(rawValue: bug)!
        if let operations { config.operationsPerClient = operations }
        if let clients { config.clientCount = clients }
        if let truncatingClients { config.truncatingClients = truncatingClients }
        if let typedClients { config.typedClients = typedClients }
        if let strongClients { config.strongClients = strongClients }
        if let strongKeys { config.strongKeys = strongKeys }
        if noExpiry { config.expiryWorkload = false }
        return config
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

    private func sweep(_ sweep: SeedSweep) throws {
        let summary: SweepSummary
        if let seconds {
            let deadline = ContinuousClock.now + .seconds(seconds)
            summary = sweep.run(until: { ContinuousClock.now >= deadline }, observer: observer(sweep))
        } else {
            summary = sweep.run(count: seeds!, observer: observer(sweep))
        }
        print(summary.render(seconds: seconds))
        if let summaryJSON { try write(summary.document, to: summaryJSON) }
        if shrink, let report = summary.firstFailure { printShrunk(seed: report.seed, config: sweep.config, report: report) }
        if !summary.passed { throw ExitCode(1) }
    }

    private func observer(_ sweep: SeedSweep) -> SeedSweep.Observer {
        SeedSweep.Observer(
            willRun: { [verbose] seed in
                // To stderr, unbuffered: the line survives the crash it is there for.
                if verbose { FileHandle.standardError.write(Data("running seed \(seed)\n".utf8)) }
            },
            didRun: { report in
                if !report.passed { print(sweep.failureLines(for: report), terminator: "") }
            })
    }

    /// Sorted keys: the same totals give the same bytes, so files can be compared.
    private func write(_ document: SweepSummary.Document, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(document)
        data.append(contentsOf: Array("\n".utf8))
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw SummaryWriteError(path: path, reason: error.localizedDescription)
        }
    }

    private func printShrunk(seed: UInt64, config: SimulationConfig, report: SimulationReport) {
        let result = Shrinker.shrink(seed: seed, config: config, failing: report)
        print("shrunk seed \(seed) from \(report.plan.stepCount) to \(result.kept.count) plan steps in \(result.runs) runs:")
        print(result.report.render(), terminator: "")
        print("replay: quorumkv-sim --seed \(seed)\(config.replayFlags) --keep \(Shrinker.ranges(result.kept))")
    }
}

/// A `--summary-json` file that could not be written: named, so the message says which.
struct SummaryWriteError: Error, CustomStringConvertible {
    var path: String
    var reason: String

    var description: String { "cannot write \(path): \(reason)" }
}
