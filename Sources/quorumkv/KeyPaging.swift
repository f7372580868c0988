import QuorumCore
import QuorumNode

/// Pages through a bucket's keys (`GET /buckets/{bucket}/keys?limit=&cursor=`) for
/// `quorumkv keys` and the shell's `KEYS`, handing each page over as it arrives.
struct KeyPaging {
    /// Largest page the server hands out.
    static let serverPageMax = Limits.defaults.keyPageMax

    let client: KVHTTPClient
    let bucket: String
    /// Timeout of each page's request (the client's default when nil).
    var timeoutMilliseconds: Int?

    /// Up to `limit` keys (nil: no bound) after `cursor` (nil: from the start), fetching
    /// pages as needed; each non-empty page goes to `emit`. Returns the cursor after the
    /// last key emitted, nil when the listing is complete.
    func keys(
        limit: Int?, from cursor: String?, emit: (HTTPKeyPageDocument) -> Void
    ) async throws(KVClientError) -> String? {
        var cursor = cursor
        var remaining = limit ?? Int.max
        while remaining > 0 {
            let page: HTTPKeyPageDocument
            if let timeoutMilliseconds {
                page = try await client.listKeys(
                    bucket: bucket, limit: min(remaining, Self.serverPageMax), cursor: cursor,
                    timeout: .milliseconds(Int64(timeoutMilliseconds)))
            } else {
                page = try await client.listKeys(bucket: bucket, limit: min(remaining, Self.serverPageMax), cursor: cursor)
            }
            let count = page.keys.count + page.keysBase64.count
            if count > 0 { emit(page) }
            remaining -= count
            cursor = page.next
            if cursor == nil { return nil }
        }
        return cursor
    }
}
