import QuorumCore

/// One line of `quorumkv shell`, parsed. Pure data: the shell decides what to do with it.
public enum ShellStatement: Sendable, Equatable {
    /// A blank line or a `#` comment.
    case empty
    case get(key: String)
    /// A blind write; `PUTEX key seconds value` (or `SETEX`) gives it a ttl.
    case put(key: String, value: String, ttlSeconds: UInt64? = nil)
    /// A write with the context of the last `GET` of the same key.
    case resolve(key: String, value: String)
    /// `DELETE key`, or `DELETE key CONTEXT` with the context of the last `GET` of the key.
    case delete(key: String, withContext: Bool)
    /// `USE bucket`; nil shows the current bucket.
    case use(bucket: String?)
    /// `CONSISTENCY …`; nil shows the current levels.
    case consistency(ShellConsistencyChange?)
    /// `TIMEOUT ms` or `TIMEOUT DEFAULT`; nil shows the current timeout.
    case timeout(ShellTimeoutChange?)
    /// Shows the context of the last read.
    case context
    /// `KEYS [limit]` (a new listing) or `KEYS MORE [limit]` (the next page of the last one).
    case keys(limit: Int?, more: Bool)
    /// Shows the bucket's properties.
    case props
    /// `HISTORY [count]`.
    case history(last: Int?)
    /// `!n` (1-based, as `HISTORY` numbers lines) or `!!` (nil: the previous line).
    case rerun(number: Int?)
    /// `CONNECT host:port`; nil shows the current endpoint.
    case connect(endpoint: String?)
    /// A counter, set or map command (`INCR`, `SADD`, `HSET`, `READ`, …) on the current bucket.
    case typed(TypedClientCommand)
    case help(topic: String?)
    case quit
}

/// A change of the shell's r/w/n/pr/pw. Only the levels named change; `reset` first
/// returns every level to the bucket's default.
public struct ShellConsistencyChange: Sendable, Equatable {
    public var reset = false
    public var n: Int?
    public var r: ConsistencyLevel?
    public var w: ConsistencyLevel?
    public var pr: ConsistencyLevel?
    public var pw: ConsistencyLevel?

    public init(
        reset: Bool = false, n: Int? = nil, r: ConsistencyLevel? = nil, w: ConsistencyLevel? = nil,
        pr: ConsistencyLevel? = nil, pw: ConsistencyLevel? = nil
    ) {
        self.reset = reset
        self.n = n
        self.r = r
        self.w = w
        self.pr = pr
        self.pw = pw
    }

    public func apply(to options: inout RequestOptions) {
        if reset {
            options.n = nil
            options.r = nil
            options.w = nil
            options.pr = nil
            options.pw = nil
        }
        if let n { options.n = n }
        if let r { options.r = r }
        if let w { options.w = w }
        if let pr { options.pr = pr }
        if let pw { options.pw = pw }
    }
}

public enum ShellTimeoutChange: Sendable, Equatable {
    case milliseconds(Int)
    /// Back to the server's default.
    case serverDefault
}

/// Why a line did not parse: `code` is `syntax_error` (the shape is wrong) or
/// `bad_parameter` (a value is), and `message` says what to type instead.
public struct ShellParseError: Error, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    static func syntax(_ message: String) -> ShellParseError { ShellParseError(code: "syntax_error", message: message) }
    static func parameter(_ message: String) -> ShellParseError { ShellParseError(code: "bad_parameter", message: message) }
}

/// Parses the lines of `quorumkv shell`. No IO, no state.
///
/// Command words are case-insensitive; keys and values are not. A key is one word, or
/// quoted: `"…"` (with `\"`, `\\`, `\n`, `\t`, `\r` escapes) or `'…'` (literal). A
/// `PUT`/`RESOLVE` value is the rest of the line (trailing spaces dropped) or, when it
/// starts with a quote, exactly one quoted string.
public enum ShellCommandParser {
    /// The command words, for help and completion.
    public static let commandWords = [
        "GET", "PUT", "PUTEX", "RESOLVE", "DELETE", "USE", "CONSISTENCY", "TIMEOUT", "CONTEXT", "KEYS", "PROPS", "HISTORY",
        "CONNECT", "HELP", "QUIT", "EXIT",
    ] + TypedClientCommand.words

    public static func parse(_ line: String) throws(ShellParseError) -> ShellStatement {
        let trimmed = line.trimmingWhitespace()
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return .empty }
        if trimmed.hasPrefix("!") { return try rerun(String(trimmed.dropFirst())) }

