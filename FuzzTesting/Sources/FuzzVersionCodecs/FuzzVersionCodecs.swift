@_spi(Fuzzing) import QuorumCore

/// libFuzzer's entry point: a key state, bucket props, hint, repair batch, context token, key cursor, Paxos state or strong record (`CoreFuzzChecks.checkVersionCodecs`).
/// A check that fails stops the run with the input saved, as a crash does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVersionCodecs(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try CoreFuzzChecks.checkVersionCodecs(bytes)
    } catch {
        fatalError("\(error)")
    }
    return 0
}
