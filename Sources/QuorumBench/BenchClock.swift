import NIOCore

/// Microseconds on the monotonic clock since a fixed origin (the start of a bench run), so
/// every time the harness keeps fits an Int64 and reads as elapsed time.
public struct BenchClock: Sendable {
    public let originNanoseconds: UInt64

    public init() { originNanoseconds = NIODeadline.now().uptimeNanoseconds }

    public func nowMicroseconds() -> Int64 {
        Int64(bitPattern: NIODeadline.now().uptimeNanoseconds &- originNanoseconds) / 1_000
    }

    public func deadline(atMicroseconds micros: Int64) -> NIODeadline {
        .uptimeNanoseconds(originNanoseconds &+ UInt64(max(0, micros)) &* 1_000)
    }
}
