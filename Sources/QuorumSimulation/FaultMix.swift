/// Which faults a run draws. A seed picks its mix (`forSeed`), so any range of seeds runs
/// all of them in turn.
public enum FaultMix: String, Sendable, CaseIterable, Equatable {
    /// Delays and reordering only: no loss, no partitions, no crashes, exact clocks. The
    /// only mix where checks (e) and (f) on quorum overlap apply.
    case calm
    /// Messages dropped and duplicated.
    case lossy
    /// Symmetric and one-way partitions that come and go.
    case partitions
    /// Nodes crash (losing uncommitted writes) and restart; disks stall now and then.
    case crashes
    /// Clock skew and jumps, forwards and back.
    case clocks
    /// All of the above at once.
    case chaos

    public static func forSeed(_ seed: UInt64) -> FaultMix {
        allCases[Int(seed % UInt64(allCases.count))]
    }

    var dropsMessages: Bool { self == .lossy || self == .chaos }
    var partitionsNodes: Bool { self == .partitions || self == .chaos }
    var crashesNodes: Bool { self == .crashes || self == .chaos }
    var skewsClocks: Bool { self == .clocks || self == .chaos }
    /// No fault of any kind: reads must see every write acknowledged before them.
    var isCalm: Bool { self == .calm }
}
