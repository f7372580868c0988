/// A `RandomSource` where the core asks for a `RandomNumberGenerator`.
public struct RandomSourceGenerator: RandomNumberGenerator {
    private let source: any RandomSource

    public init(_ source: any RandomSource) {
        self.source = source
    }

    public mutating func next() -> UInt64 { source.next() }
}
