import Foundation
import XCTest

@_spi(Fuzzing) import QuorumCore
@_spi(Fuzzing) import QuorumNode
@_spi(Fuzzing) import QuorumStorage

/// Replays the committed libFuzzer corpora (`FuzzTesting/Corpus/<target>`) through the
/// check functions the fuzz targets call, so CI keeps every input the fuzzer found
/// interesting passing without building the fuzz package (docs/fuzzing.md). Every target's
/// corpus is replayed here, in the one test target that links all their check functions.
final class FuzzCorpusReplayTests: XCTestCase {
    func testPeerFrameCorpus() throws { try replayFuzzCorpus("FuzzPeerFrame", CoreFuzzChecks.checkPeerFrame) }

    func testGossipCorpus() throws { try replayFuzzCorpus("FuzzGossip", CoreFuzzChecks.checkGossip) }

    func testVersionCodecsCorpus() throws { try replayFuzzCorpus("FuzzVersionCodecs", CoreFuzzChecks.checkVersionCodecs) }

    func testACLFileCorpus() throws { try replayFuzzCorpus("FuzzACLFile", CoreFuzzChecks.checkACLFile) }

    func testStoredRowCorpus() throws { try replayFuzzCorpus("FuzzStoredRow", StorageFuzzChecks.checkStoredRow) }

    func testRESPCorpus() throws { try replayFuzzCorpus("FuzzRESP", NodeFuzzChecks.checkRESP) }

    func testHTTPCorpus() throws { try replayFuzzCorpus("FuzzHTTP", NodeFuzzChecks.checkHTTP) }
}

/// Runs every file of one target's corpus through `check`, failing on a broken property
/// (a crash fails the whole run, as it should). An empty or missing corpus fails too, so
/// a moved folder can't make the replay pass by checking nothing.
func replayFuzzCorpus(
    _ target: String, file: StaticString = #filePath, line: UInt = #line,
    _ check: ([UInt8]) throws(FuzzCheckFailure) -> Void
) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folder = root.appendingPathComponent("FuzzTesting/Corpus/\(target)")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    XCTAssertGreaterThan(names.count, 0, "no corpus for \(target)", file: file, line: line)
    for name in names {
        let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
        do {
            try check(bytes)
        } catch {
            XCTFail("\(target) corpus input \(name): \(error)", file: file, line: line)
        }
    }
}
