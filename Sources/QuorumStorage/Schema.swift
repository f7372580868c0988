import CSQLite

/// Table layout, connection settings and schema upgrades, in one place.
enum Schema {
    /// `PRAGMA user_version` of the layout below. Bump it with an upgrade step in `migrate`.
    static let version = 4

    static let databaseFileName = "quorumkv.sqlite"

    /// WITHOUT ROWID keeps each row inside the primary-key b-tree: one lookup per read, and
    /// scans come out ordered by (partition, bucket, key) for anti-entropy.
    static let createTables = """
        CREATE TABLE IF NOT EXISTS kv(
            partition INTEGER NOT NULL,
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY(partition, bucket, key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS bucket_props(bucket TEXT PRIMARY KEY, props BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS hints(
            id INTEGER PRIMARY KEY,
            target TEXT NOT NULL,
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            mode INTEGER NOT NULL,
            state BLOB NOT NULL,
            created INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS members(
            partition INTEGER NOT NULL,
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            member BLOB NOT NULL,
            payload BLOB NOT NULL,
            PRIMARY KEY(partition, bucket, key, member)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS paxos(
            partition INTEGER NOT NULL,
            bucket TEXT NOT NULL,
            key BLOB NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY(partition, bucket, key)
        ) WITHOUT ROWID;
        """

    static let selectState = "SELECT state FROM kv WHERE partition = ?1 AND bucket = ?2 AND key = ?3"
    static let upsertState = "INSERT OR REPLACE INTO kv(partition, bucket, key, state) VALUES(?1, ?2, ?3, ?4)"
    /// For a row known to exist: changes it in place, where REPLACE deletes and inserts.
    static let updateState = "UPDATE kv SET state = ?4 WHERE partition = ?1 AND bucket = ?2 AND key = ?3"
    static let deleteState = "DELETE FROM kv WHERE partition = ?1 AND bucket = ?2 AND key = ?3"
    /// A typed key's member rows (issue #16): its header is the key's `kv` state, each
    /// member a row here, so an update touches its members and not the whole value. The
    /// primary key keeps a key's members together and in member order.
    static let selectMember = """
        SELECT payload FROM members WHERE partition = ?1 AND bucket = ?2 AND key = ?3 AND member = ?4
        """
    static let selectMembers = """
        SELECT member, payload FROM members WHERE partition = ?1 AND bucket = ?2 AND key = ?3 ORDER BY member
        """
    static let upsertMember = """
        INSERT OR REPLACE INTO members(partition, bucket, key, member, payload) VALUES(?1, ?2, ?3, ?4, ?5)
        """
    static let deleteMember = "DELETE FROM members WHERE partition = ?1 AND bucket = ?2 AND key = ?3 AND member = ?4"
    /// Every member row of a key: runs with each `deleteState`, so no member outlives its header.
    static let deleteMembers = "DELETE FROM members WHERE partition = ?1 AND bucket = ?2 AND key = ?3"
    /// A strong key's acceptor row (issue #17): its promise and accepted proposal
    /// (`AcceptorState` without the commit), beside its `kv` row, which holds the commit.
    /// Same key as `kv`, so both rows of a key are one primary-key lookup each. Local votes,
    /// never scanned, compared or repaired: anti-entropy sees only `kv`.
    static let selectPaxos = "SELECT state FROM paxos WHERE partition = ?1 AND bucket = ?2 AND key = ?3"
    /// Each Paxos row with its key's `kv` row, if any: whether the store holds a vote or
    /// a commit of any strong key.
    static let paxosWithRecords = """
        SELECT p.state, k.state FROM paxos p
        LEFT JOIN kv k ON k.partition = p.partition AND k.bucket = p.bucket AND k.key = p.key
        """
    static let upsertPaxos = "INSERT OR REPLACE INTO paxos(partition, bucket, key, state) VALUES(?1, ?2, ?3, ?4)"
    static let deletePaxos = "DELETE FROM paxos WHERE partition = ?1 AND bucket = ?2 AND key = ?3"
    static let selectAllBucketProps = "SELECT bucket, props FROM bucket_props ORDER BY bucket"
    static let upsertBucketProps = "INSERT OR REPLACE INTO bucket_props(bucket, props) VALUES(?1, ?2)"
    static let selectMeta = "SELECT value FROM meta WHERE name = ?1"
    static let upsertMeta = "INSERT OR REPLACE INTO meta(name, value) VALUES(?1, ?2)"
    static let countKeys = "SELECT count(*) FROM kv"
    static let insertHint = """
        INSERT OR REPLACE INTO hints(id, target, bucket, key, mode, state, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)
        """
    static let deleteHint = "DELETE FROM hints WHERE id = ?1"
    static let selectAllHints = "SELECT id, target, bucket, key, mode, state, created FROM hints ORDER BY id"
    static let scanFromStart = """
        SELECT bucket, key, state FROM kv WHERE partition = ?1
        ORDER BY bucket, key LIMIT ?2
        """
    /// The row-value comparison lets SQLite seek straight to the resume point in the primary key.
    static let scanAfter = """
        SELECT bucket, key, state FROM kv WHERE partition = ?1 AND (bucket, key) > (?2, ?3)
        ORDER BY bucket, key LIMIT ?4
        """

