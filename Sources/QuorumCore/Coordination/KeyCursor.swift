/// Where a key listing resumes: the partition, and the last key returned in it.
///
/// Travels to clients as an opaque URL-safe token, so listing a large bucket needs no
/// server-side state and memory stays bounded by one page.
public struct KeyCursor: Sendable, Equatable {
    public var partition: Int
    /// The last key returned in `partition`; nil to start at its beginning.
    public var after: [UInt8]?

    public init(partition: Int, after: [UInt8]?) {
        self.partition = partition
        self.after = after
    }

    public static let start = KeyCursor(partition: 0, after: nil)

    public var token: String {
        var writer = ByteWriter()
        writer.write(UInt8(1))
        writer.writeVarInt(UInt64(partition))
        writer.write(after != nil)
        if let after { writer.writeBytes(after) }
        return Base64URL.encode(writer.bytes)
    }

    /// Parses a token from `token`; checks the partition against the ring's size.
    public init(token: String, partitionCount: Int) throws(KVError) {
        let invalid = KVError.badParameter(
            name: "cursor", message: "the cursor is not one this cluster issued; pass the previous page's next cursor unchanged")
        guard let bytes = Base64URL.decode(token), bytes.first == 1 else { throw invalid }
        var reader = ByteReader(bytes, offset: 1)
        do {
            let partition = try reader.readVarInt()
            let after = try reader.readBool() ? try reader.readBytes() : nil
            guard partition < UInt64(partitionCount), reader.isAtEnd else { throw invalid }
            self.init(partition: Int(partition), after: after)
        } catch {
            throw invalid
        }
    }
}
