import QuorumCore

/// What a command may do, for permission checks (the users a later issue adds grant
/// categories, as Redis's ACL categories do) and for `COMMAND INFO`, where it shows as
/// `@read`, `@write`, … Each command has exactly one, chosen by the most it can do: a
/// command that writes is `write` even if it reads too (`GETDEL`, `DEL`), so granting
/// `read` never lets a client change data.
public enum RESPCommandCategory: String, Sendable, CaseIterable {
    /// Reads values of named keys.
    case read
    /// Changes data.
    case write
    /// Reads key names or existence only, possibly across the whole bucket (`SCAN`, `KEYS`, `EXISTS`).
    case keyspace
    /// Describes or configures the node (`INFO`, `CONFIG`).
    case admin
    /// Concerns only the connection (`PING`, `SELECT`, `HELLO`, `MULTI`, …).
    case connection
}

/// One row of the command table: everything `COMMAND`, `COMMAND INFO`, `COMMAND DOCS`,
/// `COMMAND COUNT` and `COMMAND LIST` answer, and the category permission checks will use.
public struct RESPCommandSpec: Sendable, Equatable {
    public var name: String
    /// Redis's convention: the number of words, name included; negative means at least that many.
    public var arity: Int
    /// Redis's command flags (`readonly`, `write`, `fast`, …).
    public var flags: [String]
    public var firstKey: Int
    public var lastKey: Int
    public var step: Int
    public var category: RESPCommandCategory
    /// The group `COMMAND DOCS` reports (`string`, `generic`, `connection`, …).
    public var group: String
    public var summary: String

    init(
        _ name: String, _ arity: Int, _ flags: [String], keys: (Int, Int, Int) = (0, 0, 0), _ category: RESPCommandCategory,
        _ group: String, _ summary: String
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        (firstKey, lastKey, step) = keys
        self.category = category
        self.group = group
        self.summary = summary
    }
}

