import ArgumentParser
import Foundation
import QuorumNode

/// Who a client command logs in as on a node started with `--acl`: `--user` (or
/// `$QUORUMKV_USER`) with the password from `--password-file` (its first line) or
/// `$QUORUMKV_PASSWORD`, or an API token from `$QUORUMKV_TOKEN`. Never a password as an
/// argument: it would show in `ps` and in shell history.
struct CredentialFlags: ParsableArguments {
    static let userVariable = "QUORUMKV_USER"
    static let passwordVariable = "QUORUMKV_PASSWORD"
    static let tokenVariable = "QUORUMKV_TOKEN"

    @Option(help: ArgumentHelp("Log in as this user (or $\(userVariable)); the password from --password-file or $\(passwordVariable).", valueName: "name"))
    var user: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("A file whose first line is the password.", valueName: "file"))
    var passwordFile: String?

    /// Missing or unreadable credentials are a usage error (exit 2) before anything runs.
    func validate() throws {
        do throws(CommandFailure) {
            _ = try authorization()
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// `authorization()` after `validate()` passed.
    var checkedAuthorization: String? { (try? authorization()) ?? nil }

    /// The `Authorization` header to send, nil for none (the `default` user on loopback).
    func authorization() throws(CommandFailure) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let name = user ?? environment[Self.userVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let name else {
            if let token = environment[Self.tokenVariable], !token.isEmpty { return "Bearer \(token)" }
            if passwordFile != nil { throw .usage("--password-file needs --user (or $\(Self.userVariable))") }
            return nil
        }
        var password: [UInt8]
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw .usage("cannot read the password file \(passwordFile)")
            }
            password = Array(data)
            if let newline = password.firstIndex(of: UInt8(ascii: "\n")) { password = Array(password[..<newline]) }
            if password.last == UInt8(ascii: "\r") { password.removeLast() }
        } else if let value = environment[Self.passwordVariable] {
            password = Array(value.utf8)
        } else {
            throw .usage("--user \(name) needs a password: --password-file FILE or $\(Self.passwordVariable)")
        }
        return KVHTTPClient.basicAuthorization(user: name, password: password)
    }
}
