import ArgumentParser
import QuorumCore
import QuorumNode

/// `quorumkv user add|passwd|remove|list|token --acl FILE`: edits a node's ACL file.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, change, remove and list the users of an ACL file (serve --acl).",
        discussion: """
            The file is the same on every node; copy it to each and reload them (SIGHUP or
            POST /admin/acl/reload). Passwords come from --password-file (its first line) or
            standard input, never from an argument. Files are written whole, mode 0600.

            Examples:
              quorumkv user add alice --acl acl.txt --grant read,write:apples --grant list:a* --password-file alice.pw
              quorumkv user passwd alice --acl acl.txt < alice.pw
              quorumkv user token alice --acl acl.txt      (prints a new API token once)
              quorumkv user list --acl acl.txt
              quorumkv user remove alice --acl acl.txt
            """,
        subcommands: [UserAdd.self, UserPasswd.self, UserRemove.self, UserList.self, UserToken.self]
    )
}

struct ACLFileOption: ParsableArguments {
    @Option(help: ArgumentHelp("The ACL file.", valueName: "file"))
    var acl: String
}

/// Runs an edit, turning a failure into a message and exit code 1.
private func editing(_ body: () throws(ACLFileStore.Failure) -> Void) throws {
    do {
        try body()
    } catch {
        FileOutput.standardError("quorumkv user: \(error)\n")
        throw ExitCode(1)
    }
}

struct UserAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a user (the file is created if absent).")

    @OptionGroup var file: ACLFileOption
    @Argument(help: "The user name: 1-64 of A-Z a-z 0-9 _ . - @.") var name: String
    @Option(help: ArgumentHelp(
        "Actions and a bucket pattern, e.g. read,write:apples or list:a*; repeat. Actions: read, write, delete, list, admin.",
        valueName: "actions:pattern"))
    var grant: [String] = []
    @Option(name: .customLong("password-file"), help: "Read the password from this file's first line (else standard input).")
    var passwordFile: String?
    @Flag(name: .customLong("no-password"), help: "No password: the user logs in with API tokens only (`user token`).")
    var noPassword = false
    @Flag(help: "Add the user disabled (off).") var disabled = false

    func run() throws {
        try editing { () throws(ACLFileStore.Failure) in
            guard ACLFileFormat.isValidUserName(name) else {
                throw .init(description: "user name '\(name)' must be 1-64 of A-Z a-z 0-9 _ . - @")
            }
            var acl = try ACLFileStore.read(file.acl, creating: true)
            guard acl.users[name] == nil else { throw .init(description: "user \(name) exists; use `user passwd` or remove it first") }
            var grants: [ACLGrant] = []
            for text in grant {
                do throws(ACLParseError) {
                    grants.append(try ACLFileFormat.parseGrant(text))
                } catch {
                    throw .init(description: "--grant \(text): \(error.reason)")
                }
            }
            var user = ACLUser(name: name, enabled: !disabled, grants: grants)
            if name != ACL.defaultUserName, !noPassword { user.password = try PasswordSource.hashed(file: passwordFile) }
            acl.upsert(user)
            try ACLFileStore.write(acl, to: file.acl)
            FileOutput.standardOutput("added user \(name) to \(file.acl); reload the nodes (SIGHUP or POST /admin/acl/reload)\n")
        }
    }
}

struct UserPasswd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Set a user's password.")

    @OptionGroup var file: ACLFileOption
    @Argument(help: "The user.") var name: String
    @Option(name: .customLong("password-file"), help: "Read the password from this file's first line (else standard input).")
    var passwordFile: String?

    func run() throws {
        try editing { () throws(ACLFileStore.Failure) in
            var acl = try ACLFileStore.read(file.acl)
            guard var user = acl.users[name] else { throw .init(description: "no user \(name) in \(file.acl)") }
            guard name != ACL.defaultUserName else { throw .init(description: "the default user has no password") }
            user.password = try PasswordSource.hashed(file: passwordFile)
            acl.upsert(user)
            try ACLFileStore.write(acl, to: file.acl)
            FileOutput.standardOutput("set the password of \(name); reload the nodes (SIGHUP or POST /admin/acl/reload)\n")
        }
    }
}

struct UserRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a user.")

    @OptionGroup var file: ACLFileOption
    @Argument(help: "The user.") var name: String

    func run() throws {
        try editing { () throws(ACLFileStore.Failure) in
            var acl = try ACLFileStore.read(file.acl)
            guard acl.remove(name) else { throw .init(description: "no user \(name) in \(file.acl)") }
            try ACLFileStore.write(acl, to: file.acl)
            FileOutput.standardOutput("removed user \(name); reload the nodes (SIGHUP or POST /admin/acl/reload)\n")
        }
    }
}

struct UserList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List users, their state and grants (no secrets).")

    @OptionGroup var file: ACLFileOption

    func run() throws {
        try editing { () throws(ACLFileStore.Failure) in
            let acl = try ACLFileStore.read(file.acl)
            for name in acl.order {
                guard let user = acl.users[name] else { continue }
                let grants = user.grants.map { "\($0.actions.sorted().map(\.rawValue).joined(separator: ",")):\($0.pattern)" }
                FileOutput.standardOutput(
                    "\(name) \(user.enabled ? "on" : "off") password=\(user.password == nil ? "no" : "yes") tokens=\(user.tokenDigests.count) grants=\(grants.joined(separator: " "))\n")
            }
        }
    }
}

struct UserToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create an API token for a user and print it once (the file keeps only its SHA-256).",
        discussion: "Revoke a token by removing its token: word from the user's line (or `user remove`) and reloading.")

    @OptionGroup var file: ACLFileOption
    @Argument(help: "The user.") var name: String

    func run() throws {
        try editing { () throws(ACLFileStore.Failure) in
            var acl = try ACLFileStore.read(file.acl)
            guard var user = acl.users[name], name != ACL.defaultUserName else { throw .init(description: "no user \(name) in \(file.acl)") }
            guard user.tokenDigests.count < AccessLimits.defaults.tokensPerUserMax else {
                throw .init(description: "\(name) has \(AccessLimits.defaults.tokensPerUserMax) tokens, the most allowed; remove one first")
            }
            let token = PasswordHasher.newToken()
            user.tokenDigests.append(PasswordHasher.tokenDigest(Array(token.utf8)))
            acl.upsert(user)
            try ACLFileStore.write(acl, to: file.acl)
            FileOutput.standardOutput(token + "\n")
        }
    }
}