extension RESPCommand {
    /// Every command the server runs, one row each (keep one line per command: other
    /// changes add rows here too). `COMMAND` answers these, in this order.
    public static let table: [RESPCommandSpec] = [
        RESPCommandSpec("ping", -1, ["fast"], .connection, "connection", "Returns PONG, or the message given."),
        RESPCommandSpec("echo", 2, ["fast"], .connection, "connection", "Returns the message given."),
        RESPCommandSpec("quit", -1, ["fast"], .connection, "connection", "Answers OK, then closes the connection."),
        RESPCommandSpec("select", 2, ["fast"], .connection, "connection", "Chooses the bucket: 0 is default, n is db<n>, a name is that bucket."),
        RESPCommandSpec("hello", -1, ["fast", "no-auth"], .connection, "connection", "Chooses RESP2 or RESP3, authenticates (AUTH user pass) and describes the server."),
        RESPCommandSpec("auth", -2, ["fast", "no-auth"], .connection, "connection", "Authenticates the connection as a user of the node's ACL: AUTH [user] password."),
        RESPCommandSpec("client", -2, ["stale"], .connection, "connection", "Names the connection and describes connections (SETNAME, GETNAME, ID, INFO, LIST, SETINFO)."),
        RESPCommandSpec("command", -1, ["stale"], .connection, "server", "Describes the commands (COUNT, INFO, DOCS, LIST)."),
        RESPCommandSpec("consistency", -1, ["fast"], .connection, "connection", "Shows or sets the connection's default r, w, n, pr, pw and timeout."),
        RESPCommandSpec("time", 1, ["fast"], .connection, "server", "Returns this node's wall-clock time: seconds and microseconds."),
        RESPCommandSpec("wait", 3, ["stale"], .connection, "generic", "Answers how many replicas beyond the first acknowledged this connection's writes (w - 1); never waits for more."),
        RESPCommandSpec("multi", 1, ["fast"], .connection, "transactions", "Starts queueing commands for EXEC (a batch run in order, not isolated across keys)."),
        RESPCommandSpec("exec", 1, [], .connection, "transactions", "Runs the queued commands in order and answers all their replies."),
        RESPCommandSpec("discard", 1, ["fast"], .connection, "transactions", "Drops the queued commands."),
        RESPCommandSpec("unwatch", 1, ["fast"], .connection, "transactions", "Answers OK: QuorumKV never watches keys."),
        RESPCommandSpec("info", -1, ["stale"], .admin, "server", "Describes the node in Redis's INFO format."),
        RESPCommandSpec("config", -2, ["admin"], .admin, "server", "CONFIG GET answers the settings Redis clients probe; nothing can be set."),
        RESPCommandSpec("get", -2, ["readonly", "fast"], keys: (1, 1, 1), .read, "string", "Returns the value of a key, or nil."),
        RESPCommandSpec("strlen", -2, ["readonly", "fast"], keys: (1, 1, 1), .read, "string", "Returns the length of a key's value, 0 when absent."),
        RESPCommandSpec("mget", -2, ["readonly", "fast"], keys: (1, -1, 1), .read, "string", "Returns the values of keys, nil for absent ones."),
        RESPCommandSpec("qget", -2, ["readonly"], keys: (1, 1, 1), .read, "quorumkv", "Returns a key's context and every sibling with its content type."),
        RESPCommandSpec("set", -3, ["write", "denyoom"], keys: (1, 1, 1), .write, "string", "Sets a key's value (NX, XX, GET; XX and GET read first; IFEQ old in strong buckets)."),
        RESPCommandSpec("setnx", 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "string", "Sets a key's value when it holds none."),
        RESPCommandSpec("getset", 3, ["write", "denyoom"], keys: (1, 1, 1), .write, "string", "Sets a key's value and returns the value it read before."),
        RESPCommandSpec("getdel", 2, ["write", "fast"], keys: (1, 1, 1), .write, "string", "Returns a key's value and deletes the version it read."),
        RESPCommandSpec("delifeq", -3, ["write", "fast"], keys: (1, 1, 1), .write, "string", "Deletes a key only if it holds exactly the value given (strong buckets); answers 1 or 0."),
        RESPCommandSpec("mset", -3, ["write", "denyoom"], keys: (1, -1, 2), .write, "string", "Sets several keys (not atomically)."),
        RESPCommandSpec("del", -2, ["write"], keys: (1, -1, 1), .write, "generic", "Deletes keys; answers how many held a value. In a typed bucket an observed-remove reset."),
        RESPCommandSpec("unlink", -2, ["write", "fast"], keys: (1, -1, 1), .write, "generic", "Same as DEL."),
        RESPCommandSpec("qset", -3, ["write", "denyoom"], keys: (1, 1, 1), .write, "quorumkv", "Writes a value with a context and content type."),
        RESPCommandSpec("qdel", -2, ["write"], keys: (1, 1, 1), .write, "quorumkv", "Deletes a key with a context."),
        RESPCommandSpec("exists", -2, ["readonly", "fast"], keys: (1, -1, 1), .keyspace, "generic", "Counts the keys that hold a value (a key named twice counts twice)."),
        RESPCommandSpec("type", -2, ["readonly", "fast"], keys: (1, 1, 1), .keyspace, "generic", "Answers string, set or hash (by the bucket's datatype) for a key that holds a value, none otherwise."),
        RESPCommandSpec("scan", -2, ["readonly"], .keyspace, "generic", "Pages through the bucket's keys with a decimal cursor (MATCH, COUNT, TYPE)."),
        RESPCommandSpec("keys", 2, ["readonly"], .keyspace, "generic", "Lists the bucket's keys that match a pattern; refused past a bound (use SCAN)."),
        RESPCommandSpec("dbsize", 1, ["readonly"], .keyspace, "server", "Counts the bucket's keys by listing every partition at one replica (a count, not an estimate)."),
        RESPCommandSpec("flushdb", -1, ["write"], .admin, "server", "Truncates the bucket: every member hides what it held before now; admin, as Redis counts it @dangerous."),
        RESPCommandSpec("flushall", -1, ["write"], .admin, "server", "Truncates every bucket, including buckets nobody configured; admin, as Redis counts it @dangerous."),
        RESPCommandSpec("setex", 4, ["write"], keys: (1, 1, 1), .write, "string", "Sets a value that expires after a number of seconds."),
        RESPCommandSpec("psetex", 4, ["write"], keys: (1, 1, 1), .write, "string", "Sets a value that expires after a number of milliseconds."),
        RESPCommandSpec("getex", -2, ["write"], keys: (1, 1, 1), .write, "string", "Reads a value and sets or removes its expiry."),
        RESPCommandSpec("expire", -3, ["write", "fast"], keys: (1, 1, 1), .write, "generic", "Sets a key's expiry in seconds (NX XX GT LT); never overwrites a concurrent write."),
        RESPCommandSpec("pexpire", -3, ["write", "fast"], keys: (1, 1, 1), .write, "generic", "Sets a key's expiry in milliseconds (NX XX GT LT)."),
        RESPCommandSpec("expireat", -3, ["write", "fast"], keys: (1, 1, 1), .write, "generic", "Sets a key's expiry as a Unix time in seconds (NX XX GT LT)."),
        RESPCommandSpec("pexpireat", -3, ["write", "fast"], keys: (1, 1, 1), .write, "generic", "Sets a key's expiry as a Unix time in milliseconds (NX XX GT LT)."),
        RESPCommandSpec("persist", 2, ["write", "fast"], keys: (1, 1, 1), .write, "generic", "Removes a key's expiry."),
        RESPCommandSpec("ttl", 2, ["readonly", "fast"], keys: (1, 1, 1), .read, "generic", "Seconds until a key expires; -1 without an expiry, -2 when absent."),
        RESPCommandSpec("pttl", 2, ["readonly", "fast"], keys: (1, 1, 1), .read, "generic", "Milliseconds until a key expires; -1 without an expiry, -2 when absent."),
        RESPCommandSpec("expiretime", 2, ["readonly", "fast"], keys: (1, 1, 1), .read, "generic", "A key's expiry as a Unix time in seconds; -1 without one, -2 when absent."),
        RESPCommandSpec("pexpiretime", 2, ["readonly", "fast"], keys: (1, 1, 1), .read, "generic", "A key's expiry as a Unix time in milliseconds; -1 without one, -2 when absent."),
        RESPCommandSpec("incr", -2, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "string", "Adds 1 to a counter (counter buckets); answers the new value. ID opid makes a retry count once."),
        RESPCommandSpec("decr", -2, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "string", "Subtracts 1 from a counter (counter buckets); answers the new value."),
        RESPCommandSpec("incrby", -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "string", "Adds an integer to a counter (counter buckets); answers the new value."),
        RESPCommandSpec("decrby", -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "string", "Subtracts an integer from a counter (counter buckets); answers the new value."),
        RESPCommandSpec("sadd", -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "set", "Adds elements to a set (set buckets); answers how many were new. Add wins over a concurrent remove."),
        RESPCommandSpec("srem", -3, ["write", "fast"], keys: (1, 1, 1), .write, "set", "Removes the elements the lead replica has seen; answers how many were there."),
        RESPCommandSpec("smembers", -2, ["readonly"], keys: (1, 1, 1), .read, "set", "Returns every element of a set."),
        RESPCommandSpec("sismember", -3, ["readonly", "fast"], keys: (1, 1, 1), .read, "set", "Answers 1 when the element is in the set, 0 otherwise."),
        RESPCommandSpec("smismember", -3, ["readonly", "fast"], keys: (1, 1, 1), .read, "set", "Answers 1 or 0 for each element named."),
        RESPCommandSpec("scard", -2, ["readonly", "fast"], keys: (1, 1, 1), .read, "set", "Counts a set's elements."),
        RESPCommandSpec("hset", -4, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "hash", "Sets fields of a map (map buckets) in one operation; answers how many fields were new."),
        RESPCommandSpec("hdel", -3, ["write", "fast"], keys: (1, 1, 1), .write, "hash", "Removes fields the lead replica has seen; answers how many were there."),
        RESPCommandSpec("hincrby", -4, ["write", "denyoom", "fast"], keys: (1, 1, 1), .write, "hash", "Adds an integer to a map field (concurrent increments all count); answers the new value."),
        RESPCommandSpec("hget", -3, ["readonly", "fast"], keys: (1, 1, 1), .read, "hash", "Returns a map field's value, or nil."),
        RESPCommandSpec("hmget", -3, ["readonly", "fast"], keys: (1, 1, 1), .read, "hash", "Returns the values of the fields named, nil for absent ones."),
        RESPCommandSpec("hexists", -3, ["readonly", "fast"], keys: (1, 1, 1), .read, "hash", "Answers 1 when the map has the field, 0 otherwise."),
        RESPCommandSpec("hgetall", -2, ["readonly"], keys: (1, 1, 1), .read, "hash", "Returns every field and value of a map."),
        RESPCommandSpec("hlen", -2, ["readonly", "fast"], keys: (1, 1, 1), .read, "hash", "Counts a map's fields."),
    ]

