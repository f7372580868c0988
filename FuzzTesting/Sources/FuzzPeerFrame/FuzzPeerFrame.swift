@_spi(Fuzzing) import QuorumCore

/// libFuzzer's entry point: a peer frame or a request, response or hello payload (`CoreFuzzChecks.checkPeerFrame`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPeerFrame(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try CoreFuzzChecks.checkPeerFrame(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
