/// Redis's glob patterns (`KEYS`, `SCAN … MATCH`, `CONFIG GET`) over bytes, as Redis's
/// `stringmatchlen` reads them: `*` any run of bytes, `?` any one byte, `[abc]` one of a set,
/// `[^a]` none of it, `[a-z]` a range (reversed ranges count too), and `\x` the
/// byte `x` itself, inside a set as well. An unterminated `[` takes the rest of the pattern
/// as its set, and a trailing lone `\` matches a backslash, as in Redis.
///
/// Pure, and linear-time per pattern position: a `*` is retried from its last position
/// only (the classic single-backtrack form), so a pattern of many `*` can't blow up the
/// way Redis's recursive matcher once did.
public enum RESPGlob {
    public static func matches(_ pattern: some Collection<UInt8>, _ text: some Collection<UInt8>) -> Bool {
        let pattern = Array(pattern)
        let text = Array(text)
        var p = 0
        var t = 0
        var star: (p: Int, t: Int)?
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
                    if p == pattern.count { return true }
                    star = (p, t)
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    t += 1
                    continue
                case UInt8(ascii: "["):
                    let (matched, next) = matchSet(pattern, from: p, byte: text[t])
                    if matched {
                        p = next
                        t += 1
                        continue
                    }
                case UInt8(ascii: "\\") where p + 1 < pattern.count:
                    if pattern[p + 1] == text[t] {
                        p += 2
                        t += 1
                        continue
                    }
                case let literal:
                    if literal == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            // Mismatch (or pattern used up): let the last `*` take one more byte.
            guard let last = star else { return false }
            star = (last.p, last.t + 1)
            p = last.p
            t = last.t + 1
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Whether `byte` is in the set that starts at `pattern[start]` (a `[`), and the index
    /// just past the set's `]` (or the pattern's end when it is unterminated).
    private static func matchSet(_ pattern: [UInt8], from start: Int, byte: UInt8) -> (Bool, Int) {
        var index = start + 1
        var negated = false
        if index < pattern.count, pattern[index] == UInt8(ascii: "^") {
            negated = true
            index += 1
        }
        var found = false
        while index < pattern.count {
            let current = pattern[index]
            if current == UInt8(ascii: "\\"), index + 1 < pattern.count {
                if pattern[index + 1] == byte { found = true }
                index += 2
            } else if current == UInt8(ascii: "]") {
                return (found != negated, index + 1)
            } else if index + 2 < pattern.count, pattern[index + 1] == UInt8(ascii: "-") {
                var (low, high) = (current, pattern[index + 2])
                if low > high { swap(&low, &high) }
                if (low...high).contains(byte) { found = true }
                index += 3
            } else {
                if current == byte { found = true }
                index += 1
            }
        }
        return (found != negated, pattern.count)
    }
}