    /// Redis commands QuorumKV will not run, with why. The reason is the error's text and
    /// the `summary` `COMMAND DOCS` gives for the name, so both say the same thing.
    public static let refused: [String: String] = {
        let noScripts = "scripts would have to read and write keys on different replicas as one atomic step, which QuorumKV does not do"
        let readModifyWrite = "it is a read-modify-write of a plain value that concurrent clients or a retried write could lose or apply twice; for counters use INCR in a bucket of datatype counter; otherwise read with QGET and write back with QSET and the context"
        let twoKeys = "the keys live on different replicas and no step moves both atomically: a failure between copy and delete would leave both or neither; copy with GET and SET, then DEL"
        var reasons: [String: String] = [
            "watch": "QuorumKV cannot watch keys: replicas change independently, so EXEC could not check that a watched key is unchanged; for optimistic updates read with QGET and write with QSET and the context",
            "rename": twoKeys,
            "renamenx": twoKeys,
            "copy": twoKeys,
            "move": twoKeys,
            "swapdb": "buckets are not numbered slots that could swap; SELECT names them",
            "msetnx": "it needs all-or-nothing across keys on different replicas; use SET key value NX per key",
        ]
        for name in ["eval", "evalsha", "eval_ro", "evalsha_ro", "script", "fcall", "fcall_ro", "function"] {
            reasons[name] = noScripts
        }
        for name in ["incrbyfloat", "append", "setrange"] {
            reasons[name] = readModifyWrite
        }
        return reasons
    }()

