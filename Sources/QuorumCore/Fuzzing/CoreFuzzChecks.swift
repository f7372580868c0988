/// A property a decoder broke on one input: what the fuzz targets crash on (so libFuzzer
/// keeps the input) and what the corpus replay tests report.
@_spi(Fuzzing) public struct FuzzCheckFailure: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The decode-and-check functions behind the libFuzzer targets in `FuzzTesting/` and the
/// corpus replay tests (`FuzzCorpusReplayTests`), kept here so both run the same lines.
///
/// Each takes arbitrary bytes. Bytes a decoder refuses are fine (that is its job); a
/// function throws only when a decoder broke a property it promises: a decoded value
/// that re-encodes to something decoding to a different value, a frame whose parts
/// disagree with its length, a state that merged with itself changes. Some checks also
/// use what was decoded the way a node does (write on it, build rings from it): a trap
/// there, or inside a decoder, crashes the caller, which is what libFuzzer looks for.
///
/// The first byte of an input picks the decoder where one target covers several, so the
/// fuzzer reaches each decoder directly instead of first having to forge the envelope
/// around it (a frame header, a request tag).
///
/// SPI rather than public: only the fuzz package and the tests import it.
@_spi(Fuzzing) public enum CoreFuzzChecks {
    /// Frame size limit the peer-frame target decodes under: small, so the fuzzer reaches
    /// the oversize refusal with short inputs (the real limit is `Limits.frameBytesMax`).
    public static let frameBytesMax = 4096

    // MARK: - Peer frames and messages

    /// `FuzzPeerFrame`: byte 0 picks frame (0), request payload (1), response payload (2)
    /// or hello payload (3); the rest is the input to that decoder.
    public static func checkPeerFrame(_ data: [UInt8]) throws(FuzzCheckFailure) {
        guard let selector = data.first else { return }
        let input = Array(data.dropFirst())
        switch selector % 4 {
        case 0: try checkFrame(input)
        case 1: try checkPeerRequest(input)
        case 2: try checkPeerResponse(input)
        default: try checkPeerHello(input)
        }
    }

    /// A frame decodes from its first bytes only, uses exactly its header plus payload, and
    /// re-encodes to the bytes it used; its payload then goes through the decoder of its kind.
    public static func checkFrame(_ input: [UInt8]) throws(FuzzCheckFailure) {
        let decoded: (frame: Frame, consumed: Int)?
        do {
            decoded = try Frame.decode(input, frameBytesMax: frameBytesMax)
        } catch {
            return
        }
        guard let (frame, consumed) = decoded else {
            // "Need more bytes" must only be said while a whole header or frame is missing.
            if input.count >= Frame.headerBytes {
                let length = Int(input[0]) << 24 | Int(input[1]) << 16 | Int(input[2]) << 8 | Int(input[3])
                guard input.count < length + 4 else {
                    throw FuzzCheckFailure("Frame.decode asked for more bytes than the \(input.count) it holds a whole frame in")
                }
            }
            return
        }
        guard consumed == Frame.headerBytes + frame.payload.count, consumed <= input.count, consumed <= frameBytesMax else {
            throw FuzzCheckFailure("frame used \(consumed) bytes for a \(frame.payload.count)-byte payload")
        }
        guard frame.encoded() == Array(input[0..<consumed]) else {
            throw FuzzCheckFailure("frame does not re-encode to the bytes it was read from")
        }
        switch frame.kind {
        case .hello: try checkPeerHello(frame.payload)
        case .request: try checkPeerRequest(frame.payload)
        case .response: try checkPeerResponse(frame.payload)
        case .error: break  // a UTF-8 message, shown as text only
        }
    }

    public static func checkPeerRequest(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let request = try? PeerRequest(decoding: input) else { return }
        guard let again = try? PeerRequest(decoding: request.encoded()), again == request else {
            throw FuzzCheckFailure("PeerRequest \(request) does not survive encode and decode")
        }
        if case .coordinateWrite(_, _, let intent, _, _, _) = request { try checkWritable(KeyState(), context: intent.context) }
        if case .gossip(let message) = request { try checkGossipMessage(message) }
    }

    public static func checkPeerResponse(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let response = try? PeerResponse(decoding: input) else { return }
        guard let again = try? PeerResponse(decoding: response.encoded()), again == response else {
            throw FuzzCheckFailure("PeerResponse \(response) does not survive encode and decode")
        }
        if case .gossip(let message) = response { try checkGossipMessage(message) }
    }

    public static func checkPeerHello(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let hello = try? PeerHello(decoding: input) else { return }
        guard let again = try? PeerHello(decoding: hello.encoded()), again == hello else {
            throw FuzzCheckFailure("PeerHello \(hello) does not survive encode and decode")
        }
    }

