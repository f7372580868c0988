@_spi(Fuzzing) import QuorumCore
@_spi(Fuzzing) import QuorumStorage

/// libFuzzer's entry point: a `kv` row as the store reads it (`StorageFuzzChecks.checkStoredRow`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStoredRow(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try StorageFuzzChecks.checkStoredRow(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
