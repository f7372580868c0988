/// States anti-entropy ships to a peer in one request, bounded by `AntiEntropyLimits`.
/// Encoded here; the shell compresses the bytes with LZ4 for the wire.
public struct RepairBatch: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var bucket: String
        public var key: [UInt8]
        public var payload: ReplicaPayload

        public init(bucket: String, key: [UInt8], payload: ReplicaPayload) {
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

        /// A plain entry's state; nil for a typed key's.
        public var state: KeyState? { payload.state }

        /// A plain entry's conflict mode; nil for a typed key's.
        public var mode: ConflictMode? { payload.mode }

        /// The encoded size of the entry's state: what batches are cut by.
        public var stateBytes: Int {
            switch payload {
            case .versions(let state, _): return state.encoded().count
            case .typed(let state): return state.encoded(isFull: true).count
            }
        }
    }


    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Writes version 1 when every entry is a plain key's (so a node of the previous
    /// release reads it), version 2 otherwise (`Formats.repairBatch`).
    ///
    /// - Version 1: the entry count, then per entry the bucket, key, conflict mode and state.
    /// - Version 2: the entry count, then per entry the bucket, key and a kind byte: 0 or 1
    ///   a plain state under lww or vclock (the version 1 mode byte) followed by the
    ///   `KeyState`; 2 a typed key's full state (`TypedState.encode(into:isFull: true)`).
    public func encoded() -> [UInt8] {
        let hasTyped = entries.contains { if case .typed = $0.payload { return true } else { return false } }
        var writer = ByteWriter()
        writer.write(hasTyped ? UInt8(2) : UInt8(1))
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
            }
        }
        return writer.bytes
    }

    /// The version 2 kind byte of a typed entry (0 and 1 are the conflict modes).
    private static let typedKind: UInt8 = 2

    /// Reads any version in `Formats.repairBatch.readable`, each with its own decoder.
    public init(decoding bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        switch version {
        case 1: entries = try Self.decodeEntries(from: &reader, typedAllowed: false, limits: limits)
        case 2: entries = try Self.decodeEntries(from: &reader, typedAllowed: true, limits: limits)
        default: throw .unsupportedVersion(version)
        }
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a repair batch") }
    }

    /// Version 1 is version 2 without typed entries.
    private static func decodeEntries(from reader: inout ByteReader, typedAllowed: Bool, limits: Limits) throws(WireError) -> [Entry] {
        let count = try reader.readLength()
        var entries: [Entry] = []
        for _ in 0..<count {
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let payload: ReplicaPayload
            switch try reader.readUInt8() {
            case 0: payload = .versions(try KeyState.decode(from: &reader), mode: .lww)
            case 1: payload = .versions(try KeyState.decode(from: &reader), mode: .vclock)
            case typedKind where typedAllowed:
                let (state, isFull) = try TypedState.decode(from: &reader, limits: limits)
                guard isFull else { throw .malformed("a repair batch carries whole typed states, not deltas") }
                payload = .typed(state)
            case let other: throw .malformed("unknown repair entry kind \(other)")
            }
            entries.append(Entry(bucket: bucket, key: key, payload: payload))
        }
        return entries
    }
}