    // MARK: - Gossip

    /// `FuzzGossip`: byte 0 picks a gossip message (0), a membership state (1) or
    /// truncation points (2).
    public static func checkGossip(_ data: [UInt8]) throws(FuzzCheckFailure) {
        guard let selector = data.first else { return }
        let input = Array(data.dropFirst())
        switch selector % 3 {
        case 0: try checkGossipMessage(input)
        case 1: try checkMembershipState(input)
        default: try checkTruncationPoints(input)
        }
    }

    public static func checkGossipMessage(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let message = try? GossipMessage(decoding: input) else { return }
        guard let again = try? GossipMessage(decoding: message.encoded()), again == message else {
            throw FuzzCheckFailure("GossipMessage does not survive encode and decode")
        }
        if let state = message.state { try checkUsable(state) }
    }

    public static func checkMembershipState(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let state = try? MembershipState(decoding: input) else { return }
        let encoded = state.encoded()
        guard let again = try? MembershipState(decoding: encoded), again == state else {
            throw FuzzCheckFailure("MembershipState does not survive encode and decode")
        }
        // The encoding is canonical (the digest stands for the state): equal states, equal bytes.
        guard again.encoded() == encoded else { throw FuzzCheckFailure("MembershipState encoding is not canonical") }
        try checkUsable(state)
    }

    /// What a node does with a gossiped state: builds its rings, merges it with its own and
    /// applies membership changes to it; the decoder promises a decoded state never traps there.
    static func checkUsable(_ state: MembershipState) throws(FuzzCheckFailure) {
        _ = state.ring
        _ = state.targetRing
        _ = state.digest
        guard state.merged(with: state) == state else { throw FuzzCheckFailure("merging a state with itself changed it") }
        // Membership changes bump versions and ring positions taken from the state.
        _ = try? state.joining(member: "fuzz-node", peerAddress: "127.0.0.1:1", httpAddress: "127.0.0.1:2")
        if let id = state.members.keys.sorted().first {
            _ = try? state.joining(member: id, peerAddress: "127.0.0.1:3", httpAddress: "127.0.0.1:4")
            _ = try? state.markingUp(id)
            _ = try? state.leaving(id)
            _ = try? state.left(id)
        }
    }

    public static func checkTruncationPoints(_ input: [UInt8]) throws(FuzzCheckFailure) {
        let bucketsMax = GossipLimits.defaults.bucketsMax
        guard let points = try? TruncationPoints(decoding: input, bucketsMax: bucketsMax) else { return }
        var writer = ByteWriter()
        points.encode(into: &writer)
        guard let again = try? TruncationPoints(decoding: writer.bytes, bucketsMax: bucketsMax), again == points else {
            throw FuzzCheckFailure("TruncationPoints do not survive encode and decode")
        }
    }

    // MARK: - ACL file

    /// `FuzzACLFile`: the ACL file parser either refuses the bytes or returns an ACL that
    /// renders back to a file it parses to the same ACL, and that every decision can use.
    public static func checkACLFile(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let acl = try? ACLFileFormat.parse(input) else { return }
        let rendered = Array(ACLFileFormat.render(acl).utf8)
        guard let again = try? ACLFileFormat.parse(rendered), again == acl else {
            throw FuzzCheckFailure("an ACL does not survive render and parse")
        }
        for name in acl.order {
            guard let user = acl.users[name] else { throw FuzzCheckFailure("user \(name) is in the order but not the table") }
            for action in AccessAction.allCases {
                _ = AccessDecision.decide(user: user, action: action, bucket: "apples")
                _ = AccessDecision.decide(user: user, action: action, bucket: nil)
            }
        }
    }

    // MARK: - Stored and versioned encodings

    /// `FuzzVersionCodecs`: byte 0 picks `KeyState` (0), `BucketProps` (1), `Hint` (2),
    /// `RepairBatch` (3), a context token (4), a key-page cursor (5), a Paxos acceptor
    /// state (6) or a strong key's record (7); tokens read the rest as text.
    public static func checkVersionCodecs(_ data: [UInt8]) throws(FuzzCheckFailure) {
        guard let selector = data.first else { return }
        let input = Array(data.dropFirst())
        switch selector % 8 {
        case 0: try checkKeyState(input)
        case 1: try checkBucketProps(input)
        case 2: try checkHint(input)
        case 3: try checkRepairBatch(input)
        case 4: try checkContextToken(String(decoding: input, as: UTF8.self))
        case 5: try checkKeyCursor(String(decoding: input, as: UTF8.self))
        case 6: try checkAcceptorState(input)
        default: try checkStrongRecord(input)
        }
    }

