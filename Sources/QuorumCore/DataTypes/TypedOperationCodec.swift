/// `TypedOperation`'s wire form: `Formats.typedOperation` version byte, a tag, the fields.
/// Tags: 1 increment, 2 setAdd, 3 setRemove, 4 setRemoveObserved, 5 mapUpdate, 6 reset;
/// map updates: 1 setRegister, 2 incrementCounter, 3 enableFlag, 4 disableFlag, 5 removeField.
extension TypedOperation {
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 32)
        encode(into: &writer)
        return writer.bytes
    }

    public func encode(into writer: inout ByteWriter) {
        writer.write(Formats.typedOperation.newest)
        switch self {
        case .increment(let by, let operationID):
            writer.write(UInt8(1))
            writer.write(UInt64(bitPattern: by))
            writer.write(operationID != nil)
            if let operationID { writer.writeBytes(operationID) }
        case .setAdd(let elements):
            writer.write(UInt8(2))
            Self.encodeKeys(elements, into: &writer)
        case .setRemove(let elements):
            writer.write(UInt8(3))
            Self.encodeKeys(elements, into: &writer)
        case .setRemoveObserved(let elements, let context):
            writer.write(UInt8(4))
            Self.encodeKeys(elements, into: &writer)
            context.encode(into: &writer)
        case .mapUpdate(let updates):
            writer.write(UInt8(5))
            writer.writeVarInt(UInt64(updates.count))
            for update in updates {
                switch update {
                case .setRegister(let field, let value):
                    writer.write(UInt8(1)); writer.writeBytes(field); writer.writeBytes(value)
                case .incrementCounter(let field, let by):
                    writer.write(UInt8(2)); writer.writeBytes(field); writer.write(UInt64(bitPattern: by))
                case .enableFlag(let field):
                    writer.write(UInt8(3)); writer.writeBytes(field)
                case .disableFlag(let field):
                    writer.write(UInt8(4)); writer.writeBytes(field)
                case .removeField(let field):
                    writer.write(UInt8(5)); writer.writeBytes(field)
                }
            }
        case .reset:
            writer.write(UInt8(6))
        }
    }

    private static func encodeKeys(_ keys: [[UInt8]], into writer: inout ByteWriter) {
        writer.writeVarInt(UInt64(keys.count))
        for key in keys { writer.writeBytes(key) }
    }

    public init(decoding bytes: [UInt8], limits: Limits = .defaults) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try TypedOperation.decode(from: &reader, limits: limits)
        guard reader.isAtEnd else { throw .malformed("trailing bytes after a typed operation") }
    }

    /// Refuses unknown tags and counts or sizes past the limits (checked before allocating).
    public static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> TypedOperation {
        let version = try reader.readUInt8()
        guard version == Formats.typedOperation.newest else { throw .unsupportedVersion(version) }
        switch try reader.readUInt8() {
        case 1:
            let by = Int64(bitPattern: try reader.readUInt64())
            let id = try reader.readBool() ? try reader.readBytes() : nil
            if let id, id.count > limits.typedOperationIDBytesMax { throw .malformed("operation id past the limit") }
            return .increment(by: by, operationID: id)
        case 2: return .setAdd(try decodeKeys(from: &reader, limits: limits))
        case 3: return .setRemove(try decodeKeys(from: &reader, limits: limits))
        case 4:
            let keys = try decodeKeys(from: &reader, limits: limits)
            return .setRemoveObserved(keys, context: try CausalContext.decode(from: &reader, limits: limits))
        case 5:
            let count = try reader.readLength()
            guard count <= limits.typedMembersMax else { throw .malformed("\(count) field updates, past the limit") }
            var updates: [MapFieldUpdate] = []
            updates.reserveCapacity(count)
            for _ in 0..<count {
                let tag = try reader.readUInt8()
                let field = try reader.readBytes()
                guard field.count <= limits.typedMemberBytesMax else { throw .malformed("field name past the limit") }
                switch tag {
                case 1:
                    let value = try reader.readBytes()
                    guard value.count <= limits.valueBytesMax else { throw .malformed("field value past the limit") }
                    updates.append(.setRegister(field: field, value: value))
                case 2: updates.append(.incrementCounter(field: field, by: Int64(bitPattern: try reader.readUInt64())))
                case 3: updates.append(.enableFlag(field: field))
                case 4: updates.append(.disableFlag(field: field))
                case 5: updates.append(.removeField(field: field))
                default: throw .malformed("unknown map update tag \(tag)")
                }
            }
            return .mapUpdate(updates)
        case 6: return .reset
        case let tag: throw .malformed("unknown typed operation tag \(tag)")
        }
    }

    private static func decodeKeys(from reader: inout ByteReader, limits: Limits) throws(WireError) -> [[UInt8]] {
        let count = try reader.readLength()
        guard count <= limits.typedMembersMax else { throw .malformed("\(count) elements, past the limit") }
        var keys: [[UInt8]] = []
        keys.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.readBytes()
            guard key.count <= limits.typedMemberBytesMax else { throw .malformed("element past the limit") }
            keys.append(key)
        }
        return keys
    }
}
