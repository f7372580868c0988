/// A write a stand-in holds for an unreachable primary, as kept on disk so hints survive
/// a restart of the stand-in. The state blob is opaque here, like the `kv` table's.
public struct StoredHint: Sendable, Equatable {
    /// Chosen by the caller (the hint queue), unique per store.
    public var id: Int64
    /// The node the write is meant for.
    public var target: String
    public var bucket: String
    public var key: [UInt8]
    /// What `blob` holds: a plain state under the bucket's conflict mode when the hint was
    /// taken (0 lww, 1 vclock), or a typed key's delta (2).
    public var mode: Int
    public var blob: [UInt8]
    public var createdMilliseconds: UInt64

    public init(id: Int64, target: String, bucket: String, key: [UInt8], mode: Int, blob: [UInt8], createdMilliseconds: UInt64) {
        self.id = id
        self.target = target
        self.bucket = bucket
        self.key = key
        self.mode = mode
        self.blob = blob
        self.createdMilliseconds = createdMilliseconds
    }
}
