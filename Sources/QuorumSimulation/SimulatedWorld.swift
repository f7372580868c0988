import QuorumCore

/// The simulated cluster: virtual time, the agenda, the network, the nodes and the one
/// seeded generator every random choice of a run draws from.
///
/// Single-threaded: an event runs to completion before the next starts, so a run is a
/// pure function of its seed and plan.
final class SimulatedWorld {
    let config: SimulationConfig
    /// For messages: a trap in the simulator names the seed that replays it.
    let seed: UInt64
    let mix: FaultMix
    /// Virtual time starts at a realistic wall-clock reading, so skewed clocks stay positive.
    static let origin: UInt64 = 1_700_000_000_000
    private(set) var now: UInt64 = SimulatedWorld.origin
    var random: SplitMix64
    private var events: EventQueue
    var network = SimulatedNetwork()
    private(set) var nodes: [SimulatedNode] = []
    let ring: Ring
    let membership: MembershipState
    private let indexByID: [String: Int]
    private(set) var steps = 0
    var history = History()
    /// Disks wiped so far, with when: writes every acknowledging replica of which lost its
    /// disk after the acknowledgement are exempt from the durability checks.
    var wipes: [(node: String, at: UInt64)] = []
    /// Store errors that took effect: commits that failed (stopping their node) and writes a
    /// full disk refused.
    var storeErrors = 0

    init(seed: UInt64, config: SimulationConfig, mix: FaultMix, random: SplitMix64) {
        self.seed = seed
        self.config = config
        self.mix = mix
        self.random = random
        events = EventQueue(eventsMax: config.eventsMax)
        // Without faults, wider delays are what leave copies of a write in flight when the
        // next request starts: the window check (e) looks into.
        if mix.isCalm { network.delaySpreadMilliseconds = 20 }
        let founders = (0..<config.nodeCount).map { "n\($0)" }
        let ids = founders + (0..<config.spareNodeCount).map { "n\(config.nodeCount + $0)" }
        ring = Ring(members: founders, partitionCount: config.partitionCount)
        var membership: MembershipState
        do {
            membership = try MembershipState(
                founders: founders.map { (id: $0, peerAddress: "\($0):7000", httpAddress: "\($0):8000") },
                partitionCount: config.partitionCount)
        } catch {
            preconditionFailure("the simulated membership is invalid: \(error)")
        }
        for (bucket, props) in SimulatedBuckets.props.sorted(by: { $0.key < $1.key }) {
            membership = membership.settingBucketProps(props, for: bucket)
        }
        self.membership = membership
        var indexByID: [String: Int] = [:]
        for (index, id) in ids.enumerated() { indexByID[id] = index }
        self.indexByID = indexByID
        nodes = ids.enumerated().map {
            SimulatedNode(index: $0.offset, id: $0.element, isFounder: $0.offset < config.nodeCount, world: self)
        }
        for node in nodes { node.start() }
        startTimers()
    }

    func node(_ id: String) -> SimulatedNode? {
        indexByID[id].map { nodes[$0] }
    }

    func props(for bucket: String) -> BucketProps {
        SimulatedBuckets.props[bucket] ?? .defaults
    }

    // MARK: Time

    func schedule(after delay: UInt64, _ action: @escaping () -> Void) {
        precondition(events.count < config.eventsMax, "seed \(seed): more than \(config.eventsMax) events scheduled at once")
        events.schedule(at: now + delay, action)
    }

    func schedule(atOffset offset: UInt64, _ action: @escaping () -> Void) {
        events.schedule(at: max(now, Self.origin + offset), action)
    }

    /// Runs events up to `time` (virtual, absolute), then stops there.
    func run(until time: UInt64) {
        while let next = events.nextTime, next <= time {
            let event = events.popFirst()!
            now = event.time
            steps += 1
            precondition(steps <= config.stepsMax, "seed \(seed): the run passed its bound of \(config.stepsMax) events")
            event.action()
        }
        now = max(now, time)
    }

    /// Runs in slices of `slice` until `done` holds or `limit` passes; true when it held.
    func run(until limit: UInt64, slice: UInt64, while notDone: () -> Bool) -> Bool {
        while now < limit {
            if !notDone() { return true }
            run(until: min(limit, now + slice))
        }
        return !notDone()
    }

