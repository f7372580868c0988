import Crypto
import QuorumCore
import _CryptoExtras

/// Salted PBKDF2-SHA256 password hashes (swift-crypto's `_CryptoExtras`, BoringSSL
/// underneath), API token digests, and the constant-time comparison both use.
///
/// PBKDF2 is slow on purpose (600 000 iterations by default, about a quarter second):
/// it runs when `quorumkv user` sets a password and once per login, never per request;
/// `CredentialCache` remembers a verified login.
public enum PasswordHasher {
    public enum HashError: Error, CustomStringConvertible {
        case tooLong(limit: Int)
        case derivationFailed(String)

        public var description: String {
            switch self {
            case .tooLong(let limit): return "the password is longer than \(limit) bytes"
            case .derivationFailed(let reason): return "could not derive the password hash: \(reason)"
            }
        }
    }

    /// A new hash of `password` with a fresh random salt and the default iterations.
    public static func hash(_ password: [UInt8], limits: AccessLimits = .defaults) throws(HashError) -> PasswordHash {
        guard password.count <= limits.passwordBytesMax else { throw .tooLong(limit: limits.passwordBytesMax) }
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<limits.saltBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = try derive(password, salt: salt, iterations: limits.passwordIterationsDefault, bytes: limits.derivedKeyBytes)
        return PasswordHash(iterations: limits.passwordIterationsDefault, salt: salt, derivedKey: key)
    }

    /// Whether `password` hashes to `stored`, compared in constant time.
    public static func verify(_ password: [UInt8], against stored: PasswordHash, limits: AccessLimits = .defaults) -> Bool {
        guard stored.scheme == PasswordHash.pbkdf2SHA256, password.count <= limits.passwordBytesMax else { return false }
        guard let key = try? derive(password, salt: stored.salt, iterations: stored.iterations, bytes: stored.derivedKey.count)
        else { return false }
        return constantTimeEquals(key, stored.derivedKey)
    }

    /// The SHA-256 of an API token, as the ACL file stores it.
    public static func tokenDigest(_ token: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: token))
    }

    /// A new API token: `qkv_` and 64 hex digits of fresh randomness (256 bits).
    public static func newToken(limits: AccessLimits = .defaults) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<limits.tokenRandomBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "qkv_" + ACLFileFormat.hex(bytes)
    }

    /// Equal lengths and bytes, taking the same time whichever byte differs.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// The floor on iterations is `AccessLimits.passwordIterationsMin`, which the ACL
    /// parser enforces on every stored hash (tests hash with fewer to run fast).
    private static func derive(_ password: [UInt8], salt: [UInt8], iterations: Int, bytes: Int) throws(HashError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: password, salt: salt, using: .sha256, outputByteCount: bytes, unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .derivationFailed("\(error)")
        }
    }
}
