@_spi(Fuzzing) import QuorumCore

/// libFuzzer's entry point: a gossip message, membership state or truncation points (`CoreFuzzChecks.checkGossip`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGossip(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try CoreFuzzChecks.checkGossip(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
