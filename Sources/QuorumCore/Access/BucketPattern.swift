/// Glob matching for grant patterns: `*` matches any run of bytes (empty too), `?` one
/// byte, every other byte itself. Iterative with one backtrack point, so it runs in
/// O(pattern × name) with no recursion whatever the input.
public enum BucketPattern {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8)
        let n = Array(name.utf8)
        var pi = 0
        var ni = 0
        var star: Int? = nil
        var starMatch = 0
        while ni < n.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || (p[pi] != UInt8(ascii: "*") && p[pi] == n[ni]) {
                pi += 1
                ni += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                starMatch = ni
                pi += 1
            } else if let s = star {
                pi = s + 1
                starMatch += 1
                ni = starMatch
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
