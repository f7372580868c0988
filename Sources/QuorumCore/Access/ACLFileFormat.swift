/// The ACL file: one `user` line per user, in the spirit of Redis's aclfile.
///
/// ```
/// # comment
/// user <name> on|off [password:pbkdf2-sha256:<iterations>:<salt hex>:<key hex>]
///      [token:<sha256 hex>]... [grant:<action>[,<action>]...:<bucket pattern>]...
/// ```
/// (one line per user; words are separated by spaces or tabs). Actions are `read`,
/// `write`, `delete`, `list`, `admin`; patterns are bucket names with `*` and `?`.
/// `user default on|off [grant:…]…` sets the built-in `default` user; without that line it
/// is on with every action on `*` (still only on loopback listeners).
///
/// `parse` is a pure, total function of the bytes: every bound comes from `AccessLimits`,
/// and a malformed file is refused with the line number and the reason, never read in
/// part. The fuzz target for the file calls exactly this.
public enum ACLFileFormat {
    public static func parse(_ bytes: [UInt8], limits: AccessLimits = .defaults) throws(ACLParseError) -> ACL {
        guard bytes.count <= limits.fileBytesMax else {
            throw ACLParseError(line: 0, reason: "the file is \(bytes.count) bytes; the limit is \(limits.fileBytesMax)")
        }
        var acl = ACL()
        // A token names one user: the same digest on two lines would make a login ambiguous.
        var tokenOwners: [[UInt8]: String] = [:]
        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var line = bytes[start..<end]
            start = end + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.count <= limits.lineBytesMax else {
                throw ACLParseError(line: lineNumber, reason: "the line is \(line.count) bytes; the limit is \(limits.lineBytesMax)")
            }
            let words = try split(line, lineNumber: lineNumber)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            guard first == "user" else {
                throw ACLParseError(line: lineNumber, reason: "expected 'user <name> on|off …' or a '#' comment, found '\(first)'")
            }
            let user = try parseUser(Array(words.dropFirst()), lineNumber: lineNumber, limits: limits)
            guard acl.users[user.name] == nil else {
                throw ACLParseError(line: lineNumber, reason: "user '\(user.name)' is defined twice; keep one line per user")
            }
            guard acl.order.count < limits.usersMax else {
                throw ACLParseError(line: lineNumber, reason: "more than \(limits.usersMax) users")
            }
            for digest in user.tokenDigests {
                if let owner = tokenOwners[digest] {
                    let reason = owner == user.name
                        ? "user '\(owner)' lists the same token twice" : "user '\(user.name)' has a token user '\(owner)' has too; make a new one"
                    throw ACLParseError(line: lineNumber, reason: reason)
                }
                tokenOwners[digest] = user.name
            }
            acl.upsert(user)
        }
        return acl
    }

    /// The file for `acl`: a header comment and one line per user, in order. `parse` of
    /// the result gives `acl` back.
    public static func render(_ acl: ACL) -> String {
        var lines = [
            "# QuorumKV ACL file (see docs/security.md). One line per user:",
            "# user <name> on|off [password:pbkdf2-sha256:<iterations>:<salt hex>:<key hex>] [token:<sha256 hex>]... [grant:<actions>:<bucket pattern>]...",
            "# Edit with `quorumkv user add|passwd|remove|list --acl FILE`; reload a node with SIGHUP or POST /admin/acl/reload.",
        ]
        for name in acl.order {
            guard let user = acl.users[name] else { continue }
            lines.append(render(user))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func render(_ user: ACLUser) -> String {
        var words = ["user", user.name, user.enabled ? "on" : "off"]
        if let password = user.password {
            words.append("password:\(password.scheme):\(password.iterations):\(hex(password.salt)):\(hex(password.derivedKey))")
        }
        for digest in user.tokenDigests { words.append("token:\(hex(digest))") }
        for grant in user.grants {
            words.append("grant:\(grant.actions.sorted().map(\.rawValue).joined(separator: ",")):\(grant.pattern)")
        }
        return words.joined(separator: " ")
    }

    /// Parses `read,write:apples`, as `grant:` and the CLI's `--grant` take it.
    public static func parseGrant(_ text: String, limits: AccessLimits = .defaults) throws(ACLParseError) -> ACLGrant {
        guard let colon = text.firstIndex(of: ":") else {
            throw ACLParseError(line: 0, reason: "grant '\(text)' needs the form <actions>:<bucket pattern>, e.g. read,write:apples")
        }
        var actions = Set<AccessAction>()
        for word in text[..<colon].split(separator: ",", omittingEmptySubsequences: false) {
            guard let action = AccessAction(rawValue: String(word)) else {
                throw ACLParseError(
                    line: 0, reason: "unknown action '\(word)' in grant; the actions are \(AccessAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            actions.insert(action)
        }
        let pattern = String(text[text.index(after: colon)...])
        guard !pattern.isEmpty, pattern.utf8.count <= limits.patternBytesMax else {
            throw ACLParseError(line: 0, reason: "a grant's bucket pattern is 1 to \(limits.patternBytesMax) bytes")
        }
        guard pattern.utf8.allSatisfy({ isNameByte($0) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }) else {
            throw ACLParseError(line: 0, reason: "bucket pattern '\(pattern)' may hold only letters, digits, '_', '.', '-', '*' and '?'")
        }
        return ACLGrant(actions: actions, pattern: pattern)
    }

    /// Whether `name` is a valid user name.
    public static func isValidUserName(_ name: String, limits: AccessLimits = .defaults) -> Bool {
        !name.isEmpty && name.utf8.count <= limits.userNameBytesMax
            && name.utf8.allSatisfy { isNameByte($0) || $0 == UInt8(ascii: "@") }
    }

    // MARK: - Pieces

    private static func parseUser(_ words: [String], lineNumber: Int, limits: AccessLimits) throws(ACLParseError) -> ACLUser {
        guard words.count >= 2 else {
            throw ACLParseError(line: lineNumber, reason: "a user line needs a name and 'on' or 'off'")
        }
        let name = words[0]
        guard isValidUserName(name, limits: limits) else {
            throw ACLParseError(
                line: lineNumber, reason: "user name '\(name)' must be 1 to \(limits.userNameBytesMax) of letters, digits, '_', '.', '-', '@'")
        }
        let enabled: Bool
        switch words[1] {
        case "on": enabled = true
        case "off": enabled = false
        default: throw ACLParseError(line: lineNumber, reason: "user '\(name)': expected 'on' or 'off' after the name, found '\(words[1])'")
        }
        var user = ACLUser(name: name, enabled: enabled)
        for word in words.dropFirst(2) {
            if word.hasPrefix("password:") {
                guard user.password == nil else {
                    throw ACLParseError(line: lineNumber, reason: "user '\(name)' has two passwords; keep one")
                }
                user.password = try parsePassword(String(word.dropFirst("password:".count)), lineNumber: lineNumber, limits: limits)
            } else if word.hasPrefix("token:") {
                guard let digest = unhex(String(word.dropFirst("token:".count))), digest.count == 32 else {
                    throw ACLParseError(line: lineNumber, reason: "user '\(name)': a token is the 64 hex digits of its SHA-256")
                }
                guard user.tokenDigests.count < limits.tokensPerUserMax else {
                    throw ACLParseError(line: lineNumber, reason: "user '\(name)' has more than \(limits.tokensPerUserMax) tokens")
                }
                user.tokenDigests.append(digest)
            } else if word.hasPrefix("grant:") {
                guard user.grants.count < limits.grantsPerUserMax else {
                    throw ACLParseError(line: lineNumber, reason: "user '\(name)' has more than \(limits.grantsPerUserMax) grants")
                }
                do {
                    user.grants.append(try parseGrant(String(word.dropFirst("grant:".count)), limits: limits))
                } catch {
                    throw ACLParseError(line: lineNumber, reason: "user '\(name)': \(error.reason)")
                }
            } else {
                throw ACLParseError(
                    line: lineNumber, reason: "user '\(name)': unknown word '\(word.prefix(32))'; expected password:, token: or grant:")
            }
        }
        if name == ACL.defaultUserName, user.password != nil || !user.tokenDigests.isEmpty {
            throw ACLParseError(
                line: lineNumber,
                reason: "the default user has no password or token (it is who unauthenticated loopback clients are); give them to another user")
        }
        return user
    }

    private static func parsePassword(_ text: String, lineNumber: Int, limits: AccessLimits) throws(ACLParseError) -> PasswordHash {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == PasswordHash.pbkdf2SHA256 else {
            throw ACLParseError(line: lineNumber, reason: "a password is pbkdf2-sha256:<iterations>:<salt hex>:<key hex>")
        }
        guard let iterations = Int(parts[1]), iterations >= limits.passwordIterationsMin, iterations <= limits.passwordIterationsMax else {
            throw ACLParseError(
                line: lineNumber,
                reason: "password iterations must be \(limits.passwordIterationsMin) to \(limits.passwordIterationsMax); set the password again with `quorumkv user passwd`")
        }
        guard let salt = unhex(String(parts[2])), salt.count >= limits.saltBytesMin, salt.count <= limits.saltBytesMax else {
            throw ACLParseError(line: lineNumber, reason: "a password's salt is \(limits.saltBytesMin) to \(limits.saltBytesMax) bytes in hex")
        }
        guard let key = unhex(String(parts[3])), key.count == limits.derivedKeyBytes else {
            throw ACLParseError(line: lineNumber, reason: "a password's key is \(limits.derivedKeyBytes) bytes in hex")
        }
        return PasswordHash(iterations: iterations, salt: salt, derivedKey: key)
    }

    /// The line's words; a byte outside printable ASCII, space and tab is refused.
    private static func split(_ line: ArraySlice<UInt8>, lineNumber: Int) throws(ACLParseError) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        for byte in line {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
                current.removeAll(keepingCapacity: true)
            } else if byte > 0x20 && byte < 0x7F {
                current.append(byte)
            } else {
                throw ACLParseError(line: lineNumber, reason: "byte 0x\(hex([byte])) is not allowed; the file is printable ASCII")
            }
        }
        if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "-")
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func unhex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

/// A refused ACL file: the line (1-based; 0 for the file as a whole) and why.
public struct ACLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String {
        line == 0 ? "ACL file: \(reason)" : "ACL file line \(line): \(reason)"
    }
}
