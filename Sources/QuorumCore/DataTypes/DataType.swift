/// The convergent data type of a typed bucket (issue #16).
///
/// The raw value is the JSON spelling (`"datatype": "counter"` in bucket props and HTTP);
/// `wireByte` is the one byte encodings carry, so renaming a JSON spelling never changes
/// stored bytes.
public enum DataType: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    case counter
    case set
    case map

    public var wireByte: UInt8 {
        switch self {
        case .counter: return 1
        case .set: return 2
        case .map: return 3
        }
    }

    public init?(wireByte: UInt8) {
        switch wireByte {
        case 1: self = .counter
        case 2: self = .set
        case 3: self = .map
        default: return nil
        }
    }
}
