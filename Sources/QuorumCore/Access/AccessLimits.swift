/// Every bound of users, passwords, tokens and logins, in one place: what the ACL file
/// may hold, how slow a password hash must be, how many verified logins are remembered
/// and for how long, and how many failed logins are tolerated.
///
/// The parser, the CLI that edits the file, the credential cache and the failed-login
/// limiter all read these; `/metrics` shows the runtime ones (`quorumkv_auth_*`).
public struct AccessLimits: Sendable, Equatable {
    /// Largest ACL file. A few thousand users fit; a file past this is refused, not read in part.
    public var fileBytesMax: Int = 1024 * 1024
    /// Longest line of the ACL file.
    public var lineBytesMax: Int = 8 * 1024
    /// Most users in one file.
    public var usersMax: Int = 10_000
    /// Longest user name; names are 1...this of `[A-Za-z0-9_.@-]`.
    public var userNameBytesMax: Int = 64
    /// Most `grant:` words on one user.
    public var grantsPerUserMax: Int = 64
    /// Most `token:` words on one user (room to rotate several clients' tokens).
    public var tokensPerUserMax: Int = 16
    /// Longest bucket pattern in a grant (a bucket name is at most 64 bytes; a glob a little more).
    public var patternBytesMax: Int = 128
    /// Fewest PBKDF2-SHA256 iterations a stored hash may use (OWASP 2023: 600 000). A file
    /// with fewer is refused: a weak hash is a misconfiguration, not a choice.
    public var passwordIterationsMin: Int = 600_000
    /// Most iterations accepted, so a hostile file can't make every login take minutes.
    public var passwordIterationsMax: Int = 10_000_000
    /// Iterations `quorumkv user add|passwd` writes today; raise it here and re-set passwords.
    public var passwordIterationsDefault: Int = 600_000
    /// Salt length written by the CLI, and the accepted range when read.
    public var saltBytes: Int = 16
    public var saltBytesMin: Int = 16
    public var saltBytesMax: Int = 64
    /// Length of the derived key (SHA-256 output size).
    public var derivedKeyBytes: Int = 32
    /// Longest password accepted at login or by the CLI (PBKDF2 hashes any length; this
    /// bounds the work an unauthenticated client can ask for).
    public var passwordBytesMax: Int = 1024
    /// Bytes of randomness in an API token (256 bits: a SHA-256 of it is enough to store).
    public var tokenRandomBytes: Int = 32
    /// Longest bearer token accepted in a request.
    public var tokenBytesMax: Int = 256

    /// Verified (user, password) pairs remembered so the slow hash runs once per login.
    public var credentialCacheEntriesMax: Int = 4096
    /// How long a verified pair is remembered; a reload forgets every pair at once.
    public var credentialCacheLifetimeSeconds: Int = 300

    /// Failed logins one source address may make per window before its logins are refused
    /// for the rest of the window.
    public var failuresPerAddressMax: Int = 20
    public var failureWindowSeconds: Int = 60
    /// Source addresses tracked at once; the oldest window is dropped past it.
    public var failureAddressesMax: Int = 4096
    /// Failed logins on one connection before it is closed.
    public var failuresPerConnectionMax: Int = 5

    public init() {}

    public static let defaults = AccessLimits()
}
