/// How many replicas must answer: a number, or a named level resolved against `n`.
///
/// Named levels follow Cassandra and `cqlsh`; `quorum` is ⌊n/2⌋+1.
public enum ConsistencyLevel: Sendable, Equatable, Hashable {
    case count(Int)
    case one, two, three, quorum, all

    /// Parses `2`, `one`, `QUORUM`, `all` (case-insensitive).
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "one": self = .one
        case "two": self = .two
        case "three": self = .three
        case "quorum": self = .quorum
        case "all": self = .all
        default:
            guard let number = Int(text), number >= 0 else { return nil }
            self = .count(number)
        }
    }

    /// The replica count this level means for `n` replicas.
    public func resolve(n: Int) -> Int {
        switch self {
        case .count(let number): return number
        case .one: return 1
        case .two: return 2
        case .three: return 3
        case .quorum: return n / 2 + 1
        case .all: return n
        }
    }

    public var description: String {
        switch self {
        case .count(let number): return String(number)
        case .one: return "one"
        case .two: return "two"
        case .three: return "three"
        case .quorum: return "quorum"
        case .all: return "all"
        }
    }
}
