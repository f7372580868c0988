/// The commands of one connection between reading and answering, in the order they
/// arrived: decides which may run now and which replies may be sent.
///
/// Replies always leave in request order (RESP has no request ids). Commands may run
/// concurrently, which is what makes a pipelined burst fast (writes share one group
/// commit), except that a command waits for every earlier unfinished command that shares
/// a key with it when either of them writes: `SET k 1` then `GET k` in one pipeline reads
/// 1, as with Redis. A command that looks at every key (`KEYS`, `SCAN`, `DBSIZE`, `WAIT`)
/// conflicts with every earlier write, and every later write with it. Pure bookkeeping; the connection handler does the IO.
struct RESPPipeline<Work> {
    private enum State {
        case waiting(Work)
        case running
        case done(RESPValue)
    }

    private struct Entry {
        var id: UInt64
        var keys: Set<[UInt8]>
        var writes: Bool
        /// Touches every key of the connection (see `RESPCommand.touchesEveryKey`).
        var everyKey: Bool
        var state: State
        /// Close the connection once this reply is written (`QUIT`, protocol errors).
        var closeAfter: Bool
        /// Bytes of the command's words, held until its reply is taken.
        var commandBytes: Int
    }

    /// Entries not yet handed out as replies; `head` skips those already taken.
    private var entries: [Entry] = []
    private var head = 0
    private var nextID: UInt64 = 0

    /// Bytes of replies that are finished and not yet taken: after `takeReady`, those
    /// that wait behind an earlier command still running.
    private(set) var bufferedReplyBytes = 0

    /// Bytes of the commands read and not yet answered: the keys and values they hold.
    private(set) var commandBytes = 0

    /// Commands read and not yet answered.
    var count: Int { entries.count - head }
    var isEmpty: Bool { count == 0 }

    /// Commands being carried out right now.
    var runningCount: Int {
        entries[head...].reduce(0) { count, entry in
            if case .running = entry.state { return count + 1 }
            return count
        }
    }

    /// Adds a command that needs work. Returns its id and whether it may start now (no
    /// earlier unfinished command conflicts with it); if not, `complete` hands it out later.
    mutating func enqueue(
        _ work: Work, keys: Set<[UInt8]>, writes: Bool, everyKey: Bool = false, bytes: Int = 0
    ) -> (id: UInt64, start: Bool) {
        let id = nextID
        nextID += 1
        let start = !conflictsWithEarlier(keys: keys, writes: writes, everyKey: everyKey, before: entries.count)
        entries.append(
            Entry(
                id: id, keys: keys, writes: writes, everyKey: everyKey, state: start ? .running : .waiting(work),
                closeAfter: false, commandBytes: bytes))
        commandBytes += bytes
        return (id, start)
    }

    /// Adds a command whose reply is already known (connection commands, parse errors).
    mutating func enqueueAnswered(_ reply: RESPValue, closeAfter: Bool = false) {
        let id = nextID
        nextID += 1
        entries.append(Entry(
                id: id, keys: [], writes: false, everyKey: false, state: .done(reply), closeAfter: closeAfter,
                commandBytes: 0))
        bufferedReplyBytes += reply.encodedSize
    }

    /// Records a finished command; returns the waiting commands that may start now.
    mutating func complete(_ id: UInt64, reply: RESPValue) -> [(id: UInt64, work: Work)] {
        guard let index = entries[head...].firstIndex(where: { $0.id == id }) else { return [] }
        entries[index].state = .done(reply)
        bufferedReplyBytes += reply.encodedSize
        var startable: [(id: UInt64, work: Work)] = []
        for candidate in index..<entries.count {
            guard case .waiting(let work) = entries[candidate].state else { continue }
            let waiting = entries[candidate]
            if !conflictsWithEarlier(keys: waiting.keys, writes: waiting.writes, everyKey: waiting.everyKey, before: candidate) {
                entries[candidate].state = .running
                startable.append((entries[candidate].id, work))
            }
        }
        return startable
    }

    /// Takes the replies at the front that are finished, in order. `closeAfter` is true
    /// when one of them ends the connection; replies after it are dropped.
    mutating func takeReady() -> (replies: [RESPValue], closeAfter: Bool) {
        var replies: [RESPValue] = []
        while head < entries.count, case .done(let reply) = entries[head].state {
            let closeAfter = entries[head].closeAfter
            replies.append(reply)
            bufferedReplyBytes -= reply.encodedSize
            commandBytes -= entries[head].commandBytes
            head += 1
            if closeAfter {
                entries = []
                head = 0
                bufferedReplyBytes = 0
                commandBytes = 0
                return (replies, true)
            }
        }
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return (replies, false)
    }

    /// Whether an unfinished command before `index` shares a key with these, one of them writing.
    private func conflictsWithEarlier(keys: Set<[UInt8]>, writes: Bool, everyKey: Bool, before index: Int) -> Bool {
        guard !keys.isEmpty || everyKey else { return false }
        for earlier in entries[head..<index] {
            if case .done = earlier.state { continue }
            guard writes || earlier.writes else { continue }
            if everyKey || earlier.everyKey {
                if !earlier.keys.isEmpty || earlier.everyKey { return true }
                continue
            }
            guard !earlier.keys.isEmpty else { continue }
            if keys.count <= earlier.keys.count {
                if keys.contains(where: earlier.keys.contains) { return true }
            } else if earlier.keys.contains(where: keys.contains) {
                return true
            }
        }
        return false
    }
}
