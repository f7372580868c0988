import Synchronization

/// The node's current TLS material, swapped whole on reload. Each new connection reads
/// `current` once as it is set up; connections already open keep the contexts they began
/// with, so a reload never cuts a client off.
public final class ReloadableTLS: Sendable {
    private let state: Mutex<TLSMaterial>

    /// Loads the files once; a node refuses to start when this throws.
    public init(files: TLSFiles) throws(TLSMaterialError) {
        state = Mutex(try TLSMaterial(files: files))
    }

    public var current: TLSMaterial { state.withLock { $0 } }

    /// Re-reads the same files. On success new connections use the new material; on failure
    /// the old material stays in use and the error says why (file and problem, never contents).
    public func reload() throws(TLSMaterialError) {
        let files = current.files
        let fresh = try TLSMaterial(files: files)
        state.withLock { $0 = fresh }
    }
}
