import Logging
import NIOCore
import QuorumCore

/// Cuts the inbound byte stream into `Frame`s.
///
/// The header is checked before any of the payload is buffered, so an oversized length
/// is refused after 14 bytes rather than after the sender has filled memory. A frame that
/// can't be decoded means the stream can't be resynchronised: the decoder logs why,
/// closes its own connection and discards anything that still arrives.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    private let frameBytesMax: Int
    private let logger: Logger
    private var hasFailed = false

    public init(frameBytesMax: Int, logger: Logger) {
        self.frameBytesMax = frameBytesMax
        self.logger = logger
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if hasFailed {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: Frame.headerBytes) else {
            return .needMoreData
        }
        let length: Int
        let version: UInt8
        let kind: Frame.Kind
        let requestID: UInt64
        do {
            (length, version, kind, requestID) = try Frame.decodeHeader(header, frameBytesMax: frameBytesMax)
        } catch {
            fail(context: context, buffer: &buffer, reason: error.message)
            return .needMoreData
        }
        guard buffer.readableBytes >= length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: Frame.headerBytes)
        // Cannot fail: `length` bytes are readable and include the header just skipped.
        let payload = buffer.readBytes(length: length - Frame.headerBytes)!
        context.fireChannelRead(wrapInboundOut(Frame(version: version, kind: kind, requestID: requestID, payload: payload)))
        return .continue
    }

    /// Delivers the whole frames still buffered; a trailing partial frame is dropped,
    /// since its sender is gone.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private mutating func fail(context: ChannelHandlerContext, buffer: inout ByteBuffer, reason: String) {
        hasFailed = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        logger.warning(
            "closing peer connection: bad frame",
            metadata: ["remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")", "reason": "\(reason)"]
        )
        context.close(promise: nil)
    }
}
