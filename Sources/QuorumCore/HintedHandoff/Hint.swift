/// A write a stand-in node holds for a primary replica that could not take it.
///
/// When a key's primary is down, the coordinator writes to the next healthy node past
/// the preference list; that node merges the state into its own store and keeps a hint
/// naming the intended owner, to hand the state over once the owner is back. The state
/// is a full `KeyState`, so delivering it is an ordinary merge on the owner: idempotent,
/// and safe in any order with other writes, repairs and hints.
public struct Hint: Sendable, Equatable {
    /// Issued by `HintQueue` in increasing order; the shell's store keys rows by it.
    public var id: UInt64
    /// The node id of the primary the state is meant for.
    public var target: String
    public var bucket: String
    public var key: [UInt8]
    public var state: KeyState
    /// The bucket's conflict mode when the hint was made: how to merge two hints for the
    /// same key, and how the owner merges the state on delivery.
    public var mode: ConflictMode
    /// Wall-clock milliseconds when the oldest write in this hint was taken in. Survives
    /// restarts (unlike a monotonic reading), because hints expire by age.
    public var createdMilliseconds: UInt64

    public init(
        id: UInt64, target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode,
        createdMilliseconds: UInt64
    ) {
        self.id = id
        self.target = target
        self.bucket = bucket
        self.key = key
        self.state = state
        self.mode = mode
        self.createdMilliseconds = createdMilliseconds
    }

    /// Exactly `encoded().count`, computed without encoding: what the hint costs in the
    /// store, and what `HintLimits.bytesMax` counts.
    public var byteSize: Int {
        var size = 1 + Self.varIntLength(id) + Self.fieldLength(target.utf8.count) + Self.fieldLength(bucket.utf8.count)
        size += Self.fieldLength(key.count) + 1 + Self.varIntLength(createdMilliseconds)
        // KeyState: format byte, clock, siblings (see KeyStateCodec).
        size += 1 + Self.varIntLength(UInt64(state.clock.entries.count))
        for entry in state.clock.entries {
            size += Self.fieldLength(entry.actor.utf8.count) + Self.varIntLength(entry.counter)
            size += Self.varIntLength(entry.touchedMilliseconds)
        }
        size += Self.varIntLength(UInt64(state.siblings.count))
        for sibling in state.siblings {
            size += Self.fieldLength(sibling.dot.actor.utf8.count) + Self.varIntLength(sibling.dot.counter) + 1 + 12
            size += Self.fieldLength(sibling.contentType.utf8.count) + Self.fieldLength(sibling.value.count)
        }
        return size
    }

    static func varIntLength(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    private static func fieldLength(_ count: Int) -> Int { varIntLength(UInt64(count)) + count }
}

/// A hint's binary form (versions: `Formats.hint`).
///
/// - Version 1: id, target, bucket, key, conflict mode, creation time, then the state.
extension Hint {
    /// Writes the newest version.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: byteSize)
        writer.write(Formats.hint.newest)
        writer.writeVarInt(id)
        writer.writeString(target)
        writer.writeString(bucket)
        writer.writeBytes(key)
        mode.encode(into: &writer)
        writer.writeVarInt(createdMilliseconds)
        state.encode(into: &writer)
        return writer.bytes
    }

    /// Reads any version in `Formats.hint.readable`; damaged bytes throw and never trap.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        let version = try reader.readUInt8()
        switch version {
        case 1: self = try Self.decodeVersion1(from: &reader)
        default: throw .unsupportedVersion(version)
        }
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a hint") }
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
}
