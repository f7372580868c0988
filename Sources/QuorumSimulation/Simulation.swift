import QuorumCore

/// What one run did and found.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var mix: FaultMix
    public var plan: SimulationPlan
    public var history: History
    public var violations: [CheckViolation]
    /// Events handled, and virtual milliseconds from start to the last check.
    public var events: Int
    public var virtualMilliseconds: UInt64
    /// Virtual milliseconds from healing the faults until every replica agreed (nil: never).
    public var repairMilliseconds: UInt64?
    /// When repair did not finish: what was still outstanding (hints, unreachable peers).
    public var outstanding: [String] = []
    /// Replica states removed by tombstone purges.
    public var purged = 0
    /// What the run exercised: requests, and faults that took effect.
    public var counts = EventTotals()

    public var passed: Bool { violations.isEmpty }

    /// The checks that failed, each once, in order.
    public var failedChecks: [Check] { Array(Set(violations.map(\.check))).sorted() }

    /// The history, then the verdict; the same bytes every time the seed is replayed.
    public func render() -> String {
        var text = "seed \(seed) faults \(mix.rawValue): \(history.entries.count) requests, \(events) events, "
        text += "\(virtualMilliseconds) virtual ms, repaired in \(repairMilliseconds.map { "\($0) ms" } ?? "never"), "
        text += "\(purged) tombstone states purged\n"
        for timed in plan.faults { text += "fault at \(timed.atMilliseconds) ms: \(timed.fault)\n" }
        for line in outstanding { text += "outstanding: \(line)\n" }
        text += history.render(origin: SimulatedWorld.origin)
        if violations.isEmpty {
            text += "seed \(seed): all checks passed\n"
        } else {
            for violation in violations { text += "seed \(seed): VIOLATED \(violation)\n" }
        }
        return text
    }
}

/// Runs one seeded simulation: clients and faults per the plan, then heal, repair, read
/// every key at r = n, and check.
public enum Simulation {
    /// - Parameter plan: the plan to run; nil draws the seed's own (a shrunk plan is passed
    ///   here to replay it).
    public static func run(seed: UInt64, config: SimulationConfig = SimulationConfig(), plan: SimulationPlan? = nil) -> SimulationReport {
        let mix = config.mix(forSeed: seed)
        var planRandom = SplitMix64(seed: seed)
        let drawn = SimulationPlan.draw(config: config, mix: mix, using: &planRandom)
        let plan = plan ?? drawn
        // The run's own draws (delays, losses, disk) come from a second stream of the seed.
        let world = SimulatedWorld(seed: seed, config: config, mix: mix, random: SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15))
        var applied = AppliedFaults()
        for timed in plan.faults {
            world.schedule(atOffset: timed.atMilliseconds) {
                applied.record(timed.fault, in: world)
                world.apply(timed.fault)
            }
        }
        let clients = plan.operations.enumerated().map { SimulatedClient(index: $0.offset, operations: $0.element, world: world) }
        for client in clients { client.start() }

        // Active phase: until every client is done and every fault has happened.
        let lastFault = SimulatedWorld.origin + (plan.faults.map(\.atMilliseconds).max() ?? 0)
        let activeLimit = SimulatedWorld.origin + config.faultWindowMilliseconds + 120_000
        _ = world.run(until: activeLimit, slice: 100) { !(clients.allSatisfy(\.isDone) && world.now >= lastFault) }

