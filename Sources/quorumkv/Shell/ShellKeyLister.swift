import QuorumNode

/// The shell's `KEYS`: a new listing, or `KEYS MORE` to go on where the last one stopped.
final class ShellKeyLister {
    static let defaultLimit = 100

    /// Where the last listing stopped, when it did not reach the end.
    private var resume: (bucket: String, cursor: String)?

    func reset() { resume = nil }

    /// The text `KEYS` prints: one key per line (quoted when it has spaces, `base64:<…>`
    /// when not UTF-8), then how many and whether more remain.
    func list(
        client: KVHTTPClient, bucket: String, limit: Int, more: Bool, timeoutMilliseconds: Int?
    ) async throws(CommandFailure) -> String {
        var cursor: String?
        if more {
            guard let resume, resume.bucket == bucket else {
                throw CommandFailure(code: "no_listing", message: "no unfinished KEYS listing in bucket \(bucket)", exit: .usage)
            }
            cursor = resume.cursor
        }
        var text = ""
        var count = 0
        let paging = KeyPaging(client: client, bucket: bucket, timeoutMilliseconds: timeoutMilliseconds)
        let next: String?
        do {
            next = try await paging.keys(limit: limit, from: cursor) { page in
                count += page.keys.count + page.keysBase64.count
                for key in page.keys { text += ShellText.quoted(key) + "\n" }
                for key in page.keysBase64 { text += "base64:" + key + "\n" }
            }
        } catch {
            throw CommandFailure(error)
        }
        if let next {
            resume = (bucket, next)
            text += "(\(count) keys shown; KEYS MORE for the next ones)\n"
        } else {
            resume = nil
            text += "(\(count)\(more ? " more" : "") keys; end of bucket \(bucket))\n"
        }
        return text
    }
}
