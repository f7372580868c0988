/// A write a stand-in node holds for a primary replica that could not take it.
///
/// When a key's primary is down, the coordinator writes to the next healthy node past
/// the preference list; that node keeps a hint naming the intended owner, to hand the
/// write over once the owner is back. What it hands over is the hint's `payload`: a plain
/// key's full `KeyState`, or a typed key's delta (issue #16). Either way delivering it is
/// an ordinary merge on the owner: idempotent, and safe in any order with other writes,
/// repairs and hints.
public struct Hint: Sendable, Equatable {
    /// Issued by `HintQueue` in increasing order; the shell's store keys rows by it.
    public var id: UInt64
    /// The node id of the primary the state is meant for.
    public var target: String
    public var bucket: String
    public var key: [UInt8]
    public var payload: ReplicaPayload
    /// Wall-clock milliseconds when the oldest write in this hint was taken in. Survives
    /// restarts (unlike a monotonic reading), because hints expire by age.
    public var createdMilliseconds: UInt64

    public init(id: UInt64, target: String, bucket: String, key: [UInt8], payload: ReplicaPayload, createdMilliseconds: UInt64) {
        self.id = id
        self.target = target
        self.bucket = bucket
        self.key = key
        self.payload = payload
        self.createdMilliseconds = createdMilliseconds
    }

    /// A plain key's hint: its state and the bucket's conflict mode.
    public init(
        id: UInt64, target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode,
        createdMilliseconds: UInt64
    ) {
        self.init(
            id: id, target: target, bucket: bucket, key: key, payload: .versions(state, mode: mode),
            createdMilliseconds: createdMilliseconds)
    }

    /// A plain hint's state; nil for a typed key's delta.
    public var state: KeyState? { payload.state }

    /// A plain hint's conflict mode; nil for a typed key's delta.
    public var mode: ConflictMode? { payload.mode }

    /// Exactly `encoded().count`: what the hint costs in the store, and what
    /// `HintLimits.bytesMax` counts. A plain hint's size is computed without encoding; a
    /// typed delta's is its encoding's length (a delta is small: the members one update
    /// touched, and the context).
    public var byteSize: Int {
        var size = 1 + Self.varIntLength(id) + Self.fieldLength(target.utf8.count) + Self.fieldLength(bucket.utf8.count)
        size += Self.fieldLength(key.count) + Self.varIntLength(createdMilliseconds)
        switch payload {
        case .versions(let state, _):
            size += 1 + Self.keyStateSize(state)
        case .typed(let delta):
            size += 1 + delta.encoded(isFull: false).count
        }
        return size
    }

    /// `KeyState`: format byte, clock, siblings (see KeyStateCodec). A state with expiry
    /// registers (version 2) is measured by encoding it: rare in hints, and exact.
    private static func keyStateSize(_ state: KeyState) -> Int {
        if state.carriesExpiry { return state.encoded().count }
        var size = 1 + varIntLength(UInt64(state.clock.entries.count))
        for entry in state.clock.entries {
            size += fieldLength(entry.actor.utf8.count) + varIntLength(entry.counter)
            size += varIntLength(entry.touchedMilliseconds)
        }
        size += varIntLength(UInt64(state.siblings.count))
        for sibling in state.siblings {
            size += fieldLength(sibling.dot.actor.utf8.count) + varIntLength(sibling.dot.counter) + 1 + 12
            size += fieldLength(sibling.contentType.utf8.count) + fieldLength(sibling.value.count)
        }
        return size
    }

    static func varIntLength(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    private static func fieldLength(_ count: Int) -> Int { varIntLength(UInt64(count)) + count }
}

/// What a hint hands over to its target.

/// A hint's binary form (versions: `Formats.hint`).
///
/// - Version 1: id, target, bucket, key, conflict mode, creation time, then the state.
///   Still written for plain hints, so their bytes never changed.
/// - Version 2 (typed keys): id, target, bucket, key, creation time, a payload kind byte,
///   then the payload: kind 0 a conflict mode and a `KeyState` (read, never written),
///   kind 1 a `TypedState` delta (`TypedState.encode(into:isFull: false)`).
extension Hint {
    /// Writes version 1 for a plain hint, version 2 for a typed one.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: byteSize)
        switch payload {
        case .versions(let state, let mode):
            writer.write(UInt8(1))
            writer.writeVarInt(id)
            writer.writeString(target)
            writer.writeString(bucket)
            writer.writeBytes(key)
            mode.encode(into: &writer)
            writer.writeVarInt(createdMilliseconds)
            state.encode(into: &writer)
        case .typed(let delta):
            writer.write(UInt8(2))
            writer.writeVarInt(id)
            writer.writeString(target)
            writer.writeString(bucket)
            writer.writeBytes(key)
            writer.writeVarInt(createdMilliseconds)
            writer.write(PayloadKind.typed.rawValue)
            delta.encode(into: &writer, isFull: false)
        }
        return writer.bytes
    }

    /// Reads any version in `Formats.hint.readable`; damaged bytes throw and never trap.
    public init(decoding bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        switch version {
        case 1: self = try Self.decodeVersion1(from: &reader)
        case 2: self = try Self.decodeVersion2(from: &reader, limits: limits)
        default: throw .unsupportedVersion(version)
        }
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a hint") }
    }

    private enum PayloadKind: UInt8 {
        case versions = 0
        case typed = 1
    }

    private static func decodeVersion1(from reader: inout ByteReader) throws(WireError) -> Hint {
        let id = try reader.readVarInt()
        let target = try reader.readString()
        guard !target.isEmpty else { throw .malformed("hint without a target") }
        let bucket = try reader.readString()
        let key = try reader.readBytes()
        let mode = try ConflictMode.decode(from: &reader)
        let created = try reader.readVarInt()
        let state = try KeyState.decode(from: &reader)
        return Hint(id: id, target: target, bucket: bucket, key: key, state: state, mode: mode, createdMilliseconds: created)
    }

    private static func decodeVersion2(from reader: inout ByteReader, limits: Limits) throws(WireError) -> Hint {
        let id = try reader.readVarInt()
        let target = try reader.readString()
        guard !target.isEmpty else { throw .malformed("hint without a target") }
        let bucket = try reader.readString()
        let key = try reader.readBytes()
        let created = try reader.readVarInt()
        let payload: ReplicaPayload
        switch PayloadKind(rawValue: try reader.readUInt8()) {
        case .versions?:
            let mode = try ConflictMode.decode(from: &reader)
            payload = .versions(try KeyState.decode(from: &reader), mode: mode)
        case .typed?:
            let (delta, isFull) = try TypedState.decode(from: &reader, limits: limits)
            guard !isFull else { throw .malformed("a typed hint carries a delta, not a full state") }
            payload = .typed(delta)
        case nil:
            throw .malformed("unknown hint payload kind")
        }
        return Hint(id: id, target: target, bucket: bucket, key: key, payload: payload, createdMilliseconds: created)
    }
}
