import QuorumCore
import QuorumServices

/// Typed client requests (issue #16) into a simulated node: handed to the node's own
/// `RequestDriver.updateTyped` / `readTyped`, the answer kept raw for the checks. Like the
/// other requests, a crash meanwhile tells the client `indeterminate`.
extension SimulatedNode {
    func updateTyped(_ command: TypedUpdateCommand, completion: @escaping (ClientResult) -> Void) {
        let tell = open(completion)
        requests.updateTyped(command) { result in
            switch result {
            case .success(let outcome): tell(.typedUpdated(reply: outcome.reply, acknowledgedBy: outcome.acknowledged))
            case .failure(let error): tell(.failed(error))
            }
        }
    }

    func readTyped(
        bucket: String, key: [UInt8], members: MemberSelection, options: RequestOptions, sloppy: Bool,
        completion: @escaping (ClientResult) -> Void
    ) {
        let tell = open(completion)
        requests.readTyped(bucket: bucket, key: key, members: members, options: options, sloppy: sloppy) { result in
            switch result {
            case .success(let outcome): tell(.typedRead(outcome.state))
            case .failure(let error): tell(.failed(error))
            }
        }
    }
}
