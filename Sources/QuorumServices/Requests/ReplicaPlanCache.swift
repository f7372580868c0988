import QuorumCore

/// The replica plans a driver's requests start from, by (partition, n, sloppy), kept for
/// the ring and the unreachable peers they were made from, so a request neither walks the
/// ring for its preference list and stand-ins nor copies the set of unreachable peers.
///
/// Every lookup checks both: the ring by value (the ring a context hands out is a stored
/// value whose arrays are shared, so an unchanged ring compares by identity, in constant
/// time) and the unreachable peers by `RequestContext.unreachableGeneration`. Either
/// change drops every plan. The table is direct-mapped with at most `entriesMax` slots
/// (`ServiceDefaults.replicaPlansCachedMax`): two keys that share a slot take turns, at
/// the cost of a rebuild, never of a wrong plan (a slot keeps its whole key).
struct ReplicaPlanCache {
    private struct Entry {
        var partition: Int
        var n: Int
        var sloppy: Bool
        var plan: ReplicaPlan
    }

    let entriesMax: Int
    private var ring: Ring?
    private var unreachableGeneration: UInt64 = 0
    private var unreachable: Set<String> = []
    private var slots: [Entry?] = []
    /// log2 of the slot count.
    private var slotBits = 0
    /// Lookups answered from the table and plans built, for tests and profiles.
    private(set) var hits = 0
    private(set) var misses = 0

    init(entriesMax: Int) {
        precondition(entriesMax >= 1, "the plan cache holds at least one plan")
        self.entriesMax = entriesMax
    }

    /// Plans cached now.
    var count: Int { slots.count { $0 != nil } }

    /// The key's plan on `ring`, with `context`'s unreachable peers on stand-ins when sloppy.
    mutating func plan(ring: Ring, partition: Int, n: Int, sloppy: Bool, context: any RequestContext) -> ReplicaPlan {
        let generation = context.unreachableGeneration
        if generation != unreachableGeneration || self.ring != ring {
            reset(ring: ring, generation: generation, unreachable: context.unreachable())
        }
        let index = slot(partition: partition, n: n, sloppy: sloppy)
        if let entry = slots[index], entry.partition == partition, entry.n == n, entry.sloppy == sloppy {
            hits &+= 1
            return entry.plan
        }
        misses &+= 1
        let plan = ReplicaPlan(
            primaries: ring.preferenceList(partition: partition, n: n), fallbacks: ring.fallbacks(partition: partition, n: n),
            down: unreachable, sloppy: sloppy)
        slots[index] = Entry(partition: partition, n: n, sloppy: sloppy, plan: plan)
        return plan
    }

    private mutating func reset(ring: Ring, generation: UInt64, unreachable: Set<String>) {
        self.ring = ring
        unreachableGeneration = generation
        self.unreachable = unreachable
        // Room for four plans per partition, as a power of two, within the bound.
        var bits = 0
        while bits < 62, 1 << (bits + 1) <= entriesMax, 1 << bits < ring.partitionCount * 4 { bits += 1 }
        slotBits = bits
        slots = Array(repeating: nil, count: 1 << bits)
    }

    /// Fibonacci hashing of a key that is unique per (partition, n, sloppy) for n < 64.
    private func slot(partition: Int, n: Int, sloppy: Bool) -> Int {
        guard slotBits > 0 else { return 0 }
        let key = UInt64(truncatingIfNeeded: partition) &* 128 &+ UInt64(truncatingIfNeeded: n) &* 2 &+ (sloppy ? 1 : 0)
        return Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slotBits))
    }
}
