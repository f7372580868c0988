/// A fixed-size set of operation indices, as 64-bit words: the "which operations are
/// linearized so far" half of the search's memo key. Value semantics, so a copy can be
/// stored in the memo while the search keeps changing its own.
struct OperationSet: Hashable {
    private var words: [UInt64]

    init(capacity: Int) { words = Array(repeating: 0, count: (capacity + 63) / 64) }

    mutating func insert(_ index: Int) { words[index >> 6] |= 1 << UInt64(index & 63) }
    mutating func remove(_ index: Int) { words[index >> 6] &= ~(1 << UInt64(index & 63)) }
    func contains(_ index: Int) -> Bool { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }

    func inserting(_ index: Int) -> OperationSet {
        var copy = self
        copy.insert(index)
        return copy
    }
}
