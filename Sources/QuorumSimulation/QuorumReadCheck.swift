import QuorumCore

/// (e) In a run without faults: a read that began after a write was acknowledged, both
/// without sloppy quorum and with w + r above both requests' n, sees the write (its
/// version, or one that supersedes it).
enum QuorumReadCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        guard input.mix.isCalm, !input.disksWiped else { return [] }
        var violations: [CheckViolation] = []
        for name in input.keys {
            let requests = input.requests(on: name)
            let mode = input.props(name).conflict
            for read in requests where read.kind == .get && !read.sloppy {
                guard case .read(let state) = read.outcome, let readOptions = input.resolved(read) else { continue }
                for write in requests where write.isAcknowledged && !write.sloppy && write.completedAt! < read.invokedAt {
                    guard let writeOptions = input.resolved(write),
                        writeOptions.w + readOptions.r > max(writeOptions.n, readOptions.n)
                    else { continue }
                    let version = write.writtenVersion!
                    let sees: Bool
                    switch mode {
                    case .vclock: sees = state?.clock.covers(version.dot) ?? false
                    case .lww: sees = state?.siblings.first.map { $0 == version || $0.isNewer(than: version) } ?? false
                    }
                    if !sees {
                        violations.append(CheckViolation(
                            check: .quorumReads,
                            message: "\(name.text): \(CheckInput.describe(read)) missed \(CheckInput.describe(write))"))
                    }
                }
            }
        }
        return violations
    }
}
