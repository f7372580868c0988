import NIOHTTP1

/// `GET /`: the status page for people, rendered on the server from `NodeStatus` and the
/// node's recent latencies. No scripts and no external assets, so it works wherever a
/// browser reaches the node (no CDN, no build step); it reloads itself every
/// `refreshSeconds`. It shows the ring drawn by partition ownership, members up or down,
/// hints pending, anti-entropy progress and recent latency. Elements carry `id`s and
/// `data-` attributes so tests (and scrapers) can read them without parsing prose.
public enum HTTPStatusPage {
    /// Member colours, reused in order past the twelfth member.
    static let palette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        "#1b9e77", "#7570b3",
    ]
    public static let refreshSeconds = 5

    public static func render(_ status: NodeStatus, latency: [RecentLatencySummary] = []) -> String {
        let members = StatusMetrics.memberStates(status)
        let ringMembers = status.ring.members
        func color(_ member: String) -> String {
            palette[(ringMembers.firstIndex(of: member) ?? 0) % palette.count]
        }
        let down = Set(members.filter { !$0.reachable }.map(\.node))
        let upCount = members.count - down.count
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>QuorumKV \(escape(status.node))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
            table{border-collapse:collapse;margin:.5em 0 1.5em}
            td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            .up{color:#2a7d2a;font-weight:bold}.down{color:#b22;font-weight:bold}
            .row{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
            .swatch{display:inline-block;width:.9em;height:.9em;vertical-align:middle}
            .summary span{margin-right:1.5em}
            </style></head><body>
            <h1>QuorumKV node <code>\(escape(status.node))</code></h1>
            <p>version \(escape(status.version)) · up \(uptime(status.uptimeSeconds)) · \(status.requestsInFlight) request(s) in flight · refreshes every \(refreshSeconds) s</p>
            <p class="summary"><span>members up: <b id="members-up">\(upCount) of \(members.count)</b></span>
            <span>hints pending: <b id="hints-pending-summary">\(status.hints.pending)</b></span>
            <span>anti-entropy: <b>\(status.antiEntropy.enabled ? "on" : "off")</b></span></p>

            """
        html += "<h2>Ring and members</h2>\n<div class=\"row\">\n"
        html += HTTPStatusRing.svg(owners: status.ring.owners, color: color, isDown: { down.contains($0) })
        html += "\n<div><p>\(status.ring.partitionCount) partitions, \(ringMembers.count) member(s) in the ring; faded partitions belong to a member that is down.</p>\n"
        html += "<table id=\"members\"><tr><th>member</th><th>peer address</th><th>state</th><th>partitions</th><th>phi</th></tr>\n"
        for member in members {
            let state = member.reachable ? (member.status == "up" ? "up" : member.status) : "down"
            let mark = member.reachable ? "<span class=\"up\">\(escape(state))</span>" : "<span class=\"down\">down</span>"
            let me = member.node == status.node ? " (this node)" : ""
            html += "<tr class=\"member\" data-node=\"\(escape(member.node))\" data-state=\"\(escape(state))\">"
                + "<td><span class=\"swatch\" style=\"background:\(color(member.node))\"></span> \(escape(member.node))\(me)</td>"
                + "<td>\(escape(member.address))</td><td>\(mark)</td><td class=\"n\">\(member.partitions)</td>"
                + "<td class=\"n\">\(member.node == status.node ? "–" : String(format1(member.phi)))</td></tr>\n"
        }
        html += "</table></div></div>\n"
        html += background(status)
        html += latencyTable(latency)
        html += """
            <h2>Storage</h2>
            <table>
            <tr><td>keys stored (tombstones included)</td><td class="n" id="storage-keys">\(status.storage.keys)</td></tr>
            <tr><td>writes queued</td><td class="n">\(status.storage.queuedWrites)</td></tr>
            <tr><td>transactions committed</td><td class="n">\(status.storage.committedTransactions)</td></tr>
            </table>
            <p>Machine-readable: <a href="/status">/status</a> · <a href="/ring">/ring</a> · <a href="/metrics">/metrics</a> · <a href="/health">/health</a></p>
            </body></html>

            """
        return html
    }

    /// Hinted handoff, read repair and anti-entropy.
    static func background(_ status: NodeStatus) -> String {
        let hints = status.hints
        let ae = status.antiEntropy
        let transfers = ae.transfersPending + ae.transfersDone
        let ringChange = ae.transfersPending == 0
            ? "settled"
            : "<progress id=\"transfers\" value=\"\(ae.transfersDone)\" max=\"\(transfers)\"></progress> \(ae.transfersDone) of \(transfers) partition transfers"
        return """
            <div class="row"><div>
            <h2>Hinted handoff</h2>
            <table>
            <tr><td>hints pending</td><td class="n" id="hints-pending">\(hints.pending)</td></tr>
            <tr><td>bytes pending</td><td class="n">\(hints.pendingBytes)</td></tr>
            <tr><td>delivered</td><td class="n" id="hints-delivered">\(hints.delivered)</td></tr>
            <tr><td>refused (storage full)</td><td class="n">\(hints.refused)</td></tr>
            <tr><td>expired</td><td class="n">\(hints.expired)</td></tr>
            </table>
            <h2>Read repair</h2>
            <table>
            <tr><td>reads that repaired</td><td class="n" id="read-repairs">\(status.repair.readRepairs)</td></tr>
            <tr><td>replica copies sent</td><td class="n">\(status.repair.readRepairReplicas)</td></tr>
            </table>
            </div><div>
            <h2>Anti-entropy</h2>
            <table>
            <tr><td>state</td><td id="ae-state">\(ae.enabled ? "on" : "off")</td></tr>
            <tr><td>partition trees ready</td><td class="n" id="ae-trees-ready">\(ae.treesReady)</td></tr>
            <tr><td>exchanges done</td><td class="n" id="ae-exchanges">\(ae.partitionsExchanged)</td></tr>
            <tr><td>exchanges failed</td><td class="n">\(ae.failedExchanges)</td></tr>
            <tr><td>keys repaired</td><td class="n" id="ae-keys-repaired">\(ae.keysRepaired)</td></tr>
            <tr><td>last exchange took</td><td class="n">\(ae.lastExchangeMilliseconds) ms</td></tr>
            <tr><td>hashes received · bytes shipped</td><td class="n">\(ae.hashesMoved) · \(ae.bytesShipped)</td></tr>
            <tr><td>ring change (join or leave)</td><td id="ring-change">\(ringChange)</td></tr>
            </table>
            </div></div>

            """
    }

    /// Percentiles of the key requests this node coordinated in the last minute.
    static func latencyTable(_ latency: [RecentLatencySummary]) -> String {
        let window = RecentLatency.window.components.seconds
        var html = "<h2>Recent latency</h2>\n<p>Key requests this node answered in the last \(window) s (at most the last \(RecentLatency.samplesMax) of each operation), in milliseconds.</p>\n"
        html += "<table id=\"latency\"><tr><th>operation</th><th>requests</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>\n"
        if latency.isEmpty { html += "<tr><td colspan=\"6\">no key requests in the last \(window) s</td></tr>\n" }
        for row in latency {
            html += "<tr class=\"latency\" data-operation=\"\(escape(row.operation))\" data-count=\"\(row.count)\"><td>\(escape(row.operation))</td>"
                + "<td class=\"n\">\(row.count)</td><td class=\"n\">\(milliseconds(row.p50))</td><td class=\"n\">\(milliseconds(row.p95))</td>"
                + "<td class=\"n\">\(milliseconds(row.p99))</td><td class=\"n\">\(milliseconds(row.max))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// Milliseconds with two decimals below 10, one below 100, none past.
    static func milliseconds(_ value: Double) -> String {
        if value < 10 { return String(format2(value)) }
        if value < 100 { return format1(value) }
        return String(Int(value.rounded()))
    }

    static func format1(_ value: Double) -> String { String((value * 10).rounded() / 10) }
    static func format2(_ value: Double) -> String { String((value * 100).rounded() / 100) }

    static func uptime(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds / 60 % 60) min" }
        return "\(seconds / 86_400) d \(seconds / 3600 % 24) h"
    }

    /// Escapes text for HTML element content and quoted attribute values.
    public static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }
}

extension HTTPResponder {
    /// `GET /` with the node's recent latencies.
    public static func statusPage(_ status: NodeStatus, latency: [RecentLatencySummary]) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        return HTTPResponse(status: .ok, headers: headers, body: Array(HTTPStatusPage.render(status, latency: latency).utf8))
    }
}
