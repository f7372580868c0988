import Foundation

/// The shell's history: the last `limit` lines, numbered from 1 as `HISTORY` shows them.
///
/// With a file, earlier sessions' lines are loaded from it (trimmed to `limit`) and each
/// new line is appended as it is entered, so a crash loses nothing. Lines that start with
/// a space are kept for this session only, never written to the file (as in bash).
final class ShellHistory {
    static let defaultLimit = 1000
    static let fileName = ".quorumkv_history"
    static let environmentVariable = "QUORUMKV_HISTORY"

    let limit: Int
    private(set) var lines: [String] = []
    private let path: String?

    init(path: String?, limit: Int = defaultLimit) {
        self.limit = max(1, limit)
        self.path = path
        if let path { load(path) }
    }

    /// `$QUORUMKV_HISTORY`, else `~/.quorumkv_history`.
    static func defaultPath() -> String {
        if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty { return path }
        return NSHomeDirectory() + "/" + fileName
    }

    /// Line `number` (1-based), or nil.
    func line(_ number: Int) -> String? {
        lines.indices.contains(number - 1) ? lines[number - 1] : nil
    }

    func add(_ line: String) {
        guard !line.allSatisfy(\.isWhitespace), line != lines.last else { return }
        lines.append(line)
        if lines.count > limit { lines.removeFirst(lines.count - limit) }
        if let path, line.first?.isWhitespace != true { append(line, to: path) }
    }

    private func load(_ path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let stored = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        lines = Array(stored.suffix(limit))
        if stored.count > limit { rewrite(path) }
    }

    private func rewrite(_ path: String) {
        let text = lines.map { $0 + "\n" }.joined()
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    }

    private func append(_ line: String, to path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }
}