    /// A Paxos row from disk: canonical (one encoding per state), and the acceptor's steps
    /// on whatever decodes never trap.
    public static func checkAcceptorState(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let state = try? AcceptorState(decoding: input) else { return }
        guard state.encoded() == input else { throw FuzzCheckFailure("AcceptorState has two encodings") }
        let ballot = PaxosBallot(timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), node: "fuzz-node")
        let acceptor = Acceptor()
        _ = acceptor.receivePrepare(ballot: ballot, state: state)
        _ = acceptor.receivePropose(proposal: PaxosProposal(ballot: ballot, value: .tombstone, basedOn: nil), state: state)
        _ = acceptor.receiveCommit(commit: PaxosCommit(ballot: ballot, value: .tombstone), state: state)
        var relearning = state
        relearning.relearningFloor = ballot
        _ = acceptor.receivePrepare(ballot: ballot, state: relearning)
    }

    /// A strong key's `kv` row: it survives encode and decode, and splits and rejoins with
    /// an acceptor state unchanged.
    public static func checkStrongRecord(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let commit = try? StrongRecord.decode(input) else { return }
        guard let again = try? StrongRecord.decode(StrongRecord.encoded(commit)), again == commit else {
            throw FuzzCheckFailure("StrongRecord does not survive encode and decode")
        }
        let rows = StoredPaxos(AcceptorState(committed: commit))
        guard (try? rows.acceptorState())?.committed == commit else {
            throw FuzzCheckFailure("a commit does not survive its split into Paxos rows")
        }
    }

    public static func checkKeyState(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let state = try? KeyState(decoding: input) else { return }
        guard let again = try? KeyState(decoding: state.encoded()), again == state else {
            throw FuzzCheckFailure("KeyState does not survive encode and decode")
        }
        try checkWritable(state, context: state.clock)
    }

    public static func checkBucketProps(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let props = try? BucketProps(decoding: input) else { return }
        guard let again = try? BucketProps(decoding: props.encoded()), again == props else {
            throw FuzzCheckFailure("BucketProps \(props) does not survive encode and decode")
        }
    }

    public static func checkHint(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let hint = try? Hint(decoding: input) else { return }
        let encoded = hint.encoded()
        guard let again = try? Hint(decoding: encoded), again == hint else {
            throw FuzzCheckFailure("Hint does not survive encode and decode")
        }
        // `byteSize` is what the hint store counts against its bound; it promises exactness.
        guard hint.byteSize == encoded.count else {
            throw FuzzCheckFailure("Hint.byteSize \(hint.byteSize) but the encoding has \(encoded.count) bytes")
        }
    }

    public static func checkRepairBatch(_ input: [UInt8]) throws(FuzzCheckFailure) {
        guard let batch = try? RepairBatch(decoding: input) else { return }
        guard let again = try? RepairBatch(decoding: batch.encoded()), again == batch else {
            throw FuzzCheckFailure("RepairBatch does not survive encode and decode")
        }
    }

    public static func checkContextToken(_ token: String) throws(FuzzCheckFailure) {
        guard let context = try? VersionVector(contextToken: token) else { return }
        guard let again = try? VersionVector(contextToken: context.contextToken), again == context else {
            throw FuzzCheckFailure("context token \(token) does not survive encode and decode")
        }
        try checkWritable(KeyState(), context: context)
    }

    /// A replica coordinates writes on top of whatever state it holds (merged from peers)
    /// and whatever context a client sent back: neither may make that trap. Tries the
    /// first few actors the two name, and one they don't, in both conflict modes; a write
    /// refused with an error is fine.
    static func checkWritable(_ state: KeyState, context: VersionVector) throws(FuzzCheckFailure) {
        let named = Set(state.clock.entries.map(\.actor) + context.entries.map(\.actor)).sorted().prefix(4)
        let intent = WriteIntent(value: [1], contentType: "text/plain", context: context)
        for actor in named + ["fuzz-node"] {
            for mode in [ConflictMode.lww, .vclock] {
                _ = try? state.applying(
                    intent, actor: actor, timestamp: HLCTimestamp(physicalMilliseconds: 1, logical: 0), mode: mode,
                    limits: .defaults)
            }
        }
    }

    /// Partition count the cursor check validates against: the default ring's.
    public static let cursorPartitionCount = 64

    public static func checkKeyCursor(_ token: String) throws(FuzzCheckFailure) {
        guard let cursor = try? KeyCursor(token: token, partitionCount: cursorPartitionCount) else { return }
        guard cursor.partition >= 0, cursor.partition < cursorPartitionCount else {
            throw FuzzCheckFailure("cursor \(token) names partition \(cursor.partition)")
        }
        guard let again = try? KeyCursor(token: cursor.token, partitionCount: cursorPartitionCount), again == cursor else {
            throw FuzzCheckFailure("cursor \(token) does not survive encode and decode")
        }
    }
}