        // Heal, then let hints, gossip and anti-entropy repair.
        world.healAll()
        let healedAt = world.now
        let keys = universe(plan)
        let typedKeys = typedUniverse(plan)
        let strongKeys = strongUniverse(plan)
        // Give failure detectors time to see healed peers first: a partition that just
        // healed may still make a detector flag a peer down for a moment.
        world.run(until: healedAt + config.settleMilliseconds)
        let repaired = {
            isConverged(world, keys: keys, typedKeys: typedKeys, strongKeys: strongKeys)
                && world.nodes.allSatisfy { $0.retired || $0.hints.queue.pendingCount == 0 } && Self.believedDown(world).isEmpty
        }
        let converged = world.run(until: healedAt + config.repairWindowMilliseconds, slice: 250) { !repaired() }
        var repairMilliseconds = converged ? world.now - healedAt : nil
        if config.purgesTombstones
            && plan.operations.joined().contains(where: {
                [.delete, .deleteWithContext, .truncate].contains($0.kind) || $0.ttlMilliseconds != nil
            })
        {
            // Run past the grace of the last tombstone (plus clock error and a purge sweep),
            // so purges happen, then let repair settle again.
            let purgesDone = healedAt + config.antiEntropyLimits.tombstoneGraceMilliseconds + config.purgeSweepMilliseconds
            world.run(until: purgesDone)
            let settled = world.run(until: purgesDone + config.repairWindowMilliseconds, slice: 250) { !repaired() }
            if !settled { repairMilliseconds = nil }
        }
        let outstanding = converged ? [] : Self.outstanding(world)
        let believedDown = Self.believedDown(world)
        let replicaStates = Dictionary(uniqueKeysWithValues: keys.map { ($0, replicas(of: $0, in: world)) })
        let typedReplicaStates = Dictionary(uniqueKeysWithValues: typedKeys.map { ($0, typedReplicas(of: $0, in: world)) })
        let strongReplicaCommits = Dictionary(uniqueKeysWithValues: strongKeys.map { ($0, strongReplicas(of: $0, in: world)) })

        // Read every key at r = n through one node.
        var finalStates: [CheckInput.KeyName: KeyState?] = [:]
        for name in keys {
            let props = world.props(for: name.bucket)
            let options = RequestOptions(n: props.n, r: .all)
            let entry = world.history.begin(
                client: History.checkerClient, kind: .get, bucket: name.bucket, key: name.key, node: 0, options: options,
                sloppy: false, value: [], context: .empty, at: world.now)
            world.nodes[0].get(bucket: name.bucket, key: name.key, options: options, sloppy: false) { result in
                world.history.complete(entry, outcome: SimulatedClient.outcome(result), at: world.now)
                if case .read(let state) = result { finalStates[name] = .some(state) }
            }
            _ = world.run(until: world.now + 10_000, slice: 50) { world.history.entries[entry].completedAt == nil }
        }
        let typedFinalStates = finalTypedReads(typedKeys, in: world)
        finalStrongReads(strongKeys, in: world)
        let strongExempt = strongKeysLostToWipes(strongKeys, in: world)