        var scanner = ShellLineScanner(trimmed)
        guard let word = try scanner.nextWord() else { return .empty }
        switch word.uppercased() {
        case "GET":
            return .get(key: try onlyKey(&scanner, "GET"))
        case "DELETE", "DEL":
            let words = try scanner.remainingWords()
            guard words.count == 1 || (words.count == 2 && words[1].uppercased() == "CONTEXT") else {
                throw .syntax("usage: DELETE <key> [CONTEXT] (quote a key that has spaces)")
            }
            return .delete(key: try checkedKey(words[0]), withContext: words.count == 2)
        case "PUT", "SET":
            let (key, value) = try keyAndValue(&scanner, "PUT")
            return .put(key: key, value: value)
        case "PUTEX", "SETEX":
            guard let key = try scanner.nextWord(), let seconds = try scanner.nextWord() else {
                throw .syntax("usage: PUTEX <key> <seconds> <value>")
            }
            guard let ttl = UInt64(seconds), ttl >= 1, ttl <= Limits.defaults.ttlSecondsMax else {
                throw .parameter("the ttl must be a whole number of seconds from 1 to \(Limits.defaults.ttlSecondsMax), got \(seconds)")
            }
            let (_, value) = try keyAndValue(&scanner, "PUTEX", key: key)
            return .put(key: try checkedKey(key), value: value, ttlSeconds: ttl)
        case "RESOLVE":
            let (key, value) = try keyAndValue(&scanner, "RESOLVE")
            return .resolve(key: key, value: value)
        case "USE":
            let words = try scanner.remainingWords()
            guard words.count <= 1 else { throw .syntax("usage: USE <bucket>") }
            guard let bucket = words.first else { return .use(bucket: nil) }
            do {
                try validateBucketName(bucket)
            } catch {
                throw .parameter(error.message)
            }
            return .use(bucket: bucket)
        case "CONSISTENCY":
            return .consistency(try consistency(try scanner.remainingWords()))
        case "TIMEOUT":
            return .timeout(try timeout(try scanner.remainingWords()))
        case "CONTEXT":
            try noArguments(&scanner, "CONTEXT")
            return .context
        case "KEYS":
            return try keys(try scanner.remainingWords())
        case "PROPS":
            try noArguments(&scanner, "PROPS")
            return .props
        case "HISTORY":
            let words = try scanner.remainingWords()
            guard words.count <= 1 else { throw .syntax("usage: HISTORY [count]") }
            return .history(last: try words.first.map { word throws(ShellParseError) in try positive(word, "HISTORY count") })
        case "CONNECT":
            let words = try scanner.remainingWords()
            guard words.count <= 1 else { throw .syntax("usage: CONNECT <host:port>") }
            return .connect(endpoint: words.first)
        case "HELP", "?":
            let words = try scanner.remainingWords()
            guard words.count <= 1 else { throw .syntax("usage: HELP [command]") }
            return .help(topic: words.first?.uppercased())
        case "QUIT", "EXIT":
            try noArguments(&scanner, word.uppercased())
            return .quit
        case let typed where TypedClientCommand.words.contains(typed):
            return .typed(try TypedClientCommand.parse([word] + scanner.remainingWords()))
        default:
            throw .syntax("unknown command \"\(word)\"; type HELP for the list")
        }
    }

    // MARK: - Commands

    private static func rerun(_ text: String) throws(ShellParseError) -> ShellStatement {
        if text == "!" { return .rerun(number: nil) }
        guard let number = Int(text), number >= 1 else {
            throw .syntax("use !n to run line n of HISTORY again, or !! for the previous line")
        }
        return .rerun(number: number)
    }

    private static func onlyKey(_ scanner: inout ShellLineScanner, _ command: String) throws(ShellParseError) -> String {
        let words = try scanner.remainingWords()
        guard words.count == 1 else {
            throw .syntax("usage: \(command) <key>\(words.count > 1 ? " (quote a key that has spaces)" : "")")
        }
        return try checkedKey(words[0])
    }

    /// The key (read from `scanner` unless given) and the value: the rest of the line,
    /// or one quoted string.
    private static func keyAndValue(_ scanner: inout ShellLineScanner, _ command: String, key given: String? = nil)
        throws(ShellParseError) -> (key: String, value: String)
    {
        var found = given
        if found == nil { found = try scanner.nextWord() }
        guard let key = found else { throw .syntax("usage: \(command) <key> <value>") }
        let rest = scanner.rest.trimmingWhitespace()
        guard let first = rest.first else { throw .syntax("usage: \(command) <key> <value>") }
        guard first == "\"" || first == "'" else { return (try checkedKey(key), String(rest)) }
        var valueScanner = ShellLineScanner(rest)
        let words = try valueScanner.remainingWords()
        guard words.count == 1 else {
            throw .syntax("a quoted value must be the whole rest of the line: \(command) <key> \"<value>\"")
        }
        return (try checkedKey(key), words[0])
    }

    private static func checkedKey(_ key: String) throws(ShellParseError) -> String {
        guard !key.isEmpty else { throw .parameter("the key must not be empty") }
        return key
    }

    private static func noArguments(_ scanner: inout ShellLineScanner, _ command: String) throws(ShellParseError) {
        guard try scanner.remainingWords().isEmpty else { throw .syntax("\(command) takes no arguments") }
    }

    static let consistencyUsage =
        "usage: CONSISTENCY [ONE|TWO|THREE|QUORUM|ALL|<number>] | CONSISTENCY [R <level>] [W <level>] [N <count>] [PR <level>] [PW <level>] | CONSISTENCY DEFAULT"

    private static func consistency(_ words: [String]) throws(ShellParseError) -> ShellConsistencyChange? {
        // `R=2` is the same as `R 2` (the prompt shows levels that way).
        let words = words.flatMap { word in word.split(separator: "=", omittingEmptySubsequences: true).map(String.init) }
        if words.isEmpty { return nil }
        if words.count == 1 {
            if ["DEFAULT", "RESET"].contains(words[0].uppercased()) { return ShellConsistencyChange(reset: true) }
            guard let level = ConsistencyLevel(parsing: words[0]) else {
                throw .parameter("\"\(words[0])\" is not a level: use ONE, TWO, THREE, QUORUM, ALL or a number\n\(consistencyUsage)")
            }
            return ShellConsistencyChange(r: level, w: level)
        }
        guard words.count % 2 == 0 else { throw .syntax(consistencyUsage) }
        var change = ShellConsistencyChange()
        var seen: Set<String> = []
        for index in stride(from: 0, to: words.count, by: 2) {
            let name = words[index].uppercased()
            let value = words[index + 1]
            guard seen.insert(name).inserted else { throw .syntax("\(name) is given twice") }
            switch name {
            case "N":
                change.n = try positive(value, "N")
            case "R", "W", "PR", "PW":
                guard let level = ConsistencyLevel(parsing: value) else {
                    throw .parameter("\(name) must be a number or one of ONE, TWO, THREE, QUORUM, ALL; got \"\(value)\"")
                }
                switch name {
                case "R": change.r = level
                case "W": change.w = level
                case "PR": change.pr = level
                default: change.pw = level
                }
            default:
                throw .syntax("unknown level \"\(words[index])\": expected R, W, N, PR or PW\n\(consistencyUsage)")
            }
        }
        return change
    }

    private static func timeout(_ words: [String]) throws(ShellParseError) -> ShellTimeoutChange? {
        guard words.count <= 1 else { throw .syntax("usage: TIMEOUT [<milliseconds>|DEFAULT]") }
        guard let word = words.first else { return nil }
        if word.uppercased() == "DEFAULT" { return .serverDefault }
        return .milliseconds(try positive(word, "TIMEOUT"))
    }

    private static func keys(_ words: [String]) throws(ShellParseError) -> ShellStatement {
        var words = words[...]
        let more = words.first?.uppercased() == "MORE"
        if more { words = words.dropFirst() }
        guard words.count <= 1 else { throw .syntax("usage: KEYS [limit] | KEYS MORE [limit]") }
        return .keys(limit: try words.first.map { word throws(ShellParseError) in try positive(word, "KEYS limit") }, more: more)
    }

    private static func positive(_ text: String, _ what: String) throws(ShellParseError) -> Int {
        guard let number = Int(text), number >= 1 else {
            throw .parameter("\(what) must be a positive integer, got \"\(text)\"")
        }
        return number
    }
}

