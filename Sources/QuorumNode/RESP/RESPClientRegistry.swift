import Synchronization

/// One open connection as `CLIENT LIST` and `CLIENT INFO` describe it. The connection's
/// handler updates it; `CLIENT LIST` on any connection reads it.
final class RESPClientRecord: Sendable {
    let id: Int
    let address: String
    let localAddress: String
    let createdMilliseconds: UInt64
    /// When the connection last received bytes, for `idle=`.
    let lastActiveMilliseconds: Atomic<UInt64>
    private let summary: Mutex<Summary>

    struct Summary: Equatable {
        var name: String
        var bucket: String
        var protocolVersion: Int
        /// Commands queued in an open `MULTI`, or -1 (Redis's `multi=`).
        var queued: Int
        /// The user the connection acts as (never anything about its password).
        var user: String

        init(_ session: RESPSession) {
            user = session.user
            name = session.clientName.map { String(decoding: $0, as: UTF8.self) } ?? ""
            bucket = session.bucket
            protocolVersion = session.protocolVersion
            queued = session.transaction?.commands.count ?? -1
        }
    }

    init(session: RESPSession, address: String, localAddress: String, nowMilliseconds: UInt64) {
        id = session.clientID
        self.address = address
        self.localAddress = localAddress
        createdMilliseconds = nowMilliseconds
        lastActiveMilliseconds = Atomic(nowMilliseconds)
        summary = Mutex(Summary(session))
    }

    func update(_ session: RESPSession) {
        let new = Summary(session)
        summary.withLock { if $0 != new { $0 = new } }
    }

    var current: Summary { summary.withLock { $0 } }

    /// Redis's `CLIENT LIST` line (the fields clients parse), plus `bucket=`: `db=` is only
    /// given for buckets that are Redis database numbers (`default` is 0, `db7` is 7), since
    /// clients read it as an integer.
    static func line(
        id: Int, address: String, localAddress: String, ageSeconds: Int, idleSeconds: Int, summary: Summary
    ) -> String {
        var fields = [
            "id=\(id)", "addr=\(address)", "laddr=\(localAddress)", "fd=-1", "name=\(summary.name)", "age=\(ageSeconds)",
            "idle=\(idleSeconds)", "flags=\(summary.queued >= 0 ? "x" : "N")",
        ]
        if let database = databaseNumber(summary.bucket) { fields.append("db=\(database)") }
        fields += [
            "sub=0", "psub=0", "ssub=0", "multi=\(summary.queued)", "qbuf=0", "qbuf-free=0", "obl=0", "oll=0", "omem=0",
            "user=\(summary.user)", "resp=\(summary.protocolVersion)", "bucket=\(summary.bucket)",
        ]
        return fields.joined(separator: " ")
    }

    /// The Redis database number a bucket stands for (`SELECT`'s mapping), if any.
    static func databaseNumber(_ bucket: String) -> Int? {
        if bucket == "default" { return 0 }
        guard bucket.hasPrefix("db"), let number = Int(bucket.dropFirst(2)), number > 0, "db\(number)" == bucket else { return nil }
        return number
    }
}

/// The server's open connections, by client id.
final class RESPClientRegistry: Sendable {
    private let records = Mutex<[Int: RESPClientRecord]>([:])

    func add(_ record: RESPClientRecord) {
        records.withLock { $0[record.id] = record }
    }

    func remove(id: Int) {
        _ = records.withLock { $0.removeValue(forKey: id) }
    }

    func record(id: Int) -> RESPClientRecord? {
        records.withLock { $0[id] }
    }

    var all: [RESPClientRecord] {
        records.withLock { Array($0.values) }.sorted { $0.id < $1.id }
    }
}

extension RESPServerStats {
    /// `CLIENT INFO`'s line for the calling connection (from its session, which is newer
    /// than its record while a command runs).
    func clientLine(_ session: RESPSession) -> String {
        let now = WallClock.nowMilliseconds()
        let record = clients.record(id: session.clientID)
        let created = record?.createdMilliseconds ?? now
        return RESPClientRecord.line(
            id: session.clientID, address: record?.address ?? "?", localAddress: record?.localAddress ?? "?",
            ageSeconds: Int((now &- created) / 1000), idleSeconds: 0, summary: RESPClientRecord.Summary(session))
    }

    /// `CLIENT LIST`: one line per open connection, the caller's from its session.
    func clientLines(current session: RESPSession) -> [String] {
        let now = WallClock.nowMilliseconds()
        var lines: [String] = []
        var listedCurrent = false
        for record in clients.all {
            if record.id == session.clientID {
                lines.append(clientLine(session))
                listedCurrent = true
                continue
            }
            let active = record.lastActiveMilliseconds.load(ordering: .relaxed)
            lines.append(RESPClientRecord.line(
                id: record.id, address: record.address, localAddress: record.localAddress,
                ageSeconds: Int((now &- record.createdMilliseconds) / 1000), idleSeconds: Int((now &- min(active, now)) / 1000),
                summary: record.current))
        }
        if !listedCurrent { lines.insert(clientLine(session), at: 0) }
        return lines
    }
}
