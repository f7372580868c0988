/// What a grant allows on the buckets it names.
///
/// `read` reads values (and their expiry); `write` writes values and changes expiry;
/// `delete` deletes keys; `list` lists key names; `admin` changes bucket props, truncates
/// (`FLUSHDB`), and, granted on `*`, changes membership, reads node details and reloads
/// the ACL. No action implies another: `admin` does not include `read`.
public enum AccessAction: String, Sendable, CaseIterable, Hashable, Comparable {
    case read, write, delete, list, admin

    public static func < (lhs: AccessAction, rhs: AccessAction) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
