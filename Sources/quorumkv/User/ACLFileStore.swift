import Foundation
import QuorumCore
import QuorumNode

/// Reads and writes the ACL file for `quorumkv user`: read and checked with the node's
/// own parser, written whole to a temporary file with mode 0600 in the same directory and
/// renamed over the old one, so a node reloading at any moment reads the old file or the
/// new one, never half of one. (Two editors at once: the last rename wins.)
enum ACLFileStore {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The file's ACL; an absent file is an empty ACL when `creating`.
    static func read(_ path: String, creating: Bool = false) throws(Failure) -> ACL {
        if creating, !FileManager.default.fileExists(atPath: path) { return ACL() }
        do {
            return try AccessControl.readFile(path)
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    static func write(_ acl: ACL, to path: String) throws(Failure) {
        let bytes = Array(ACLFileFormat.render(acl).utf8)
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        // A fresh file only: never follow a link someone left at the temporary name.
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno))); check the directory's permissions")
        }
        defer { close(descriptor) }
        _ = fchmod(descriptor, 0o600)  // whatever the umask, and if the file was there before
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else {
                unlink(temporary)
                throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
            written += result
        }
        guard fsync(descriptor) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot replace \(path): \(reason)")
        }
    }
}

/// Where a password comes from: a file's first line, or standard input. Never an argument
/// (it would show in `ps` and shell history).
enum PasswordSource {
    /// The password from `file` (else standard input), hashed for the ACL file.
    static func hashed(file: String?) throws(ACLFileStore.Failure) -> PasswordHash {
        let password = try read(file: file)
        do throws(PasswordHasher.HashError) {
            return try PasswordHasher.hash(password)
        } catch {
            throw ACLFileStore.Failure(description: "\(error)")
        }
    }

    static func read(file: String?, limits: AccessLimits = .defaults) throws(ACLFileStore.Failure) -> [UInt8] {
        let data: Data
        if let file {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ACLFileStore.Failure(description: "cannot read the password file \(file)")
            }
            data = contents
        } else {
            if FileOutput.standardInputIsTerminal { FileOutput.standardError("password (then Enter): ") }
            data = FileHandle.standardInput.readDataToEndOfFile().prefix(limits.passwordBytesMax + 2)
            if FileOutput.standardInputIsTerminal { FileOutput.standardError("\n") }
        }
        var bytes = Array(data)
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) { bytes = Array(bytes[..<newline]) }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw ACLFileStore.Failure(description: "the password is empty") }
        guard bytes.count <= limits.passwordBytesMax else {
            throw ACLFileStore.Failure(description: "the password is longer than \(limits.passwordBytesMax) bytes")
        }
        return bytes
    }
}
