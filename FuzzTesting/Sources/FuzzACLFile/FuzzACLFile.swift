@_spi(Fuzzing) import QuorumCore

/// libFuzzer's entry point: an ACL file (`CoreFuzzChecks.checkACLFile`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzACLFile(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try CoreFuzzChecks.checkACLFile(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
