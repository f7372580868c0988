/// One reply. The server answers RESP2's five types, which RESP3 clients read too; the
/// only RESP3-only type is the map, sent only to a connection that said `HELLO 3` (for
/// `HELLO`, `CONFIG GET` and `COMMAND DOCS`, which RESP3 clients read as maps), so clients
/// that insist on RESP3 (redis-py 8 by default) work.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`: a short status without CR or LF.
    case simpleString(String)
    /// `-PREFIX message`: the first word is the stable prefix clients match on.
    case error(String)
    /// `:42`
    case integer(Int)
    /// `$5\r\nhello`, or `$-1` (nil) for an absent value.
    case bulkString([UInt8]?)
    /// `*2 …`, or `*-1` (nil).
    case array([RESPValue]?)
    /// RESP3 `%2 …`: alternating keys and values. Sent only to a connection that said `HELLO 3`.
    case map([RESPValue])

    public static let ok = RESPValue.simpleString("OK")
    public static let null = RESPValue.bulkString(nil)

    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    /// An error reply: `prefix` is the stable first word (`ERR`, `QUORUM`, …). CR and LF
    /// in the message become spaces, since a simple error is one line.
    public static func error(prefix: String, _ message: String) -> RESPValue {
        .error(prefix + " " + RESPValue.oneLine(message))
    }

    static func oneLine(_ text: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(scalar == "\r" || scalar == "\n" ? " " : scalar)
        }
        return String(scalars)
    }

    /// Bytes this value takes on the wire; used to bound buffered replies.
    public var encodedSize: Int {
        switch self {
        case .simpleString(let text), .error(let text): return text.utf8.count + 3
        case .integer: return 24
        case .bulkString(let bytes?): return bytes.count + 16
        case .bulkString(nil), .array(nil): return 5
        case .array(let elements?), .map(let elements): return elements.reduce(16) { $0 + $1.encodedSize }
        }
    }

    /// Whether this is an error reply.
    public var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
