/// `GET /`: a small HTML page for people, rendered on the server from `NodeStatus` (no
/// scripts, no external assets). The ring is drawn as one coloured cell per partition,
/// a colour per member.
public enum HTTPStatusPage {
    /// Member colours, reused in order past the twelfth member.
    static let palette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        "#1b9e77", "#7570b3",
    ]

    public static func render(_ status: NodeStatus) -> String {
        let members = status.ring.members
        func color(_ member: String) -> String {
            palette[(members.firstIndex(of: member) ?? 0) % palette.count]
        }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>QuorumKV \(escape(status.node))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:.5em 0 1.5em}
            td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
            .up{color:#2a7d2a;font-weight:bold}.down{color:#b22;font-weight:bold}
            .ring{display:flex;flex-wrap:wrap;max-width:64em;margin:.5em 0}
            .cell{width:1em;height:1.6em;margin:0 1px 1px 0}
            .swatch{display:inline-block;width:.9em;height:.9em;vertical-align:middle}
            </style></head><body>
            <h1>QuorumKV node <code>\(escape(status.node))</code></h1>
            <p>version \(escape(status.version)) · up \(uptime(status.uptimeSeconds)) · \(status.requestsInFlight) request(s) in flight</p>

            """
        html += "<h2>Peers</h2>\n<table><tr><th>node</th><th>address</th><th>state</th></tr>\n"
        if status.peers.isEmpty { html += "<tr><td colspan=\"3\">no peers (single-node cluster)</td></tr>\n" }
        for peer in status.peers {
            let state = peer.reachable ? "<span class=\"up\">up</span>" : "<span class=\"down\">down</span>"
            html += "<tr><td>\(escape(peer.node))</td><td>\(escape(peer.address))</td><td>\(state)</td></tr>\n"
        }
        html += "</table>\n"

        html += "<h2>Ring</h2>\n<p>\(status.ring.partitionCount) partitions, \(members.count) member(s)</p>\n"
        html += "<div class=\"ring\">"
        for (partition, owner) in status.ring.owners.enumerated() {
            html += "<div class=\"cell\" style=\"background:\(color(owner))\" title=\"partition \(partition): \(escape(owner))\"></div>"
        }
        html += "</div>\n<table><tr><th>member</th><th>partitions</th></tr>\n"
        for member in members {
            html += "<tr><td><span class=\"swatch\" style=\"background:\(color(member))\"></span> \(escape(member))</td>"
                + "<td>\(status.ring.ownership[member] ?? 0)</td></tr>\n"
        }
        html += "</table>\n"

        html += """
            <h2>Storage and background work</h2>
            <table>
            <tr><td>keys stored (tombstones included)</td><td>\(status.storage.keys)</td></tr>
            <tr><td>writes queued</td><td>\(status.storage.queuedWrites)</td></tr>
            <tr><td>transactions committed</td><td>\(status.storage.committedTransactions)</td></tr>
            <tr><td>hints pending (bytes)</td><td>\(status.hints.pending) (\(status.hints.pendingBytes))</td></tr>
            <tr><td>hints delivered · refused · expired</td><td>\(status.hints.delivered) · \(status.hints.refused) · \(status.hints.expired)</td></tr>
            <tr><td>read repairs (replicas sent)</td><td>\(status.repair.readRepairs) (\(status.repair.readRepairReplicas))</td></tr>
            <tr><td>anti-entropy</td><td>\(status.antiEntropy.enabled ? "on" : "off"), \(status.antiEntropy.partitionsExchanged) partition(s) exchanged</td></tr>
            </table>
            <p>Machine-readable: <a href="/status">/status</a> · <a href="/ring">/ring</a> · <a href="/metrics">/metrics</a> · <a href="/health">/health</a></p>
            </body></html>

            """
        return html
    }

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
