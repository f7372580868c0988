/// What one node asks of another, carried in a request frame's payload.
public enum PeerRequest: Sendable, Equatable {
    /// Read a replica's state of a key.
    case fetch(bucket: String, key: [UInt8])
    /// Be the lead replica of a write: apply `intent` on top of the local state with this
    /// node's next dot, commit, and answer the new state (which the coordinator then
    /// replicates to the others). With `ifAbsent`, refuse when the key holds a live value.
    /// The intent's deadline, when it has one, follows the value as a last field.
    case coordinateWrite(
        bucket: String, key: [UInt8], intent: WriteIntent, mode: ConflictMode, timestamp: HLCTimestamp, ifAbsent: Bool)
    /// Merge a state into the local one and answer after it is committed.
    case merge(bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode)
    /// Store a bucket's props if newer than the local copy.
    case setBucketProps(bucket: String, props: BucketProps)
    /// Up to `limit` live keys of `bucket` in `partition`, after `after` in key order.
    case listKeys(bucket: String, partition: Int, after: [UInt8]?, limit: Int)
    /// Keep `state` as a hint for `target`, a primary that could not take it; answer
    /// after the hint is durable.
    case storeHint(target: String, bucket: String, key: [UInt8], state: KeyState, mode: ConflictMode)
    /// A gossip round: an encoded `GossipMessage` (heartbeats, digest, maybe the state).
    /// The answer may carry the receiver's own message back (push-pull).
    case gossip(message: [UInt8])
    /// Anti-entropy: snapshot this node's Merkle tree of `partition` and answer its root.
    case treeRoot(partition: Int)
    /// Anti-entropy: hashes of the snapshot's nodes at `level`.
    case treeHashes(partition: Int, level: Int, indices: [Int])
    /// Anti-entropy: the (bucket, key, digest) entries of the snapshot's segments.
    case segmentKeys(partition: Int, segments: [Int])
    /// Anti-entropy repairs: an LZ4-compressed `RepairBatch` of states to merge; answered
    /// with `.ack` once every one is committed.
    case mergeBatch(compressed: [UInt8], originalLength: Int)
    case ping
    /// Tombstone purge: remove the key's state if its version digest is still `digest`
    /// (`MerkleTree.versionDigest`); answered `.ack` when removed, `precondition_failed`
    /// when the state changed or is absent. See `TombstonePurgeRule`.
    case purge(bucket: String, key: [UInt8], digest: UInt64)
    /// Adopt a truncation point of `bucket` (nil: every bucket): durable, and the clock
    /// moved past it, before the `.ack`, so no write this node stamps later falls below it.
    case truncate(bucket: String?, point: HLCTimestamp)
    /// Be the lead replica of a typed key's update: turn `operation` into a delta with this
    /// store's next dot, commit it, and answer `.typedApplied` (the delta then goes to the
    /// other replicas as `.typedMerge`).
    case typedUpdate(bucket: String, key: [UInt8], operation: TypedOperation, stamp: HLCTimestamp)
    /// Join a typed state into the local one: a delta, or with `isFull` a whole state
    /// (read repair, anti-entropy); answered `.ack` once committed.
    case typedMerge(bucket: String, key: [UInt8], state: TypedState, isFull: Bool)
    /// Read a typed key's state: its context with the selected members.
    case typedFetch(bucket: String, key: [UInt8], members: MemberSelection)
    /// Keep a typed delta as a hint for `target`, a primary that could not take it.
    case storeTypedHint(target: String, bucket: String, key: [UInt8], state: TypedState)
    /// Paxos phase 1 for a key of a strong bucket (issue #17): promise `ballot`, answered
    /// `.paxos` after the promise is durable.
    case paxosPrepare(bucket: String, key: [UInt8], ballot: PaxosBallot)
    /// Paxos phase 2: accept `proposal`, answered `.paxos` after the vote is durable.
    case paxosPropose(bucket: String, key: [UInt8], proposal: PaxosProposal)
    /// Learn a chosen value, answered `.paxos(.committed)` once stored.
    case paxosCommit(bucket: String, key: [UInt8], commit: PaxosCommit)
    /// A replica whose store started empty asks this node's clock, which is past every
    /// ballot this node issued or saw, to choose the promise floor that ends its catch-up.
    case paxosFloor
    /// The second step of that catch-up: never promise or accept below `floor` from now on
    /// (durably), then say whether this store holds a vote or a commit of any strong key
    /// (bare promises aside: they carry no value). Raising the floor first means no vote the
    /// catching-up replica lost can still be joined by a late acceptance here after the
    /// answer. Answered `.paxosFenced`.
    case paxosFence(floor: PaxosBallot)
    /// Read a strong key's latest commit (its `kv` row) without touching its promise:
    /// anti-entropy and stray-copy clearing compare replicas' commits with it. Answered
    /// `.strongCommit`.
    case strongFetch(bucket: String, key: [UInt8])
}

