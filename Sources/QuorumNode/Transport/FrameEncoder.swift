import NIOCore
import QuorumCore

/// Writes a `Frame` straight into the outbound buffer, the same bytes as
/// `Frame.encoded()` without building an intermediate array (payloads reach 64 MiB).
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data frame: Frame, out: inout ByteBuffer) throws {
        out.reserveCapacity(minimumWritableBytes: Frame.headerBytes + frame.payload.count)
        out.writeInteger(UInt32(Frame.headerBytes - 4 + frame.payload.count))
        out.writeInteger(frame.version)
        out.writeInteger(frame.kind.rawValue)
        out.writeInteger(frame.requestID)
        out.writeBytes(frame.payload)
    }
}
