import QuorumCore
import QuorumServices

/// Strong client requests (issue #17) into a simulated node: handed to the node's own
/// `RequestDriver.strong`, the answer kept raw for the linearizability check. Like the
/// other requests, a crash of the coordinator meanwhile tells the client `indeterminate`.
extension SimulatedNode {
    func strong(_ command: StrongCommand, completion: @escaping (ClientResult) -> Void) {
        let tell = open(completion)
        requests.strong(command) { result in
            switch result {
            case .success(let answer): tell(.strong(answer))
            case .failure(let error): tell(.failed(error))
            }
        }
    }
}