/// A node's answer to a `PeerRequest`, carried in a response frame's payload.
public enum PeerResponse: Sendable, Equatable {
    /// The replica's state; nil when it holds nothing for the key.
    case state(KeyState?)
    case ack
    /// The request failed on the replica; `code` is a `KVError` code.
    case failure(code: String, message: String)
    case pong
    /// The receiver's encoded `GossipMessage` answering `.gossip`; empty when it has
    /// nothing to add.
    case gossip(message: [UInt8])
    case treeRoot(hash: UInt64, segmentCount: Int, fanOut: Int)
    case treeHashes([Int: UInt64])
    case segmentKeys([SegmentKey])
    /// A page of live keys, and the last key scanned to resume after (tombstoned keys are
    /// scanned but not listed); `resumeAfter` is nil when the partition holds no more.
    case keys([[UInt8]], resumeAfter: [UInt8]?)
    /// The lead's answer to `.typedUpdate`: the delta it committed and the client's reply.
    case typedApplied(delta: TypedState, reply: TypedReply)
    /// A replica's typed state (the selected members); nil when it holds nothing for the key.
    case typed(TypedState?)
    /// An acceptor's answer to a Paxos request.
    case paxos(Acceptor.Reply)
    /// The answer to `.paxosFloor`: a reading of this node's clock, past every ballot it
    /// issued or saw.
    case paxosFloor(clock: HLCTimestamp)
    /// The answer to `.paxosFence`, once the floor is durable: whether this store holds a
    /// vote or a commit of any strong key.
    case paxosFenced(holdsStrongValues: Bool)
    /// A replica's latest commit of a strong key, answering `.strongFetch`; nil when it
    /// learned none.
    case strongCommit(PaxosCommit?)
}