    /// The error a refused command answers: a stable prefix, the command, and why.
    static func refusal(_ name: String) -> RESPCommandError? {
        guard let reason = refused[name.lowercased()] else { return nil }
        return RESPCommandError("NOTSUPPORTED", "\(name.uppercased()) is refused by QuorumKV: \(reason)")
    }

    public static func spec(named name: String) -> RESPCommandSpec? {
        let lower = name.lowercased()
        return table.first { $0.name == lower }
    }
}

extension RESPCommand {
    /// Parses the command families kept in their own files; nil when `name` is none of theirs.
    static func parseSurface(name: String, arguments: [[UInt8]], limits: Limits) throws(RESPCommandError) -> RESPCommand? {
        if let command = try RESPStringCommand.parse(name, arguments, limits: limits) { return .string(command) }
        if let command = try RESPKeyspaceCommand.parse(name, arguments, limits: limits) { return .keyspace(command) }
        if let command = try RESPTransactionCommand.parse(name, arguments) { return .transaction(command) }
        if let command = try RESPServerCommand.parse(name, arguments) { return .server(command) }
        if let command = try RESPTypedCommand.parse(name, arguments, limits: limits) { return .typed(command) }
        return nil
    }

    /// Whether the command looks at the whole bucket (or, for `WAIT`, at every earlier
    /// write): in a pipeline it waits for the connection's earlier writes, and later
    /// writes wait for it, so `SET k v` then `KEYS *` lists `k`.
    public var touchesEveryKey: Bool {
        switch self {
        case .keyspace(.scan), .keyspace(.keys), .keyspace(.dbsize), .server(.wait), .flush: return true
        case .info(let section): return RESPIntrospection.wantsKeyspace(section)
        default: return false
        }
    }
}
