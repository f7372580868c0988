import Histogram

/// Latency figures of one operation kind, in milliseconds, from an HdrHistogram.
public struct LatencySummary: Codable, Sendable {
    public var count: Int
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    /// Points of the cumulative distribution, (milliseconds, fraction at or below), for plots.
    public var cdf: [CDFPoint]

    public struct CDFPoint: Codable, Sendable {
        public var ms: Double
        public var fraction: Double
    }

    /// At most this many CDF points are kept per summary.
    static let maxCDFPoints = 120

    public init(_ histogram: Histogram<UInt64>) {
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1_000 }
        count = Int(histogram.totalCount)
        guard count > 0 else {
            mean = 0; p50 = 0; p90 = 0; p99 = 0; p999 = 0; max = 0; cdf = []
            return
        }
        mean = histogram.mean / 1_000
        p50 = ms(histogram.valueAtPercentile(50))
        p90 = ms(histogram.valueAtPercentile(90))
        p99 = ms(histogram.valueAtPercentile(99))
        p999 = ms(histogram.valueAtPercentile(99.9))
        max = ms(histogram.max)
        var points: [CDFPoint] = []
        for value in histogram.percentiles(ticksPerHalfDistance: 5) {
            points.append(CDFPoint(ms: ms(value.value), fraction: Swift.min(1, value.percentile / 100)))
            if value.percentile >= 100 { break }
        }
        if points.count > Self.maxCDFPoints {
            let stride = Double(points.count) / Double(Self.maxCDFPoints)
            points = (0..<Self.maxCDFPoints).map { points[Int(Double($0) * stride)] } + [points.last!]
        }
        cdf = points
    }
}