    /// Drops every pending event: they hold the world and its nodes, and timers never stop
    /// on their own, so without this a finished run would never be freed.
    func tearDown() {
        events = EventQueue(eventsMax: config.eventsMax)
    }

    // MARK: Network

    /// Sends one message; `deliver` runs at arrival unless the link is cut by then.
    /// Dropped messages never arrive; duplicated ones arrive twice.
    func send(from: Int, to: Int, _ deliver: @escaping () -> Void) {
        for delay in network.deliveries(using: &random) {
            schedule(after: delay) { [self] in
                guard !network.isCut(from: from, to: to) else { return }
                deliver()
            }
        }
    }

    /// A draw in `range`, from the run's generator.
    func draw(_ range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + random.below(range.upperBound - range.lowerBound + 1)
    }

    // MARK: Timers

    /// The node's three timers (gossip, hint delivery, anti-entropy), each from a random
    /// phase so nodes don't tick in lockstep. A timer fires on a down node and does nothing.
    private func startTimers() {
        for node in nodes {
            repeating(every: config.gossipIntervalMilliseconds, firstAfter: draw(1...config.gossipIntervalMilliseconds)) {
                if node.isUp { node.gossipRound() }
            }
            repeating(every: config.hintDeliveryIntervalMilliseconds, firstAfter: draw(1...config.hintDeliveryIntervalMilliseconds)) {
                if node.isUp { node.deliverHints() }
            }
            repeating(every: config.antiEntropyIntervalMilliseconds, firstAfter: draw(1...config.antiEntropyIntervalMilliseconds)) {
                if node.isUp { node.antiEntropy.tick() }
            }
        }
    }

    private func repeating(every interval: UInt64, firstAfter delay: UInt64, _ action: @escaping () -> Void) {
        schedule(after: delay) { [self] in
            action()
            repeating(every: interval, firstAfter: interval, action)
        }
    }

    // MARK: Faults

    func apply(_ fault: SimulationPlan.Fault) {
        switch fault {
        case .crash(let node):
            nodes[node].crash()
        case .restart(let node):
            if !nodes[node].isUp { nodes[node].restart() }
        case .restartWiped(let node):
            guard !nodes[node].isUp else { break }
            nodes[node].wipeDisk()
            nodes[node].restart()
        case .failFsync(let node):
            nodes[node].failNextCommit = true
        case .fillDisk(let node):
            nodes[node].diskFull = true
        case .freeDisk(let node):
            nodes[node].diskFull = false
        case .join(let node, let seed):
            guard nodes[node].isUp else { break }
            nodes[node].ringChanges.join(address: "n\(seed):7000", keyCount: nodes[node].store.all().count) { _ in }
        case .leave(let node):
            guard nodes[node].isUp else { break }
            _ = try? nodes[node].ringChanges.leave()
        case .partition(let side):
            network.partition(side, nodeCount: nodes.count)
        case .cutOneWay(let from, let to):
            network.cut(from: from, to: to)
        case .healPartitions:
            network.healPartitions()
        case .skewClock(let node, let offset):
            nodes[node].clock.skew(to: offset)
        case .jumpClock(let node, let delta):
            nodes[node].clock.jump(by: delta)
        case .loss(let drop, let duplicate):
            network.dropPerMillion = drop
            network.duplicatePerMillion = duplicate
        }
    }

    /// Ends every fault but clock skew: nodes restart, links heal, no more loss.
    func healAll() {
        network.healPartitions()
        network.calm()
        for node in nodes {
            node.diskFull = false
            node.failNextCommit = false
            if !node.isUp && !node.retired { node.restart() }
        }
    }

    /// The ring every live member serves by once no membership change is pending, and all
    /// of them agree on it; nil while they do not.
    func settledRing() -> Ring? {
        let members = nodes.filter { $0.isUp && !$0.retired && $0.membership.localStatus != nil }
        guard let first = members.first, members.allSatisfy({ !$0.membership.state.isChanging }) else { return nil }
        return members.allSatisfy { $0.serving == first.serving } ? first.serving : nil
    }
}
