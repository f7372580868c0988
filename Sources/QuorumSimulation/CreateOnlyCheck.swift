import QuorumCore

/// (h) An acknowledged create-only write found no live value on its lead: in a vclock
/// bucket the state it answered holds no live version but its own (a blind write over a
/// live value would leave that value beside it as a sibling). In lww buckets the answer
/// keeps only the newest version, so this check cannot see there.
enum CreateOnlyCheck {
    static func check(_ input: CheckInput) -> [CheckViolation] {
        input.history.entries.compactMap { entry in
            guard entry.createOnly, input.props(CheckInput.KeyName(bucket: entry.bucket, key: entry.key)).conflict == .vclock,
                case .written(let version, let state, _) = entry.outcome, state.liveSiblings != [version]
            else { return nil }
            return CheckViolation(
                check: .createOnly,
                message: "\(entry.bucket)/\(String(decoding: entry.key, as: UTF8.self)): \(CheckInput.describe(entry)) "
                    + "was acknowledged over a live value: \(History.render(state))")
        }
    }
}
