@_spi(Fuzzing) import QuorumCore
@_spi(Fuzzing) import QuorumNode

/// libFuzzer's entry point: the bytes as a RESP client stream (`NodeFuzzChecks.checkRESP`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try NodeFuzzChecks.checkRESP(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
