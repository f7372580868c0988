import QuorumCore

/// What one connection remembers between commands: the bucket `SELECT` chose, the
/// `CONSISTENCY` defaults, and the client's name. Lives on the connection's event loop.
public struct RESPSession: Sendable, Equatable {
    public let clientID: Int
    public var bucket = "default"
    /// Options every command of this connection starts from; a command's own options win.
    public var defaults = RequestOptions()
    public var clientName: [UInt8]?
    /// The user the connection acts as, for `CLIENT LIST`: `default` until it logs in.
    public var user = "default"
    /// 2, or 3 after `HELLO 3`. Replies are the same but for nil (`_`) and the maps of
    /// `HELLO`, `CONFIG GET` and `COMMAND DOCS`.
    public var protocolVersion = 2
    /// Commands queued since `MULTI`; nil outside a transaction.
    public var transaction: RESPTransactionQueue?

    public init(clientID: Int) {
        self.clientID = clientID
    }

    /// A command ready to run on a task: the session's bucket and defaults are copied in
    /// when the command is read, so a later `SELECT` or `CONSISTENCY` in the same pipeline
    /// does not change a command sent before it.
    public func request(for command: RESPCommand) -> RESPRequest {
        RESPRequest(command: command, bucket: bucket, defaults: defaults, protocolVersion: protocolVersion)
    }
}

/// A service command with the connection state it was sent under.
public struct RESPRequest: Sendable, Equatable {
    public var command: RESPCommand
    public var bucket: String
    public var defaults: RequestOptions
    /// The connection's protocol when the command was read: a reply Redis gives as a map
    /// (`HGETALL`) is a RESP3 map only for a connection that said `HELLO 3`.
    public var protocolVersion: Int

    public init(command: RESPCommand, bucket: String, defaults: RequestOptions = RequestOptions(), protocolVersion: Int = 2) {
        self.command = command
        self.bucket = bucket
        self.defaults = defaults
        self.protocolVersion = protocolVersion
    }

    /// The options one call uses: the command's own, then the connection's defaults.
    func options(_ own: RequestOptions = RequestOptions()) -> RequestOptions {
        RequestOptions(
            n: own.n ?? defaults.n, r: own.r ?? defaults.r, w: own.w ?? defaults.w, pr: own.pr ?? defaults.pr,
            pw: own.pw ?? defaults.pw, timeoutMilliseconds: own.timeoutMilliseconds ?? defaults.timeoutMilliseconds)
    }

    /// Keys as the pipeline compares them: bucket and key, so `SELECT` between two
    /// commands on the same key name keeps them independent.
    var scopedKeys: (keys: Set<[UInt8]>, writes: Bool) {
        let access = command.keyAccess
        let prefix = Array(bucket.utf8) + [0]
        return (Set(access.keys.map { prefix + $0 }), access.writes)
    }

    /// See `RESPCommand.touchesEveryKey`.
    var touchesEveryKey: Bool { command.touchesEveryKey }
}

extension RequestOptions {
    /// These options with every field `other` sets replaced by its value.
    func updated(with other: RequestOptions) -> RequestOptions {
        RequestOptions(
            n: other.n ?? n, r: other.r ?? r, w: other.w ?? w, pr: other.pr ?? pr, pw: other.pw ?? pw,
            timeoutMilliseconds: other.timeoutMilliseconds ?? timeoutMilliseconds)
    }
}
