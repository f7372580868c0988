import X509

/// The rule tying a certificate to a node id: a node's certificate must carry the SAN
/// `DNS:<node-id>` (as `quorumkv cert issue` writes it). A DNS-name SAN, not the common
/// name, because the CN is ignored by modern verifiers and a DNS SAN lets a dialling node
/// use ordinary hostname verification with the node id as the expected name.
public enum PeerIdentity {
    /// The SAN a node's certificate must hold, as text for docs and messages.
    public static func requiredName(nodeID: String) -> String { "DNS:\(nodeID)" }

    /// True when `certificate` names `nodeID` in a DNS-name SAN, compared exactly except for
    /// ASCII case (DNS names are case-insensitive). No wildcard matching: a certificate for
    /// `*.nodes` must not stand for every node.
    public static func certificate(_ certificate: Certificate, names nodeID: String) -> Bool {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return false }
        let wanted = nodeID.lowercased()
        for name in names {
            if case .dnsName(let dns) = name, dns.lowercased() == wanted { return true }
        }
        return false
    }

    /// The DER certificate form, as NIOSSL hands out a peer's certificate.
    public static func certificate(derBytes: [UInt8], names nodeID: String) -> Bool {
        guard let parsed = try? Certificate(derEncoded: derBytes) else { return false }
        return certificate(parsed, names: nodeID)
    }

    /// The DNS-name SANs of a certificate, for refusal messages (names are not secrets).
    public static func dnsNames(derBytes: [UInt8]) -> [String] {
        guard let parsed = try? Certificate(derEncoded: derBytes),
            let names = try? parsed.extensions.subjectAlternativeNames
        else { return [] }
        return names.compactMap { if case .dnsName(let dns) = $0 { return dns } else { return nil } }
    }
}