/// Splits a line into words: runs of non-space characters, where `"…"` and `'…'` may
/// hold spaces (`a"b c"` is one word, `ab c`), and `rest` is what is not yet read.
struct ShellLineScanner {
    private let text: Substring
    private var index: Substring.Index

    init(_ text: Substring) {
        self.text = text
        index = text.startIndex
    }

    var rest: Substring { text[index...] }

    mutating func remainingWords() throws(ShellParseError) -> [String] {
        var words: [String] = []
        while let word = try nextWord() { words.append(word) }
        return words
    }

    /// The next word, or nil at the end of the line.
    mutating func nextWord() throws(ShellParseError) -> String? {
        while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
        guard index < text.endIndex else { return nil }
        var word = ""
        while index < text.endIndex, !text[index].isWhitespace {
            let character = text[index]
            index = text.index(after: index)
            switch character {
            case "\"": word += try quoted(closing: "\"", escapes: true)
            case "'": word += try quoted(closing: "'", escapes: false)
            default: word.append(character)
            }
        }
        return word
    }

    private mutating func quoted(closing: Character, escapes: Bool) throws(ShellParseError) -> String {
        var word = ""
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            if character == closing { return word }
            if escapes, character == "\\", index < text.endIndex {
                let escaped = text[index]
                index = text.index(after: index)
                switch escaped {
                case "n": word.append("\n")
                case "t": word.append("\t")
                case "r": word.append("\r")
                case "0": word.append("\0")
                case "\\", "\"", "'": word.append(escaped)
                default:
                    word.append("\\")
                    word.append(escaped)
                }
            } else {
                word.append(character)
            }
        }
        throw .syntax("unterminated \(closing) quote")
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}
