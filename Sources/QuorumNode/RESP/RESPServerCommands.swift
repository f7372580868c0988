import Foundation
import QuorumCore

/// `TIME` and `WAIT`.
public enum RESPServerCommand: Sendable, Equatable {
    /// This node's wall clock: seconds and microseconds, as two bulk strings.
    case time
    /// `WAIT numreplicas timeout`. QuorumKV's writes answer only once `w` replicas
    /// acknowledged, so there is nothing left to wait for: `WAIT` waits only for this
    /// connection's earlier commands to finish, then answers `w - 1` for the connection's
    /// `w` (its `CONSISTENCY W`, else the bucket's): replicas beyond the first, as Redis
    /// counts replicas beyond the primary. It never waits for more; to require more copies,
    /// write with a larger `W`.
    case wait(replicas: Int, timeoutMilliseconds: Int)

    var usesService: Bool {
        switch self {
        case .time: return false
        case .wait: return true
        }
    }

    static func parse(_ name: String, _ arguments: [[UInt8]]) throws(RESPCommandError) -> RESPServerCommand? {
        switch name {
        case "TIME":
            guard arguments.isEmpty else { throw .wrongArity(name) }
            return .time
        case "WAIT":
            guard arguments.count == 2 else { throw .wrongArity(name) }
            guard let replicas = RESPParser.integer(arguments[0][...]), replicas >= 0,
                let timeout = RESPParser.integer(arguments[1][...]), timeout >= 0
            else {
                throw RESPCommandError("ERR", "value is not an integer or out of range (WAIT numreplicas timeout-milliseconds, both 0 or more)")
            }
            return .wait(replicas: replicas, timeoutMilliseconds: timeout)
        default:
            return nil
        }
    }

    /// `TIME`'s reply for a wall-clock reading in microseconds since 1970.
    static func timeReply(microseconds: Int64) -> RESPValue {
        .array([.bulk(String(microseconds / 1_000_000)), .bulk(String(microseconds % 1_000_000))])
    }

    static func nowMicroseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
    }
}

extension RESPCommandHandler {
    func executeWait(request: RESPRequest) async throws(KVError) -> RESPValue {
        let props = try await service.bucketProps(bucket: request.bucket)
        let options = request.options()
        let n = min(options.n ?? props.n, props.n)
        // A w above n fails every write (BADPARAM), so it promises nothing beyond n copies.
        let w = min((options.w ?? props.w).resolve(n: n), n)
        return .integer(max(0, w - 1))
    }
}
