/// (g) Once every fault healed and the repair window passed, no node's failure detector
/// still believes a peer down: every node is up and gossiping, so a peer that stays "down"
/// is one whose heartbeats are being ignored.
enum LivenessCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        input.believedDown.map { entry in
            CheckViolation(
                check: .liveness,
                message: "\(entry.node) still believes [\(entry.peers.joined(separator: ","))] down after every fault healed")
        }
    }
}
