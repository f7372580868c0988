import QuorumCore

/// Turns service failures into RESP errors whose first word is a stable prefix, so a
/// client can tell a quorum failure from a bad request without parsing prose.
///
/// | `KVError.code` | prefix |
/// | --- | --- |
/// | `bad_parameter` | `BADPARAM` |
/// | `too_large` | `TOOLARGE` |
/// | `quorum_not_met` | `QUORUM` |
/// | `overloaded` | `OVERLOADED` |
/// | `unavailable` | `UNAVAILABLE` |
/// | `sibling_limit` | `SIBLINGLIMIT` |
/// | `precondition_failed` | `PRECONDITION` |
/// | `not_found` | `NOTFOUND` |
/// | `internal` | `INTERNAL` |
/// | `forbidden` | `NOPERM` (Redis's word for a command or key the user may not use) |
/// | `wrong_type` | `WRONGTYPE`, with Redis's own text (clients match it) |
///
/// `ERR` stays Redis's: syntax, arity, unknown commands, protocol errors. `SIBLINGS`
/// answers a plain read of a key with several versions.
public enum RESPErrorReply {
    public static let prefixes: [String: String] = [
        "bad_parameter": "BADPARAM",
        "too_large": "TOOLARGE",
        "quorum_not_met": "QUORUM",
        "overloaded": "OVERLOADED",
        "unavailable": "UNAVAILABLE",
        "sibling_limit": "SIBLINGLIMIT",
        "precondition_failed": "PRECONDITION",
        "not_found": "NOTFOUND",
        "internal": "INTERNAL",
        "forbidden": "NOPERM",
        "wrong_type": "WRONGTYPE",
    ]

    /// The prefix for a service error code; a code added later still gets a distinct,
    /// predictable prefix (upper case, underscores dropped).
    public static func prefix(forCode code: String) -> String {
        prefixes[code] ?? code.uppercased().filter { $0 != "_" }
    }

    public static func reply(for error: KVError) -> RESPValue {
        if case .wrongType = error { return .error(prefix: "WRONGTYPE", wrongTypeText) }
        return .error(prefix: prefix(forCode: error.code), error.message)
    }

    /// Redis's text for `WRONGTYPE`; the detail (`KVError.message`) goes to HTTP clients.
    public static let wrongTypeText = "Operation against a key holding the wrong kind of value"

    /// A conditional form only a strong bucket can run atomically, sent to an eventual one.
    public static func needsStrongBucket(command: String, bucket: String) -> RESPValue {
        .error(
            prefix: "NOTSUPPORTED",
            "\(command) needs a strongly consistent bucket: bucket '\(bucket)' is eventually consistent, where comparing "
                + "the value and writing can't be one atomic step; use a bucket created with consistency strong "
                + "(docs/strong.md), or read with QGET and write with QSET and the context")
    }

    /// A command that has no meaning on a strong bucket (expiry, counters, sets, maps,
    /// contexts): say so, and which commands do apply.
    public static func notOnStrongBucket(command: String, bucket: String) -> RESPValue {
        .error(
            prefix: "NOTSUPPORTED",
            "\(command) does not apply to bucket '\(bucket)': it is strongly consistent, its keys hold plain values read "
                + "and written through consensus, without expiry, contexts or counters, sets and maps; use \(strongCommands)")
    }

    /// The commands a strong bucket runs, for `notOnStrongBucket`'s message.
    static let strongCommands =
        "GET, SET [NX|XX|IFEQ old] [GET], SETNX, GETSET, GETDEL, DEL, DELIFEQ, EXISTS, TYPE, STRLEN, MGET, MSET"

    /// A plain `GET` found concurrent versions: say how many and which commands resolve them.
    public static func siblings(key: [UInt8], count: Int) -> RESPValue {
        .error(
            prefix: "SIBLINGS",
            "key '\(RESPCommand.printable(key, max: 64))' has \(count) siblings; use QGET to read them and QSET with the context to resolve")
    }
}
