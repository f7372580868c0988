import ArgumentParser
import QuorumCore
import QuorumNode

struct TruncateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "truncate",
        abstract: "Hide every key a bucket (or every bucket) holds, on every node: FLUSHDB.",
        discussion: """
            Every version written before the call reads as absent on every node, at any r, \
            and never comes back through hints, read repair or anti-entropy; the space is \
            freed later by the tombstone purge. Writes acknowledged after it are kept. It \
            answers once every member adopted the truncation; with a member down it fails \
            (exit 5, `unavailable`, naming the member) and can be run again. It can't be \
            undone, so it asks for --yes.

            The node is --endpoint, else $QUORUMKV_ENDPOINT, else http://127.0.0.1:8081.

            Examples:
              quorumkv truncate --bucket sessions --yes
              quorumkv truncate --all-buckets --yes

            Exit codes:
              0  success: every member hides the old versions
              2  usage error: no --yes, a bad bucket name
              4  unreachable: the connection failed or timed out
              5  other server error (503 unavailable: a member did not answer)
            """
    )

    @OptionGroup var target: TargetFlags

    @Flag(help: "Truncate every bucket, including buckets nobody configured (FLUSHALL).")
    var allBuckets = false

    @Flag(help: "Confirm: the old versions are gone for good.")
    var yes = false

    func run() async throws {
        do throws(CommandFailure) {
            try target.checkBucket()
            let what = allBuckets ? "every bucket" : "bucket \(target.bucket)"
            guard yes else { throw .usage("truncating hides every key of \(what) for good; add --yes to go ahead") }
            let report: TruncationReport
            do {
                report = try await target.client().truncate(bucket: allBuckets ? nil : target.bucket)
            } catch {
                throw CommandFailure(error)
            }
            FileOutput.standardOutput(
                "truncated \(what) at \(TimeText.iso8601(milliseconds: report.pointMilliseconds)) on \(report.members) members\n")
        } catch {
            throw error.report(json: false)
        }
    }
}
