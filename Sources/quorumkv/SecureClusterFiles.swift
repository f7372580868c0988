import Foundation
import QuorumCore
import QuorumNode
import QuorumTLS

/// The files of a `cluster up --secure` cluster, all in its data folder: a development CA,
/// a certificate per node, an ACL with an `admin` user, that user's password, and a netrc
/// file for curl. Made on the first secured run with the code `quorumkv cert` and
/// `quorumkv user` use, and reused on every later run: a file that exists is never
/// replaced, so the password an operator saved keeps working and the certificates keep
/// chaining to the CA their clients trust.
struct SecureClusterFiles {
    /// The cluster's data folder (`cluster up --data`).
    let folder: String

    static let adminUser = "admin"
    /// Characters of a generated password: letters and digits survive shells, netrc and
    /// URLs unquoted.
    static let passwordAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    /// 24 characters of 62: about 143 bits.
    static let passwordLength = 24

    var caPath: String { "\(folder)/\(DevelopmentCA.caCertificateFile)" }
    var aclPath: String { "\(folder)/acl.txt" }
    var passwordPath: String { "\(folder)/admin.password" }
    var netrcPath: String { "\(folder)/admin.netrc" }
    var certificateFolder: String { "\(folder)/tls" }
    func certificatePath(_ node: String) -> String { "\(certificateFolder)/\(node).pem" }
    func keyPath(_ node: String) -> String { "\(certificateFolder)/\(node)-key.pem" }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes whatever is missing: the CA, each node's certificate (DNS:<node>, localhost and
    /// `host`), the admin password, the ACL and the netrc file. Returns the names of what it
    /// made, for the operator.
    @discardableResult
    func prepare(nodes: [String], host: String) throws(Failure) -> [String] {
        var made: [String] = []
        do throws(TLSMaterialError) {
            if !FileManager.default.fileExists(atPath: caPath) {
                try DevelopmentCA.initialize(directory: folder, commonName: "QuorumKV local cluster CA")
                made.append(caPath)
            }
            for node in nodes where !FileManager.default.fileExists(atPath: certificatePath(node))
                || !FileManager.default.fileExists(atPath: keyPath(node))
            {
                try DevelopmentCA.issue(
                    DevelopmentCA.NodeRequest(nodeID: node, dnsNames: ["localhost"], ipAddresses: [host]),
                    caDirectory: folder, outputDirectory: certificateFolder)
                made.append(certificatePath(node))
            }
        } catch {
            throw Failure(description: error.message)
        }
        chmod(certificateFolder, 0o700)
        // The password first: a run stopped between the two steps leaves a password and no
        // ACL, which the next run completes, never an ACL whose password nobody has.
        let password: [UInt8]
        if FileManager.default.fileExists(atPath: passwordPath) {
            password = try readPassword()
        } else {
            guard !FileManager.default.fileExists(atPath: aclPath) else {
                throw Failure(
                    description: "\(aclPath) exists but \(passwordPath) does not; write the admin password to that file (mode 0600) "
                        + "and set it with `quorumkv user passwd admin --acl \(aclPath) --password-file \(passwordPath)`")
            }
            password = Array(Self.newPassword().utf8)
            try Self.createPrivateFile(passwordPath, contents: password + [UInt8(ascii: "\n")])
            made.append(passwordPath)
        }
        if !FileManager.default.fileExists(atPath: aclPath) {
            try writeACL(password: password)
            made.append(aclPath)
        }
        if !FileManager.default.fileExists(atPath: netrcPath) {
            let line = "machine \(host) login \(Self.adminUser) password \(String(decoding: password, as: UTF8.self))\n"
                + "machine localhost login \(Self.adminUser) password \(String(decoding: password, as: UTF8.self))\n"
            try Self.createPrivateFile(netrcPath, contents: Array(line.utf8))
            made.append(netrcPath)
        }
        return made
    }

    /// The `serve` flags that put node `node` on TLS everywhere (mutual on the peer port)
    /// and behind the ACL.
    func serveArguments(node: String) -> [String] {
        [
            "--tls-cert", certificatePath(node), "--tls-key", keyPath(node), "--tls-ca", caPath, "--peer-tls", "require",
            "--acl", aclPath,
        ]
    }

    /// A password from the system's CSPRNG (`SystemRandomNumberGenerator` reads getrandom).
    static func newPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<passwordLength).map { _ in passwordAlphabet.randomElement(using: &generator)! })
    }

    private func readPassword() throws(Failure) -> [UInt8] {
        do {
            return try PasswordSource.read(file: passwordPath)
        } catch {
            throw Failure(description: "\(error); it holds the admin password of \(aclPath)")
        }
    }

    /// `admin` with every action on every bucket, and `default` off: the nodes listen on
    /// loopback, where `default` would otherwise act without a login.
    private func writeACL(password: [UInt8]) throws(Failure) {
        var acl = ACL()
        do {
            let grant = try ACLFileFormat.parseGrant("read,write,delete,list,admin:*")
            let hash = try PasswordHasher.hash(password)
            acl.upsert(ACLUser(name: Self.adminUser, enabled: true, password: hash, grants: [grant]))
            acl.upsert(ACLUser(name: ACL.defaultUserName, enabled: false))
            try ACLFileStore.write(acl, to: aclPath)
        } catch {
            throw Failure(description: "cannot create \(aclPath): \(error)")
        }
    }

    /// Creates `path` with mode 0600 whatever the umask; refuses an existing file or link,
    /// so a secret is never written over something else or through a link.
    static func createPrivateFile(_ path: String, contents: [UInt8]) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        _ = fchmod(descriptor, 0o600)
        let written = contents.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