extension PeerRequest {
    private enum Tag: UInt8 {
        case fetch = 1, coordinateWrite, merge, setBucketProps, ping, listKeys, storeHint, gossip, treeRoot, treeHashes, segmentKeys
        case mergeBatch
        case purge
        case truncate
        case typedUpdate, typedMerge, typedFetch, storeTypedHint
        case paxosPrepare, paxosPropose, paxosCommit, paxosFloor
        case strongFetch
        case paxosFence
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        switch self {
        case .fetch(let bucket, let key):
            writer.write(Tag.fetch.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
        case .coordinateWrite(let bucket, let key, let intent, let mode, let timestamp, let ifAbsent):
            writer.write(Tag.coordinateWrite.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            mode.encode(into: &writer)
            timestamp.encode(into: &writer)
            writer.write(ifAbsent)
            writer.write(intent.isTombstone)
            writer.writeString(intent.contentType)
            intent.context.encode(into: &writer, withTouchTimes: false)
            writer.writeBytes(intent.value)
            // Only a write with a deadline has this field, so every other write keeps its
            // version 1 bytes (see `Formats` on older peers).
            if let deadline = intent.expiresAtMilliseconds { writer.write(deadline) }
        case .merge(let bucket, let key, let state, let mode):
            writer.write(Tag.merge.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            mode.encode(into: &writer)
            state.encode(into: &writer)
        case .setBucketProps(let bucket, let props):
            writer.write(Tag.setBucketProps.rawValue)
            writer.writeString(bucket)
            props.encode(into: &writer)
        case .listKeys(let bucket, let partition, let after, let limit):
            writer.write(Tag.listKeys.rawValue)
            writer.writeString(bucket)
            writer.writeVarInt(UInt64(partition))
            writer.write(after != nil)
            if let after { writer.writeBytes(after) }
            writer.writeVarInt(UInt64(limit))
        case .storeHint(let target, let bucket, let key, let state, let mode):
            writer.write(Tag.storeHint.rawValue)
            writer.writeString(target)
            writer.writeString(bucket)
            writer.writeBytes(key)
            mode.encode(into: &writer)
            state.encode(into: &writer)
        case .gossip(let message):
            writer.write(Tag.gossip.rawValue)
            writer.writeBytes(message)
        case .treeRoot(let partition):
            writer.write(Tag.treeRoot.rawValue)
            writer.writeVarInt(UInt64(partition))
        case .treeHashes(let partition, let level, let indices):
            writer.write(Tag.treeHashes.rawValue)
            writer.writeVarInt(UInt64(partition))
            writer.writeVarInt(UInt64(level))
            writer.writeVarInt(UInt64(indices.count))
            for index in indices { writer.writeVarInt(UInt64(index)) }
        case .segmentKeys(let partition, let segments):
            writer.write(Tag.segmentKeys.rawValue)
            writer.writeVarInt(UInt64(partition))
            writer.writeVarInt(UInt64(segments.count))
            for segment in segments { writer.writeVarInt(UInt64(segment)) }
        case .mergeBatch(let compressed, let originalLength):
            writer.write(Tag.mergeBatch.rawValue)
            writer.writeVarInt(UInt64(originalLength))
            writer.writeBytes(compressed)
        case .ping:
            writer.write(Tag.ping.rawValue)
        case .purge(let bucket, let key, let digest):
            writer.write(Tag.purge.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            writer.write(digest)
        case .truncate(let bucket, let point):
            writer.write(Tag.truncate.rawValue)
            writer.write(bucket != nil)
            if let bucket { writer.writeString(bucket) }
            point.encode(into: &writer)
        case .typedUpdate(let bucket, let key, let operation, let stamp):
            writer.write(Tag.typedUpdate.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            stamp.encode(into: &writer)
            operation.encode(into: &writer)
        case .typedMerge(let bucket, let key, let state, let isFull):
            writer.write(Tag.typedMerge.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            state.encode(into: &writer, isFull: isFull)
        case .typedFetch(let bucket, let key, let members):
            writer.write(Tag.typedFetch.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            members.encode(into: &writer)
        case .storeTypedHint(let target, let bucket, let key, let state):
            writer.write(Tag.storeTypedHint.rawValue)
            writer.writeString(target)
            writer.writeString(bucket)
            writer.writeBytes(key)
            state.encode(into: &writer, isFull: false)
        case .paxosPrepare(let bucket, let key, let ballot):
            writer.write(Tag.paxosPrepare.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            ballot.encode(into: &writer)
        case .paxosPropose(let bucket, let key, let proposal):
            writer.write(Tag.paxosPropose.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            proposal.encode(into: &writer)
        case .paxosCommit(let bucket, let key, let commit):
            writer.write(Tag.paxosCommit.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
            commit.encode(into: &writer)
        case .paxosFloor:
            writer.write(Tag.paxosFloor.rawValue)
        case .paxosFence(let floor):
            writer.write(Tag.paxosFence.rawValue)
            floor.encode(into: &writer)
        case .strongFetch(let bucket, let key):
            writer.write(Tag.strongFetch.rawValue)
            writer.writeString(bucket)
            writer.writeBytes(key)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        let rawTag = try reader.readUInt8()
        guard let tag = Tag(rawValue: rawTag) else { throw .malformed("unknown request tag \(rawTag)") }
        switch tag {
        case .fetch:
            self = .fetch(bucket: try reader.readString(), key: try reader.readBytes())
        case .coordinateWrite:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let mode = try ConflictMode.decode(from: &reader)
            let timestamp = try HLCTimestamp.decode(from: &reader)
            let ifAbsent = try reader.readBool()
            let isTombstone = try reader.readBool()
            let contentType = try reader.readString()
            let context = try VersionVector.decode(from: &reader, withTouchTimes: false)
            let value = try reader.readBytes()
            let deadline = reader.isAtEnd ? nil : try reader.readUInt64()
            let intent = WriteIntent(
                value: value, contentType: contentType, isTombstone: isTombstone, context: context, expiresAtMilliseconds: deadline)
            self = .coordinateWrite(bucket: bucket, key: key, intent: intent, mode: mode, timestamp: timestamp, ifAbsent: ifAbsent)
        case .merge:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let mode = try ConflictMode.decode(from: &reader)
            self = .merge(bucket: bucket, key: key, state: try KeyState.decode(from: &reader), mode: mode)
        case .setBucketProps:
            self = .setBucketProps(bucket: try reader.readString(), props: try BucketProps.decode(from: &reader))
        case .listKeys:
            let bucket = try reader.readString()
            let partition = try reader.readVarInt()
            guard partition < 1 << 20 else { throw .malformed("partition \(partition) out of range") }
            let after = try reader.readBool() ? try reader.readBytes() : nil
            let limit = try reader.readVarInt()
            guard limit >= 1, limit <= 100_000 else { throw .malformed("key page limit \(limit) out of range") }
            self = .listKeys(bucket: bucket, partition: Int(partition), after: after, limit: Int(limit))
        case .storeHint:
            let target = try reader.readString()
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let mode = try ConflictMode.decode(from: &reader)
            self = .storeHint(target: target, bucket: bucket, key: key, state: try KeyState.decode(from: &reader), mode: mode)
        case .gossip:
            self = .gossip(message: try reader.readBytes())
        case .treeRoot:
            self = .treeRoot(partition: try Self.readIndex(&reader))
        case .treeHashes:
            let partition = try Self.readIndex(&reader)
            let level = try Self.readIndex(&reader)
            self = .treeHashes(partition: partition, level: level, indices: try Self.readIndices(&reader))
        case .segmentKeys:
            let partition = try Self.readIndex(&reader)
            self = .segmentKeys(partition: partition, segments: try Self.readIndices(&reader))
        case .mergeBatch:
            let originalLength = try reader.readVarInt()
            guard originalLength <= 1 << 30 else { throw .malformed("batch of \(originalLength) bytes is too large") }
            self = .mergeBatch(compressed: try reader.readBytes(), originalLength: Int(originalLength))
        case .ping:
            self = .ping
        case .purge:
            self = .purge(bucket: try reader.readString(), key: try reader.readBytes(), digest: try reader.readUInt64())
        case .truncate:
            let bucket = try reader.readBool() ? try reader.readString() : nil
            self = .truncate(bucket: bucket, point: try HLCTimestamp.decode(from: &reader))
        case .typedUpdate:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let stamp = try HLCTimestamp.decode(from: &reader)
            self = .typedUpdate(
                bucket: bucket, key: key, operation: try TypedOperation.decode(from: &reader, limits: .defaults), stamp: stamp)
        case .typedMerge:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let (state, isFull) = try TypedState.decode(from: &reader, limits: .defaults)
            self = .typedMerge(bucket: bucket, key: key, state: state, isFull: isFull)
        case .typedFetch:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            self = .typedFetch(bucket: bucket, key: key, members: try MemberSelection.decode(from: &reader, limits: .defaults))
        case .storeTypedHint:
            let target = try reader.readString()
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            let (state, isFull) = try TypedState.decode(from: &reader, limits: .defaults)
            guard !isFull else { throw .malformed("a typed hint is a delta, not a full state") }
            self = .storeTypedHint(target: target, bucket: bucket, key: key, state: state)
        case .paxosPrepare:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            self = .paxosPrepare(bucket: bucket, key: key, ballot: try PaxosBallot.decode(from: &reader))
        case .paxosPropose:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            self = .paxosPropose(bucket: bucket, key: key, proposal: try PaxosProposal.decode(from: &reader))
        case .paxosCommit:
            let bucket = try reader.readString()
            let key = try reader.readBytes()
            self = .paxosCommit(bucket: bucket, key: key, commit: try PaxosCommit.decode(from: &reader))
        case .paxosFloor:
            self = .paxosFloor
        case .paxosFence:
            self = .paxosFence(floor: try PaxosBallot.decode(from: &reader))
        case .strongFetch:
            self = .strongFetch(bucket: try reader.readString(), key: try reader.readBytes())
        }
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a request") }
    }
}

extension PeerRequest {
    /// An index (partition, level, node, segment) with a bound, so a forged number can't
    /// make the receiver allocate.
    static func readIndex(_ reader: inout ByteReader) throws(WireError) -> Int {
        let value = try reader.readVarInt()
        guard value < 1 << 24 else { throw .malformed("index \(value) out of range") }
        return Int(value)
    }

    static func readIndices(_ reader: inout ByteReader) throws(WireError) -> [Int] {
        let count = try reader.readVarInt()
        guard count <= UInt64(reader.remainingCount) else { throw .truncated }
        var indices: [Int] = []
        indices.reserveCapacity(Int(count))
        for _ in 0..<count { indices.append(try readIndex(&reader)) }
        return indices
    }
}

extension PeerResponse {
    private enum Tag: UInt8 {
        case stateAbsent = 1, statePresent, ack, failure, pong, keys, gossip, treeRoot, treeHashes, segmentKeys
        case typedApplied, typedAbsent, typedPresent
        case paxos, paxosFloor
        case strongCommit
        case paxosFenced
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 32)
        switch self {
        case .state(nil):
            writer.write(Tag.stateAbsent.rawValue)
        case .state(let state?):
            writer.write(Tag.statePresent.rawValue)
            state.encode(into: &writer)
        case .ack:
            writer.write(Tag.ack.rawValue)
        case .failure(let code, let message):
            writer.write(Tag.failure.rawValue)
            writer.writeString(code)
            writer.writeString(message)
        case .pong:
            writer.write(Tag.pong.rawValue)
        case .gossip(let message):
            writer.write(Tag.gossip.rawValue)
            writer.writeBytes(message)
        case .treeRoot(let hash, let segmentCount, let fanOut):
            writer.write(Tag.treeRoot.rawValue)
            writer.write(hash)
            writer.writeVarInt(UInt64(segmentCount))
            writer.writeVarInt(UInt64(fanOut))
        case .treeHashes(let hashes):
            writer.write(Tag.treeHashes.rawValue)
            writer.writeVarInt(UInt64(hashes.count))
            for (index, hash) in hashes.sorted(by: { $0.key < $1.key }) {
                writer.writeVarInt(UInt64(index))
                writer.write(hash)
            }
        case .segmentKeys(let entries):
            writer.write(Tag.segmentKeys.rawValue)
            writer.writeVarInt(UInt64(entries.count))
            for entry in entries {
                writer.writeString(entry.bucket)
                writer.writeBytes(entry.key)
                writer.write(entry.digest)
            }
        case .keys(let keys, let resumeAfter):
            writer.write(Tag.keys.rawValue)
            writer.write(resumeAfter != nil)
            if let resumeAfter { writer.writeBytes(resumeAfter) }
            writer.writeVarInt(UInt64(keys.count))
            for key in keys { writer.writeBytes(key) }
        case .typedApplied(let delta, let reply):
            writer.write(Tag.typedApplied.rawValue)
            reply.encode(into: &writer)
            delta.encode(into: &writer, isFull: false)
        case .typed(nil):
            writer.write(Tag.typedAbsent.rawValue)
        case .typed(let state?):
            writer.write(Tag.typedPresent.rawValue)
            state.encode(into: &writer, isFull: false)
        case .paxos(let reply):
            writer.write(Tag.paxos.rawValue)
            reply.encode(into: &writer)
        case .paxosFloor(let clock):
            writer.write(Tag.paxosFloor.rawValue)
            clock.encode(into: &writer)
        case .paxosFenced(let holds):
            writer.write(Tag.paxosFenced.rawValue)
            writer.write(holds)
        case .strongCommit(let commit):
            writer.write(Tag.strongCommit.rawValue)
            writer.write(commit != nil)
            commit?.encode(into: &writer)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        let rawTag = try reader.readUInt8()
        guard let tag = Tag(rawValue: rawTag) else { throw .malformed("unknown response tag \(rawTag)") }
        switch tag {
        case .stateAbsent: self = .state(nil)
        case .statePresent: self = .state(try KeyState.decode(from: &reader))
        case .ack: self = .ack
        case .failure: self = .failure(code: try reader.readString(), message: try reader.readString())
        case .pong: self = .pong
        case .gossip: self = .gossip(message: try reader.readBytes())
        case .treeRoot:
            let hash = try reader.readUInt64()
            self = .treeRoot(hash: hash, segmentCount: try PeerRequest.readIndex(&reader), fanOut: try PeerRequest.readIndex(&reader))
        case .treeHashes:
            let count = try reader.readVarInt()
            guard count <= UInt64(reader.remainingCount) else { throw .truncated }
            var hashes: [Int: UInt64] = [:]
            for _ in 0..<count {
                let index = try PeerRequest.readIndex(&reader)
                hashes[index] = try reader.readUInt64()
            }
            self = .treeHashes(hashes)
        case .segmentKeys:
            let count = try reader.readVarInt()
            guard count <= UInt64(reader.remainingCount) else { throw .truncated }
            var entries: [SegmentKey] = []
            for _ in 0..<count {
                let bucket = try reader.readString()
                let key = try reader.readBytes()
                entries.append(SegmentKey(bucket: bucket, key: key, digest: try reader.readUInt64()))
            }
            self = .segmentKeys(entries)
        case .keys:
            let resumeAfter = try reader.readBool() ? try reader.readBytes() : nil
            let count = try reader.readLength()
            var keys: [[UInt8]] = []
            keys.reserveCapacity(count)
            for _ in 0..<count { keys.append(try reader.readBytes()) }
            self = .keys(keys, resumeAfter: resumeAfter)
        case .typedApplied:
            let reply = try TypedReply.decode(from: &reader)
            self = .typedApplied(delta: try TypedState.decode(from: &reader, limits: .defaults).state, reply: reply)
        case .typedAbsent:
            self = .typed(nil)
        case .typedPresent:
            self = .typed(try TypedState.decode(from: &reader, limits: .defaults).state)
        case .paxos:
            self = .paxos(try Acceptor.Reply.decode(from: &reader))
        case .paxosFloor:
            self = .paxosFloor(clock: try HLCTimestamp.decode(from: &reader))
        case .paxosFenced:
            self = .paxosFenced(holdsStrongValues: try reader.readBool())
        case .strongCommit:
            self = .strongCommit(try reader.readBool() ? try PaxosCommit.decode(from: &reader) : nil)
        }
        guard reader.isAtEnd else { throw .malformed("\(reader.remainingCount) trailing bytes after a response") }
    }
}

extension ConflictMode {
    func encode(into writer: inout ByteWriter) {
        writer.write(self == .lww ? UInt8(0) : UInt8(1))
    }

    static func decode(from reader: inout ByteReader) throws(WireError) -> ConflictMode {
        switch try reader.readUInt8() {
        case 0: return .lww
        case 1: return .vclock
        case let other: throw .malformed("unknown conflict mode \(other)")
        }
    }
}

extension ConsistencyLevel {
    func encode(into writer: inout ByteWriter) {
        switch self {
        case .count(let number): writer.write(UInt8(0)); writer.writeVarInt(UInt64(number))
        case .one: writer.write(UInt8(1))
        case .two: writer.write(UInt8(2))
        case .three: writer.write(UInt8(3))
        case .quorum: writer.write(UInt8(4))
        case .all: writer.write(UInt8(5))
        }
    }

    static func decode(from reader: inout ByteReader) throws(WireError) -> ConsistencyLevel {
        switch try reader.readUInt8() {
        case 0:
            let number = try reader.readVarInt()
            guard number <= 1024 else { throw .malformed("replica count \(number) out of range") }
            return .count(Int(number))
        case 1: return .one
        case 2: return .two
        case 3: return .three
        case 4: return .quorum
        case 5: return .all
        case let other: throw .malformed("unknown consistency level \(other)")
        }
    }
}

/// `BucketProps`' binary form, for the wire and the props table (versions: `Formats.bucketProps`).
///
/// - Version 1: n, r, w, the conflict mode and the props' version timestamp.
/// - Version 2: version 1, then the default ttl in seconds (varint). Written only for
///   props with a default ttl, so props without one keep their version 1 bytes (see
///   `Formats` on older peers).
/// - Version 3: version 1, a flag and the ttl when set, then the datatype's byte. Written
///   only for typed buckets, so every other bucket keeps its older bytes.
/// - Version 4: version 1, a flag and the ttl when set, the datatype's byte (0: none), then
///   the consistency's byte (0 eventual, 1 strong). Written only for strong buckets (issue
///   #17), so every eventual bucket keeps its version 1, 2 or 3 bytes. It can hold any
///   combination, though a node never makes a strong bucket with a ttl or a datatype.
extension BucketProps {
    /// Writes the oldest version that holds these props: 4 for a strong bucket, 3 for a
    /// typed bucket, 2 with a default ttl, else 1.
    public func encode(into writer: inout ByteWriter) {
        let format: UInt8 = consistency == .strong ? 4 : datatype != nil ? 3 : ttlSeconds != nil ? 2 : 1
        writer.write(format)
        writer.writeVarInt(UInt64(n))
        r.encode(into: &writer)
        w.encode(into: &writer)
        conflict.encode(into: &writer)
        version.encode(into: &writer)
        if format == 4 {
            writer.write(ttlSeconds != nil)
            if let ttlSeconds { writer.writeVarInt(ttlSeconds) }
            writer.write(datatype?.wireByte ?? 0)
            writer.write(consistency.wireByte)
        } else if let datatype {
            writer.write(ttlSeconds != nil)
            if let ttlSeconds { writer.writeVarInt(ttlSeconds) }
            writer.write(datatype.wireByte)
        } else if let ttlSeconds {
            writer.writeVarInt(ttlSeconds)
        }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        encode(into: &writer)
        return writer.bytes
    }

    /// Reads any version in `Formats.bucketProps.readable`, each with its own decoder.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> BucketProps {
        let version = try reader.readUInt8()
        switch version {
        case 1: return try decodeVersion1(from: &reader)
        case 2:
            var props = try decodeVersion1(from: &reader)
            props.ttlSeconds = try decodeTTL(from: &reader)
            return props
        case 3:
            var props = try decodeVersion1(from: &reader)
            if try reader.readBool() { props.ttlSeconds = try decodeTTL(from: &reader) }
            let byte = try reader.readUInt8()
            guard let datatype = DataType(wireByte: byte) else { throw .malformed("unknown bucket datatype \(byte)") }
            props.datatype = datatype
            return props
        case 4:
            var props = try decodeVersion1(from: &reader)
            if try reader.readBool() { props.ttlSeconds = try decodeTTL(from: &reader) }
            let datatypeByte = try reader.readUInt8()
            if datatypeByte != 0 {
                guard let datatype = DataType(wireByte: datatypeByte) else { throw .malformed("unknown bucket datatype \(datatypeByte)") }
                props.datatype = datatype
            }
            let consistencyByte = try reader.readUInt8()
            guard let consistency = BucketConsistency(wireByte: consistencyByte) else {
                throw .malformed("unknown bucket consistency \(consistencyByte)")
            }
            props.consistency = consistency
            return props
        default: throw .unsupportedVersion(version)
        }
    }

    private static func decodeTTL(from reader: inout ByteReader) throws(WireError) -> UInt64 {
        let ttl = try reader.readVarInt()
        guard ttl >= 1, ttl <= Limits.defaults.ttlSecondsMax else { throw .malformed("bucket ttl \(ttl) s out of range") }
        return ttl
    }

    private static func decodeVersion1(from reader: inout ByteReader) throws(WireError) -> BucketProps {
        let n = try reader.readVarInt()
        guard n >= 1, n <= 1024 else { throw .malformed("bucket n \(n) out of range") }
        return BucketProps(
            n: Int(n), r: try ConsistencyLevel.decode(from: &reader), w: try ConsistencyLevel.decode(from: &reader),
            conflict: try ConflictMode.decode(from: &reader), version: try HLCTimestamp.decode(from: &reader))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes)
        self = try BucketProps.decode(from: &reader)
    }
}

extension MemberSelection {
    /// Tag 0: every member; 1: a count, then each member's bytes.
    func encode(into writer: inout ByteWriter) {
        switch self {
        case .all:
            writer.write(UInt8(0))
        case .listed(let members):
            writer.write(UInt8(1))
            writer.writeVarInt(UInt64(members.count))
            for member in members { writer.writeBytes(member) }
        }
    }

    static func decode(from reader: inout ByteReader, limits: Limits) throws(WireError) -> MemberSelection {
        switch try reader.readUInt8() {
        case 0: return .all
        case 1:
            let count = try reader.readLength()
            guard count <= limits.typedMembersMax else { throw .malformed("\(count) members selected; at most \(limits.typedMembersMax)") }
            var members: [[UInt8]] = []
            members.reserveCapacity(count)
            for _ in 0..<count { members.append(try reader.readBytes()) }
            return .listed(members)
        case let other: throw .malformed("unknown member selection \(other)")
        }
    }
}
