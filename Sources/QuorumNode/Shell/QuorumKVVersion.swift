/// The release this build is; shown by `/status`, `INFO` and `--version`.
public enum QuorumKVVersion {
    public static let current = "0.1.0"
}
