@_spi(Fuzzing) import QuorumCore
@_spi(Fuzzing) import QuorumNode

/// libFuzzer's entry point: method, URI, headers and body of an HTTP request (`NodeFuzzChecks.checkHTTP`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try NodeFuzzChecks.checkHTTP(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