        world.tearDown()
        world.history.markWritesLost(wipes: world.wipes)
        let input = CheckInput(
            history: world.history, mix: mix, clocksExact: !plan.faults.contains { $0.fault.changesClock },
            keys: keys.filter { $0.bucket != SimulatedBuckets.flushed }, finalStates: finalStates, replicaStates: replicaStates,
            nodeCount: config.nodeCount, believedDown: believedDown, disksWiped: !world.wipes.isEmpty,
            clockOffsetMaxMilliseconds: Self.clockOffsetMax(plan), typedKeys: typedKeys, typedFinalStates: typedFinalStates,
            typedReplicaStates: typedReplicaStates, strongKeys: strongKeys, strongExempt: strongExempt,
            strongReplicaCommits: strongReplicaCommits)
        return SimulationReport(
            seed: seed, mix: mix, plan: plan, history: world.history, violations: Checker.check(input), events: world.steps,
            virtualMilliseconds: world.now - SimulatedWorld.origin, repairMilliseconds: repairMilliseconds, outstanding: outstanding,
            purged: world.nodes.reduce(0) { $0 + $1.store.purgedCount },
            counts: EventTotals(
                requests: world.history.clientRequestCount, crashes: applied.crashes, partitions: applied.partitions,
                joins: applied.joins, leaves: applied.leaves, storeErrors: world.storeErrors, wipedDisks: applied.wipedDisks))
    }

    /// The largest distance from true time any node's clock had: skews set an offset,
    /// jumps add to it (as `SimulatedClock` applies them).
    static func clockOffsetMax(_ plan: SimulationPlan) -> UInt64 {
        var offsets: [Int: Int64] = [:]
        var largest: UInt64 = 0
        for timed in plan.faults {
            switch timed.fault {
            case .skewClock(let node, let offset): offsets[node] = offset
            case .jumpClock(let node, let delta): offsets[node, default: 0] += delta
            default: continue
            }
            largest = max(largest, offsets.values.map(\.magnitude).max() ?? 0)
        }
        return largest
    }

    /// Nodes whose failure detector believes some peer down, with those peers.
    static func believedDown(_ world: SimulatedWorld) -> [(node: String, peers: [String])] {
        world.nodes.filter { !$0.retired }.compactMap { node in
            let down = node.membership.unreachable().sorted()
            return down.isEmpty ? nil : (node.id, down)
        }
    }

    /// Per node: hints still held and peers it believes down, once repair ran out of time.
    static func outstanding(_ world: SimulatedWorld) -> [String] {
        world.nodes.compactMap { node in
            let down = node.membership.unreachable().sorted()
            let targets = node.hints.queue.targets
            guard !down.isEmpty || !targets.isEmpty || node.membership.state.isChanging else { return nil }
            let status = node.membership.localStatus.map(\.rawValue) ?? "no member"
            let transfers = node.antiEntropy.figures.transfersPending
            return "\(node.id) (\(status), \(transfers) transfers pending) holds \(node.hints.queue.pendingCount) hints for "
                + "[\(targets.joined(separator: ","))], believes [\(down.joined(separator: ","))] down"
        }
    }

    /// Every plain key the plan touches, sorted.
    static func universe(_ plan: SimulationPlan) -> [CheckInput.KeyName] {
        Set(plan.operations.flatMap { $0 }.filter { $0.kind != .truncate && !$0.kind.isTyped && !$0.kind.isStrong }.map {
            CheckInput.KeyName(bucket: $0.bucket, key: $0.key)
        }).sorted()
    }

    /// Every typed key the plan touches, sorted.
    static func typedUniverse(_ plan: SimulationPlan) -> [CheckInput.KeyName] {
        Set(plan.operations.flatMap { $0 }.filter(\.kind.isTyped).map { CheckInput.KeyName(bucket: $0.bucket, key: $0.key) }).sorted()
    }

    /// Each replica's stored state of the key, in preference-list order (the bucket's n).
    static func replicas(of name: CheckInput.KeyName, in world: SimulatedWorld) -> [(node: String, state: KeyState?)] {
        let ring = world.settledRing() ?? world.ring
        let partition = ring.partition(bucket: name.bucket, key: name.key)
        return ring.preferenceList(partition: partition, n: world.props(for: name.bucket).n).map { id in
            (id, world.node(id)!.store.read(partition: partition, bucket: name.bucket, key: name.key))
        }
    }

    /// Every replica of every key agrees (a typed key: the same header and member rows; a
    /// strong key: the same latest commit), the membership has settled, and no live node
    /// still holds a copy of a key it does not replicate (a join's copies are cleared).
    static func isConverged(
        _ world: SimulatedWorld, keys: [CheckInput.KeyName], typedKeys: [CheckInput.KeyName], strongKeys: [CheckInput.KeyName]
    ) -> Bool {
        guard let ring = world.settledRing(), strayCopiesCleared(world, ring: ring) else { return false }
        return keys.allSatisfy { agree(replicas(of: $0, in: world).map(\.state)) }
            && typedKeys.allSatisfy { agree(typedReplicas(of: $0, in: world).map(\.rows)) }
            && strongKeys.allSatisfy { agree(strongReplicas(of: $0, in: world).map(\.commit)) }
    }

    private static func agree<Held: Equatable>(_ held: [Held]) -> Bool { held.allSatisfy { $0 == held[0] } }

    static func strayCopiesCleared(_ world: SimulatedWorld, ring: Ring) -> Bool {
        world.nodes.filter { $0.isUp && !$0.retired }.allSatisfy { node in
            node.store.all().allSatisfy { row in
                let n = min(world.props(for: row.name.bucket).n, ring.members.count)
                return ring.preferenceList(partition: row.name.partition, n: n).contains(node.id)
            }
        }
    }
}
