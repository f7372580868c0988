/// What one node has to copy while the cluster moves from its serving ring to its target
/// ring (a member joining or leaving), so that no acknowledged write is lost when the
/// serving ring switches.
///
/// Copies are anti-entropy exchanges of one partition with one peer: an exchange makes
/// both sides hold the merge of their states, so the same step serves as pull and push.
/// - A node gaining a partition (in its target preference list, not its serving one)
///   exchanges it with every serving replica, so it holds the union of what they hold.
/// - A node leaving the ring exchanges each partition it loses first with the other
///   serving replicas (so it holds the union, including writes only they acknowledged),
///   then with every target replica that is new to it, so the union reaches them. A node
///   that stays in the ring but loses a partition copies nothing: whoever gains it pulls
///   from every serving replica, this node included, so a push would repeat that work.
/// The member whose change it is (the joiner, the leaver) flips its status once all of
/// its own transfers are done; the switch then spreads by gossip. Other nodes run their
/// transfers too, and regular anti-entropy covers writes that land during the switch.
public enum RingChange {
    /// One partition to exchange with one peer: the same pair a routine exchange names.
    public typealias Transfer = AntiEntropySchedule.Pair

    /// The transfers `local` must finish, in order (by partition, sources before
    /// destinations); empty when the rings agree for it.
    /// - Parameter replicas: how many replicas a partition has (the largest bucket `n`,
    ///   capped at each ring's size).
    public static func transfers(local: String, serving: Ring?, target: Ring?, replicas: Int) -> [Transfer] {
        guard let target, replicas >= 1 else { return [] }
        guard let serving else { return [] }  // a cluster being founded has no data to move
        precondition(serving.partitionCount == target.partitionCount, "rings of one cluster have one partition count")
        var transfers: [Transfer] = []
        let servingN = min(replicas, serving.members.count)
        let targetN = min(replicas, target.members.count)
        let staying = target.members.contains(local)
        for partition in 0..<serving.partitionCount {
            let before = serving.preferenceList(partition: partition, n: servingN)
            let after = target.preferenceList(partition: partition, n: targetN)
            let heldBefore = before.contains(local)
            let heldAfter = after.contains(local)
            if heldAfter && !heldBefore {
                transfers += before.map { Transfer(partition: partition, peer: $0) }
            } else if heldBefore && !heldAfter && !staying {
                transfers += before.filter { $0 != local }.map { Transfer(partition: partition, peer: $0) }
                transfers += after.filter { !before.contains($0) }.map { Transfer(partition: partition, peer: $0) }
            }
        }
        return transfers
    }
}