    /// Sets up the writer's connection: WAL (readers never wait for the writer), the sync
    /// level, and the size the WAL file is cut back to on restart; then brings the schema up
    /// to date. SQLite's automatic checkpoint is not set here: the writer's `WALBackstop`
    /// replaces it (`CommitFrameHook`).
    static func prepareWriter(_ connection: SQLiteConnection, options: StoreOptions) throws {
        let mode = try connection.queryText("PRAGMA journal_mode=WAL")
        guard mode?.lowercased() == "wal" else {
            throw StoreError.sqlite(
                code: SQLITE_ERROR,
                message: "could not switch \(connection.path) to WAL mode (got \(mode ?? "nothing")); "
                    + "put the data directory on a local file system that supports shared memory")
        }
        try connection.exec("PRAGMA synchronous=\(options.syncMode == .full ? "FULL" : "NORMAL")")
        try connection.exec("PRAGMA journal_size_limit=\(options.walSizeLimitBytes)")
        try connection.exec("PRAGMA cache_size=-\(options.writerCacheBytes / 1024)")
        try migrate(connection, creationMeta: options.metaAtCreation)
    }

    private static func migrate(_ connection: SQLiteConnection, creationMeta: [String: String]) throws {
        let found = Int(try connection.queryText("PRAGMA user_version") ?? "0") ?? 0
        if found == version { return }
        guard found < version else {
            throw StoreError.corrupt(
                "\(connection.path) has schema version \(found), newer than this build understands (\(version)); "
                    + "run a newer quorumkv or use another data directory")
        }
        try connection.exec("BEGIN IMMEDIATE")
        do {
            // Version 0 is a new, empty file: create everything. Every table is created
            // IF NOT EXISTS, so older files gain the tables added since (2: hints;
            // 3: members, empty until typed keys are written; 4: paxos, empty until strong
            // keys are written). Nothing older is rewritten, so an upgraded file keeps its
            // rows as they were; a build older than the file's version refuses it.
            try connection.exec(createTables)
            // Rows a new file must hold from its first commit (`StoreOptions.metaAtCreation`):
            // in the transaction that creates the tables, so no crash leaves a new file without them.
            if found == 0, !creationMeta.isEmpty {
                let statement = try connection.prepare(upsertMeta)
                for (name, value) in creationMeta.sorted(by: { $0.key < $1.key }) {
                    try statement.bind(name, at: 1)
                    try statement.bind(value, at: 2)
                    try statement.run()
                }
            }
            try connection.exec("PRAGMA user_version=\(version)")
            try connection.exec("COMMIT")
        } catch {
            if connection.inTransaction { try? connection.exec("ROLLBACK") }
            throw error
        }
    }
}
