import QuorumNode

/// What `HELP` prints in `quorumkv shell`.
enum ShellHelp {
    struct Entry {
        /// The command words this entry explains (`HELP <word>`).
        var words: [String]
        var lines: [(usage: String, summary: String)]
    }

    static let entries: [Entry] = [
        Entry(words: ["GET"], lines: [("GET <key>", "Read a key (siblings are listed with their context)")]),
        Entry(
            words: ["PUT", "SET"],
            lines: [("PUT <key> <value>", "Write; the value is the rest of the line, or one \"quoted\" string")]),
        Entry(
            words: ["PUTEX", "SETEX"],
            lines: [("PUTEX <key> <seconds> <value>", "Write a value that expires after <seconds>")]),
        Entry(
            words: ["RESOLVE"],
            lines: [("RESOLVE <key> <value>", "Write with the context of the last GET of the key, replacing what it saw")]),
        Entry(
            words: ["DELETE", "DEL"],
            lines: [("DELETE <key> [CONTEXT]", "Delete (with CONTEXT: only what the last GET of the key saw)")]),
        Entry(words: ["USE"], lines: [("USE <bucket>", "Switch bucket")]),
        Entry(
            words: ["CONSISTENCY"],
            lines: [
                ("CONSISTENCY [<level>]", "Show the levels, or set r and w (ONE, TWO, THREE, QUORUM, ALL, 2…)"),
                ("CONSISTENCY R 2 W 3 [N 3]", "Set any of R, W, N, PR, PW (R=2 works too)"),
                ("CONSISTENCY DEFAULT", "Back to the bucket's defaults"),
            ]),
        Entry(words: ["TIMEOUT"], lines: [("TIMEOUT [<ms> | DEFAULT]", "Show or set the request timeout")]),
        Entry(words: ["CONTEXT"], lines: [("CONTEXT", "Show the context of the last read or write")]),
        Entry(
            words: ["KEYS"],
            lines: [
                ("KEYS [limit]", "List the bucket's keys (\(ShellKeyLister.defaultLimit) unless a limit is given)"),
                ("KEYS MORE [limit]", "Go on with the last listing"),
            ]),
        Entry(words: ["PROPS"], lines: [("PROPS", "Show the bucket's properties")]),
        Entry(
            words: ["HISTORY", "!", "!!"],
            lines: [("HISTORY [count]", "List earlier lines"), ("!n   !!", "Run line n of HISTORY, or the previous line, again")]),
        Entry(words: ["CONNECT"], lines: [("CONNECT [host:port]", "Show or change the node the shell talks to")]),
        Entry(
            words: TypedClientCommand.words,
            lines: TypedClientCommand.usage),
        Entry(words: ["HELP", "?"], lines: [("HELP [command]", "This list, or one command's")]),
        Entry(words: ["QUIT", "EXIT"], lines: [("QUIT   EXIT   Ctrl-D", "Leave")]),
    ]

    static let footer = """
        Command words are case-insensitive; keys are not. Quote keys with spaces: GET "my key".
        Inside double quotes \\" \\\\ \\n \\t work; single quotes are literal. # starts a comment.
        """

    static func text(topic: String?) -> String? {
        let shown = topic.map { topic in entries.filter { $0.words.contains(topic) } } ?? entries
        guard !shown.isEmpty else { return nil }
        let width = entries.flatMap(\.lines).map(\.usage.count).max() ?? 0
        let lines = shown.flatMap(\.lines).map { line in
            "  " + line.usage + String(repeating: " ", count: width - line.usage.count + 2) + line.summary
        }
        return (topic == nil ? "Commands:\n" : "") + lines.joined(separator: "\n") + "\n"
            + (topic == nil ? "\n" + footer + "\n" : "")
    }
}
