/// The text form of a typed key's causal context that HTTP clients keep from a read and
/// send back with a remove (`{"remove": "x", "context": "<token>"}`): the remove then
/// takes away only the element's dots that read saw, so an add the client had not seen
/// survives (add wins).
///
/// URL-safe base64 (no padding) of a version byte (`Formats.typedContextToken`) and the
/// context's canonical bytes. Equal contexts give equal tokens; the token is opaque to
/// clients and may go to any node.
extension CausalContext {
    public var token: String {
        var writer = ByteWriter()
        writer.write(Formats.typedContextToken.newest)
        encode(into: &writer)
        return Base64URL.encode(writer.bytes)
    }

    /// Parses a token from `token`, of any version in `Formats.typedContextToken.readable`.
    /// Anything else (bad base64, an unknown version, damaged or trailing bytes, more
    /// actors than `limits.typedActorsMax`) is a `bad_parameter` error naming `context`.
    public init(token: String, limits: Limits = .defaults) throws(KVError) {
        let advice = "send back the \"context\" of a GET /types read unchanged, or leave it out to remove what the node has seen"
        guard !token.isEmpty, let bytes = Base64URL.decode(token), let version = bytes.first else {
            throw .badParameter(name: "context", message: "the context is not one QuorumKV issued (not URL-safe base64); \(advice)")
        }
        guard Formats.typedContextToken.readable.contains(version) else {
            throw .badParameter(
                name: "context",
                message: "the context is not one QuorumKV issued, or was issued by a newer QuorumKV than this node runs; \(advice)")
        }
        var reader = ByteReader(bytes, offset: 1)
        do throws(WireError) {
            let context = try CausalContext.decode(from: &reader, limits: limits)
            guard reader.isAtEnd else { throw WireError.malformed("\(reader.remainingCount) bytes after the context") }
            self = context
        } catch {
            throw .badParameter(name: "context", message: "the context is damaged (\(error.message)); \(advice)")
        }
    }
}
