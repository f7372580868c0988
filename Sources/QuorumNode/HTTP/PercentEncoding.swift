/// Percent-encoding (RFC 3986) for URI path segments and query components, on bytes so
/// binary keys survive the round trip.
public enum PercentEncoding {
    /// Decodes `%XX` escapes. Nil when an escape is malformed (`%`, `%4`, `%zz`).
    /// With `plusAsSpace`, `+` means a space (HTML form encoding, query strings only).
    public static func decode<Bytes: Sequence>(_ text: Bytes, plusAsSpace: Bool = false) -> [UInt8]?
    where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(text.underestimatedCount)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                output.append(high << 4 | low)
            case UInt8(ascii: "+") where plusAsSpace:
                output.append(UInt8(ascii: " "))
            default:
                output.append(byte)
            }
        }
        return output
    }

    /// Encodes bytes as one path segment: RFC 3986 unreserved characters stay, every
    /// other byte (`/` included) becomes `%XX`.
    public static func encodePathSegment(_ bytes: some Sequence<UInt8>) -> String {
        encode(bytes)
    }

    /// Encodes a query name or value: unreserved characters stay, the rest becomes `%XX`.
    public static func encodeQueryComponent(_ text: String) -> String {
        encode(text.utf8)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount)
        for byte in bytes {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
