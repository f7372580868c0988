/// States anti-entropy ships to a peer in one request, bounded by `AntiEntropyLimits`.
/// Encoded here; the shell compresses the bytes with LZ4 for the wire.
public struct RepairBatch: Sendable, Equatable {
    /// What one entry carries: a plain key's versions, a typed key's whole state, or a
    /// strong key's latest commit (issue #17), which the receiver learns through its
    /// acceptor's commit step, never by merging.
    public enum Payload: Sendable, Equatable {
        case versions(KeyState, mode: ConflictMode)
        case typed(TypedState)
        case strong(PaxosCommit)

        /// A plain key's state; nil for a typed or strong key's.
        public var state: KeyState? {
            if case .versions(let state, _) = self { return state }
            return nil
        }

        /// A plain key's conflict mode; nil for a typed or strong key's.
        public var mode: ConflictMode? {
            if case .versions(_, let mode) = self { return mode }
            return nil
        }
    }

    public struct Entry: Sendable, Equatable {
        public var bucket: String
        public var key: [UInt8]
        public var payload: Payload

        public init(bucket: String, key: [UInt8], payload: Payload) {
            self.bucket = bucket
            self.key = key
            self.payload = payload
        }

        /// A plain key's entry.
        public init(bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode) {
            self.init(bucket: bucket, key: key, payload: .versions(state, mode: mode))
        }

        /// A typed key's entry: its whole state, joined on arrival as a full state.
        public init(bucket: String, key: [UInt8], typed state: TypedState) {
            self.init(bucket: bucket, key: key, payload: .typed(state))
        }

        /// A strong key's entry: its latest commit (what its `StrongRecord` holds).
        public init(bucket: String, key: [UInt8], commit: PaxosCommit) {
            self.init(bucket: bucket, key: key, payload: .strong(commit))
        }

        /// A plain entry's state; nil for a typed or strong key's.
        public var state: KeyState? { payload.state }

        /// A plain entry's conflict mode; nil for a typed or strong key's.
        public var mode: ConflictMode? { payload.mode }

        /// The encoded size of the entry's state: what batches are cut by.
        public var stateBytes: Int {
            switch payload {
            case .versions(let state, _): return state.encoded().count
            case .typed(let state): return state.encoded(isFull: true).count
            case .strong(let commit): return StrongRecord.encoded(commit).count
            }
        }
    }


    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Writes the oldest version that holds every entry, so a node of an earlier release
    /// reads what it can (`Formats.repairBatch`): version 1 when every entry is a plain
    /// key's, 2 when some is a typed key's, 3 when some is a strong key's.
    ///
    /// - Version 1: the entry count, then per entry the bucket, key, conflict mode and state.
    /// - Version 2: the entry count, then per entry the bucket, key and a kind byte: 0 or 1
    ///   a plain state under lww or vclock (the version 1 mode byte) followed by the
    ///   `KeyState`; 2 a typed key's full state (`TypedState.encode(into:isFull: true)`).
    /// - Version 3: version 2 plus kind 3, a strong key's latest commit (`PaxosCommit`'s
    ///   form: ballot, value, based-on flag and ballot; a `StrongRecord` without its
    ///   version byte).
    public func encoded() -> [UInt8] {
        var version: UInt8 = 1
        for entry in entries {
            switch entry.payload {
            case .versions: break
            case .typed: version = max(version, 2)
            case .strong: version = 3
            }
        }
        var writer = ByteWriter()
        writer.write(version)
        writer.writeVarInt(UInt64(entries.count))
        for entry in entries {
            writer.writeString(entry.bucket)
            writer.writeBytes(entry.key)
            switch entry.payload {
            case .versions(let state, let mode):
                writer.write(mode == .lww ? UInt8(0) : UInt8(1))
                state.encode(into: &writer)
            case .typed(let state):
                writer.write(Self.typedKind)
                state.encode(into: &writer, isFull: true)
            case .strong(let commit):
                writer.write(Self.strongKind)
                commit.encode(into: &writer)
            }
        }
        return writer.bytes
    }

    /// The version 2 kind byte of a typed entry (0 and 1 are the conflict modes).
    private static let typedKind: UInt8 = 2
    /// The version 3 kind byte of a strong entry.
    private static let strongKind: UInt8 = 3

    /// Reads any version in `Formats.repairBatch.readable`, each with its own decoder.
    public init(decoding bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        switch version {
        case 1: entries = try Self.decodeEntries(from: &reader, version: 1, limits: limits)
        case 2: entries = try Self.decodeEntries(from: &reader, version: 2, limits: limits)
        case 3: entries = try Self.decodeEntries(from: &reader, version: 3, limits: limits)
        default: throw .unsupportedVersion(version)
        }
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a repair batch") }
    }

    /// Version 1 is version 2 without typed entries, version 2 is version 3 without strong ones.
    private static func decodeEntries(from reader: inout ByteReader, version: UInt8, limits: Limits) throws(WireError) -> [Entry] {
        let count = try reader.readLength()
        var entries: [Entry] = []
        for _ in 0..<count {
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let payload: Payload
            switch try reader.readUInt8() {
            case 0: payload = .versions(try KeyState.decode(from: &reader), mode: .lww)
            case 1: payload = .versions(try KeyState.decode(from: &reader), mode: .vclock)
            case typedKind where version >= 2:
                let (state, isFull) = try TypedState.decode(from: &reader, limits: limits)
                guard isFull else { throw .malformed("a repair batch carries whole typed states, not deltas") }
                payload = .typed(state)
            case strongKind where version >= 3:
                payload = .strong(try PaxosCommit.decode(from: &reader))
            case let other: throw .malformed("unknown repair entry kind \(other)")
            }
            entries.append(Entry(bucket: bucket, key: key, payload: payload))
        }
        return entries
    }
}
