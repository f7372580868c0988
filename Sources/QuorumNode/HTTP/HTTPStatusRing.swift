import Foundation

/// The ring on the status page, drawn as SVG: one annulus sector per partition, clockwise
/// from the top in partition order, filled with its owner's colour. Partitions whose owner
/// this node sees as down are drawn faded, so an operator sees at a glance which share of
/// the key space lost a replica. Each sector has `class="cell"` and a tooltip
/// ("partition 7: node2").
enum HTTPStatusRing {
    static let size = 260.0
    static let outerRadius = 120.0
    static let innerRadius = 78.0

    /// - Parameters:
    ///   - owners: the owner of each partition, by partition number.
    ///   - color: a member's colour.
    ///   - isDown: whether this node sees a member as down.
    static func svg(owners: [String], color: (String) -> String, isDown: (String) -> Bool) -> String {
        let center = size / 2
        var svg = "<svg class=\"ring\" width=\"\(Int(size))\" height=\"\(Int(size))\" viewBox=\"0 0 \(Int(size)) \(Int(size))\" role=\"img\" aria-label=\"ring of \(owners.count) partitions\">\n"
        let count = Double(max(owners.count, 1))
        for (partition, owner) in owners.enumerated() {
            let start = Double(partition) / count * 2 * .pi
            let end = Double(partition + 1) / count * 2 * .pi
            let down = isDown(owner)
            svg += "<path class=\"cell\" data-partition=\"\(partition)\" data-owner=\"\(HTTPStatusPage.escape(owner))\""
                + " data-owner-state=\"\(down ? "down" : "up")\" d=\"\(sector(center: center, from: start, to: end))\""
                + " fill=\"\(color(owner))\" fill-opacity=\"\(down ? "0.25" : "1")\" stroke=\"#fff\" stroke-width=\"0.5\">"
                + "<title>partition \(partition): \(HTTPStatusPage.escape(owner))\(down ? " (down)" : "")</title></path>\n"
        }
        svg += "<text x=\"\(center)\" y=\"\(center - 4)\" text-anchor=\"middle\" font-size=\"22\">\(owners.count)</text>"
        svg += "<text x=\"\(center)\" y=\"\(center + 16)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#666\">partitions</text>\n"
        return svg + "</svg>"
    }

    /// An annulus sector from angle `from` to `to` (radians, 0 at the top, clockwise), drawn
    /// as two half arcs so that a single partition (a full ring) is drawn too.
    static func sector(center: Double, from start: Double, to end: Double) -> String {
        let middle = (start + end) / 2
        func point(_ radius: Double, _ angle: Double) -> String {
            let x = center + radius * sin(angle)
            let y = center - radius * cos(angle)
            return "\(format(x)) \(format(y))"
        }
        let R = format(outerRadius)
        let r = format(innerRadius)
        return "M \(point(outerRadius, start)) A \(R) \(R) 0 0 1 \(point(outerRadius, middle))"
            + " A \(R) \(R) 0 0 1 \(point(outerRadius, end)) L \(point(innerRadius, end))"
            + " A \(r) \(r) 0 0 0 \(point(innerRadius, middle)) A \(r) \(r) 0 0 0 \(point(innerRadius, start)) Z"
    }

    static func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}
