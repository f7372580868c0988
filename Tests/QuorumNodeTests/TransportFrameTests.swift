import Foundation
import Logging
import NIOCore
import NIOEmbedded
import QuorumCore
import XCTest

@testable import QuorumNode

/// FrameDecoder, FrameEncoder and the server handshake, stepped with EmbeddedChannel.
final class TransportFrameTests: XCTestCase {
    private func makeDecoderChannel(frameBytesMax: Int = 1024, logger: Logger = transportQuietLogger) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(frameBytesMax: frameBytesMax, logger: logger)))
        try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 7000)).wait()
        return channel
    }

    private func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    func testSplitFrameReassembles() throws {
        let channel = try makeDecoderChannel()
        let frame = Frame(kind: .request, requestID: 77, payload: Array(0..<200))
        let bytes = frame.encoded()
        // Cut inside the length, inside the header and inside the payload.
        for piece in [bytes[0..<2], bytes[2..<9], bytes[9..<100], bytes[100...]] {
            XCTAssertNil(try channel.readInbound(as: Frame.self))
            try channel.writeInbound(buffer(Array(piece)))
        }
        XCTAssertEqual(try channel.readInbound(as: Frame.self), frame)
        XCTAssertNil(try channel.readInbound(as: Frame.self))
        XCTAssertTrue(channel.isActive)
    }

    func testOneByteAtATime() throws {
        let channel = try makeDecoderChannel()
        let frame = Frame(kind: .response, requestID: .max, payload: Array("hello".utf8))
        for byte in frame.encoded() { try channel.writeInbound(buffer([byte])) }
        XCTAssertEqual(try channel.readInbound(as: Frame.self), frame)
    }

    func testSeveralFramesInOneBuffer() throws {
        let channel = try makeDecoderChannel()
        let frames = [
            Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()),
            Frame(kind: .request, requestID: 1, payload: []),
            Frame(kind: .response, requestID: 2, payload: [9, 9, 9]),
            Frame(kind: .error, requestID: 3, payload: Array("overloaded".utf8)),
        ]
        let partial = Frame(kind: .request, requestID: 4, payload: [1, 2, 3, 4]).encoded()
        try channel.writeInbound(buffer(frames.flatMap { $0.encoded() } + partial.prefix(5)))
        for frame in frames { XCTAssertEqual(try channel.readInbound(as: Frame.self), frame) }
        XCTAssertNil(try channel.readInbound(as: Frame.self))
        try channel.writeInbound(buffer(Array(partial.dropFirst(5))))
        XCTAssertEqual(try channel.readInbound(as: Frame.self)?.requestID, 4)
    }

    func testEmptyPayloadAtTheLimit() throws {
        let channel = try makeDecoderChannel(frameBytesMax: Frame.headerBytes + 3)
        let frame = Frame(kind: .request, requestID: 5, payload: [1, 2, 3])
        try channel.writeInbound(buffer(frame.encoded()))
        XCTAssertEqual(try channel.readInbound(as: Frame.self), frame)
        XCTAssertTrue(channel.isActive)
    }

    func testOversizedFrameClosesBeforeItsPayloadArrives() throws {
        let recorder = TransportLogRecorder()
        let channel = try makeDecoderChannel(frameBytesMax: 1024, logger: recorder.logger)
        let oversized = Frame(kind: .request, requestID: 1, payload: [UInt8](repeating: 0, count: 1024)).encoded()
        try channel.writeInbound(buffer(Array(oversized.prefix(Frame.headerBytes))))
        XCTAssertFalse(channel.isActive)
        XCTAssertNil(try channel.readInbound(as: Frame.self))
        let warning = try XCTUnwrap(recorder.all.first { $0.hasPrefix("warning") })
        XCTAssertTrue(warning.contains("10.1.2.3"), warning)
        XCTAssertTrue(warning.contains("exceeds the limit of 1024 bytes"), warning)
    }

    func testWrongVersionCloses() throws {
        let recorder = TransportLogRecorder()
        let channel = try makeDecoderChannel(logger: recorder.logger)
        var bytes = Frame(kind: .request, requestID: 1, payload: [1]).encoded()
        bytes[4] = Frame.protocolVersion + 1
        try channel.writeInbound(buffer(bytes))
        XCTAssertFalse(channel.isActive)
        XCTAssertNil(try channel.readInbound(as: Frame.self))
        XCTAssertTrue(recorder.all.contains { $0.hasPrefix("warning") && $0.contains("unsupported format version 2") }, "\(recorder.all)")
    }

    func testUnknownKindCloses() throws {
        let recorder = TransportLogRecorder()
        let channel = try makeDecoderChannel(logger: recorder.logger)
        var bytes = Frame(kind: .request, requestID: 1, payload: [1]).encoded()
        bytes[5] = 200
        try channel.writeInbound(buffer(bytes))
        XCTAssertFalse(channel.isActive)
        XCTAssertTrue(recorder.all.contains { $0.contains("unknown frame kind 200") }, "\(recorder.all)")
    }

    func testLengthShorterThanHeaderCloses() throws {
        let channel = try makeDecoderChannel()
        var bytes = Frame(kind: .request, requestID: 1, payload: []).encoded()
        bytes[3] = 3
        try channel.writeInbound(buffer(bytes))
        XCTAssertFalse(channel.isActive)
    }

    func testFramesBeforeAGarbageFrameStillArrive() throws {
        let channel = try makeDecoderChannel()
        let good = Frame(kind: .request, requestID: 1, payload: [1])
        try channel.writeInbound(buffer(good.encoded() + Array("GET / HTTP/1.1\r\n\r\n".utf8)))
        XCTAssertEqual(try channel.readInbound(as: Frame.self), good)
        XCTAssertFalse(channel.isActive)
    }

    func testEncoderWritesWhatFrameEncodedSays() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        for frame in [
            Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()),
            Frame(kind: .error, requestID: 0x0102_0304_0506_0708, payload: Array("no".utf8)),
            Frame(kind: .response, requestID: 9, payload: []),
        ] {
            try channel.writeOutbound(frame)
            var written = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
            XCTAssertEqual(written.readBytes(length: written.readableBytes), frame.encoded())
        }
    }

    // MARK: - Server handshake

    private func makeServerChannel(
        limits: PeerTransportLimits = .defaults,
        helloValidator: @escaping PeerHelloValidator = { _ in nil },
        handler: @escaping PeerRequestHandler = { payload, _, respond in respond(payload) }
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            PeerServerHandler(limits: limits, logger: transportQuietLogger, helloValidator: helloValidator, handler: handler)
        )
        try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 7000)).wait()
        return channel
    }

    func testRequestBeforeHelloCloses() throws {
        let channel = try makeServerChannel()
        try channel.writeInbound(Frame(kind: .request, requestID: 1, payload: [1]))
        XCTAssertFalse(channel.isActive)
        XCTAssertNil(try channel.readOutbound(as: Frame.self))
    }

    func testUndecodableHelloCloses() throws {
        let channel = try makeServerChannel()
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: [0xFF]))
        XCTAssertFalse(channel.isActive)
    }

    func testRejectedHelloAnswersThenCloses() throws {
        let channel = try makeServerChannel(helloValidator: { "cluster digest \($0.clusterDigest) differs" })
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        XCTAssertEqual(
            try channel.readOutbound(as: Frame.self), Frame(kind: .error, requestID: 0, payload: Array("cluster digest 42 differs".utf8))
        )
        channel.embeddedEventLoop.run()
        XCTAssertFalse(channel.isActive)
    }

    func testRequestsPassThePeerNodeIDAndAnswerWithTheirID() throws {
        let channel = try makeServerChannel(handler: { payload, from, respond in respond(Array(from.utf8) + payload) })
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        try channel.writeInbound(Frame(kind: .request, requestID: 17, payload: [1]))
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try channel.readOutbound(as: Frame.self), Frame(kind: .response, requestID: 17, payload: Array("node-a".utf8) + [1]))
    }

    func testServerInFlightBoundAnswersOverloadedAndSecondRespondIsDropped() throws {
        let held = TransportHeldResponders()
        let channel = try makeServerChannel(
            limits: PeerTransportLimits(inFlightMax: 2),
            handler: { payload, _, respond in held.hold(payload, respond) }
        )
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        for id: UInt64 in 1...3 { try channel.writeInbound(Frame(kind: .request, requestID: id, payload: [UInt8(id)])) }
        channel.embeddedEventLoop.run()
        let refused = try XCTUnwrap(channel.readOutbound(as: Frame.self))
        XCTAssertEqual(refused.kind, .error)
        XCTAssertEqual(refused.requestID, 3)
        XCTAssertTrue(String(decoding: refused.payload, as: UTF8.self).hasPrefix("overloaded"))
        XCTAssertEqual(held.count, 2)
        held.releaseAll()
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try channel.readOutbound(as: Frame.self)?.requestID, 1)
        XCTAssertEqual(try channel.readOutbound(as: Frame.self)?.requestID, 2)
        XCTAssertNil(try channel.readOutbound(as: Frame.self))
    }

    func testDuplicateRequestIDIsRefused() throws {
        let held = TransportHeldResponders()
        let channel = try makeServerChannel(handler: { payload, _, respond in held.hold(payload, respond) })
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        try channel.writeInbound(Frame(kind: .request, requestID: 5, payload: []))
        try channel.writeInbound(Frame(kind: .request, requestID: 5, payload: []))
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try channel.readOutbound(as: Frame.self)?.kind, .error)
        XCTAssertEqual(held.count, 1)
    }

    func testIdleConnectionClosesOnlyWithNothingOutstanding() throws {
        let held = TransportHeldResponders()
        let channel = try makeServerChannel(handler: { payload, _, respond in held.hold(payload, respond) })
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        try channel.writeInbound(Frame(kind: .request, requestID: 1, payload: []))
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        XCTAssertTrue(channel.isActive)
        held.releaseAll()
        channel.embeddedEventLoop.run()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        XCTAssertFalse(channel.isActive)
    }

    /// A node answers a connection in the protocol version of its hello, so an older node
    /// that connects reads the answers. Only version 1 exists, so a made-up version stands
    /// in for an older one (the decoder would refuse it; the handler only copies it).
    func testAnswersAreWrittenInTheVersionOfTheHello() throws {
        let olderVersion: UInt8 = 7
        let channel = try makeServerChannel(limits: PeerTransportLimits(frameBytesMax: Frame.headerBytes + 4))
        try channel.writeInbound(Frame(version: olderVersion, kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        try channel.writeInbound(Frame(version: olderVersion, kind: .request, requestID: 1, payload: [1]))
        try channel.writeInbound(Frame(version: olderVersion, kind: .request, requestID: 2, payload: [UInt8](repeating: 1, count: 5)))
        channel.embeddedEventLoop.run()
        let response = try XCTUnwrap(channel.readOutbound(as: Frame.self))
        XCTAssertEqual(response, Frame(version: olderVersion, kind: .response, requestID: 1, payload: [1]))
        let refusal = try XCTUnwrap(channel.readOutbound(as: Frame.self))
        XCTAssertEqual(refusal.kind, .error)
        XCTAssertEqual(refusal.version, olderVersion)

        let refusing = try makeServerChannel(helloValidator: { _ in "no" })
        try refusing.writeInbound(Frame(version: olderVersion, kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        XCTAssertEqual(try refusing.readOutbound(as: Frame.self)?.version, olderVersion)
    }

    /// The committed version 1 frames (`Tests/Fixtures/format-v1/frame-*.hex`) come through
    /// the decoder whole, and the encoder writes them back byte for byte.
    func testVersion1FixtureFramesPassTheCodec() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/format-v1")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("frame-") }.sorted()
        XCTAssertEqual(names.count, 26, "hello, error, 14 request and 10 response frames")
        let fixtures = try names.map { name in
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8).filter { !$0.isWhitespace }
            return try XCTUnwrap(hexBytes(text), name)
        }
        let decoder = try makeDecoderChannel(frameBytesMax: 1 << 20)
        try decoder.writeInbound(buffer(fixtures.flatMap { $0 }))
        let encoder = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        for (name, bytes) in zip(names, fixtures) {
            let frame = try XCTUnwrap(decoder.readInbound(as: Frame.self), name)
            XCTAssertEqual(frame.version, 1, name)
            XCTAssertEqual(frame.encoded(), bytes, name)
            try encoder.writeOutbound(frame)
            var written = try XCTUnwrap(encoder.readOutbound(as: ByteBuffer.self))
            XCTAssertEqual(written.readBytes(length: written.readableBytes), bytes, name)
        }
        XCTAssertNil(try decoder.readInbound(as: Frame.self))
        XCTAssertTrue(decoder.isActive)
    }

    private func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    func testOversizedResponseBecomesAnErrorFrame() throws {
        let channel = try makeServerChannel(
            limits: PeerTransportLimits(frameBytesMax: Frame.headerBytes + 4),
            handler: { _, _, respond in respond([UInt8](repeating: 1, count: 5)) }
        )
        try channel.writeInbound(Frame(kind: .hello, requestID: 0, payload: transportTestHello.encoded()))
        try channel.writeInbound(Frame(kind: .request, requestID: 1, payload: []))
        channel.embeddedEventLoop.run()
        let answer = try XCTUnwrap(channel.readOutbound(as: Frame.self))
        XCTAssertEqual(answer.kind, .error)
        XCTAssertTrue(channel.isActive)
    }
}
