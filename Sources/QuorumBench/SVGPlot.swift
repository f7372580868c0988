import Foundation

/// Draws the harness's charts as standalone SVG text: grouped bars and line series, with
/// axes, ticks, a title and a legend. No dependency; the output opens in any browser and
/// renders on GitHub.
public enum SVGPlot {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    static let width = 760.0
    static let height = 420.0
    static let left = 70.0
    static let right = 180.0
    static let top = 40.0
    static let bottom = 60.0
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
        "#17becf",
    ]

    /// Bars, one group per category, one bar per series in each group.
    public static func bars(title: String, categories: [String], series: [(name: String, values: [Double?])], yLabel: String)
        -> String
    {
        let maxValue = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 1
        let yMax = niceCeiling(maxValue)
        var svg = header(title: title)
        svg += yAxis(max: yMax, label: yLabel, log: false)
        let plotWidth = width - left - right
        let groupWidth = plotWidth / Double(max(categories.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        for (categoryIndex, category) in categories.enumerated() {
            let groupX = left + groupWidth * Double(categoryIndex) + groupWidth * 0.1
            for (seriesIndex, entry) in series.enumerated() {
                guard categoryIndex < entry.values.count, let value = entry.values[categoryIndex] else { continue }
                let barHeight = (height - top - bottom) * value / yMax
                let x = groupX + barWidth * Double(seriesIndex)
                svg += String(
                    format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"><title>%@ %@: %@</title></rect>\n",
                    x, height - bottom - barHeight, max(barWidth - 1, 1), barHeight, color(seriesIndex), escape(entry.name),
                    escape(category), format(value))
            }
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%@</text>\n",
                groupX + groupWidth * 0.4, height - bottom + 16, escape(category))
        }
        svg += legend(series.map(\.name))
        return svg + "</svg>\n"
    }

    /// Lines through each series' points; `logX` for latencies spanning decades.
    public static func lines(
        title: String, series: [Series], xLabel: String, yLabel: String, logX: Bool, yMax fixedYMax: Double? = nil
    ) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }.filter { !logX || $0 > 0 }
        let ys = series.flatMap { $0.points.map(\.y) }
        let xMin = logX ? pow(10, floor(log10(xs.min() ?? 0.01))) : 0
        let xMax = logX ? pow(10, ceil(log10(max(xs.max() ?? 1, xMin * 10)))) : niceCeiling(xs.max() ?? 1)
        let yMax = fixedYMax ?? niceCeiling(ys.max() ?? 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func px(_ x: Double) -> Double {
            if logX { return left + plotWidth * (log10(max(x, xMin)) - log10(xMin)) / (log10(xMax) - log10(xMin)) }
            return left + plotWidth * x / xMax
        }
        func py(_ y: Double) -> Double { height - bottom - plotHeight * min(y, yMax) / yMax }
        var svg = header(title: title)
        svg += yAxis(max: yMax, label: yLabel, log: false)
        // x ticks
        var ticks: [Double] = []
        if logX {
            var tick = xMin
            while tick <= xMax * 1.0001 { ticks.append(tick); tick *= 10 }
        } else {
            ticks = (0...5).map { xMax * Double($0) / 5 }
        }
        for tick in ticks {
            svg += String(
                format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", px(tick), top, px(tick),
                height - bottom)
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%@</text>\n", px(tick),
                height - bottom + 16, format(tick))
        }
        svg += String(
            format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%@</text>\n",
            left + plotWidth / 2, height - 18, escape(xLabel))
        for (index, entry) in series.enumerated() where !entry.points.isEmpty {
            let path = entry.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += String(
                format: "<polyline fill=\"none\" stroke=\"%@\" stroke-width=\"1.8\" points=\"%@\"><title>%@</title></polyline>\n",
                color(index), path, escape(entry.name))
            for point in entry.points where entry.points.count <= 12 {
                svg += String(
                    format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>\n", px(point.x), py(point.y), color(index))
            }
        }
        svg += legend(series.map(\.name))
        return svg + "</svg>\n"
    }

    static func header(title: String) -> String {
        String(
            format: """
                <svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif">
                <rect width="100%%" height="100%%" fill="white"/>
                <text x="%.1f" y="22" font-size="15" font-weight="bold">%@</text>

                """, width, height, width, height, left, escape(title))
    }

    static func yAxis(max yMax: Double, label: String, log: Bool) -> String {
        var svg = ""
        let plotHeight = height - top - bottom
        for step in 0...5 {
            let value = yMax * Double(step) / 5
            let y = height - bottom - plotHeight * Double(step) / 5
            svg += String(
                format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y, width - right, y)
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%@</text>\n", left - 6, y + 4,
                format(value))
        }
        svg += String(
            format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left, top, left,
            height - bottom)
        svg += String(
            format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left, height - bottom,
            width - right, height - bottom)
        svg += String(
            format: "<text transform=\"translate(16 %.1f) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">%@</text>\n",
            top + plotHeight / 2, escape(label))
        return svg
    }

    static func legend(_ names: [String]) -> String {
        var svg = ""
        for (index, name) in names.enumerated() {
            let y = top + 6 + Double(index) * 18
            svg += String(
                format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%@\"/>\n", width - right + 14, y,
                color(index))
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>\n", width - right + 32, y + 10, escape(name))
        }
        return svg
    }

    static func color(_ index: Int) -> String { palette[index % palette.count] }

    /// 1, 2 or 5 times a power of ten at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1_000 { return String(format: "%.0f", value) }
        if abs(value) >= 10 { return String(format: "%.0f", value) }
        if abs(value) >= 1 { return String(format: "%.1f", value) }
        return String(format: "%.2g", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
