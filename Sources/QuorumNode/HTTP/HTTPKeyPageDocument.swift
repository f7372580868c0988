import Foundation

/// `GET /buckets/{bucket}/keys` body: one page of a bucket's live keys.
///
/// `{"keys": ["k1", …], "keys_base64": ["/wA=", …], "next": "<cursor>" | null}`:
/// keys that are valid UTF-8 are in `keys` as text; the rest (binary keys) are in
/// `keys_base64`, standard base64 of their bytes. The page is both lists together (the
/// order across the two is not kept; within each it is the server's order). `next` is the
/// cursor of the following page, `null` on the last page.
public struct HTTPKeyPageDocument: Codable, Sendable, Equatable {
    public var keys: [String]
    public var keysBase64: [String]
    public var next: String?

    enum CodingKeys: String, CodingKey {
        case keys, next
        case keysBase64 = "keys_base64"
    }

    public init(keys: [String], keysBase64: [String], next: String?) {
        self.keys = keys
        self.keysBase64 = keysBase64
        self.next = next
    }

    public init(_ page: KeyPage) {
        var text: [String] = []
        var binary: [String] = []
        for key in page.keys {
            if let utf8 = HTTPValueText.utf8(key) { text.append(utf8) } else { binary.append(Data(key).base64EncodedString()) }
        }
        self.init(keys: text, keysBase64: binary, next: page.next)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        keys = try container.decode([String].self, forKey: .keys)
        keysBase64 = try container.decodeIfPresent([String].self, forKey: .keysBase64) ?? []
        next = try container.decodeIfPresent(String.self, forKey: .next)
    }

    /// Writes `next` as `null` on the last page rather than leaving it out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keys, forKey: .keys)
        try container.encode(keysBase64, forKey: .keysBase64)
        try container.encode(next, forKey: .next)
    }

    /// Every key's bytes; nil when a `keys_base64` entry is not base64.
    public var allKeys: [[UInt8]]? {
        var result = keys.map { Array($0.utf8) }
        for encoded in keysBase64 {
            guard let data = Data(base64Encoded: encoded) else { return nil }
            result.append(Array(data))
        }
        return result
    }
}
