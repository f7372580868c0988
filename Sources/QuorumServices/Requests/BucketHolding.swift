import QuorumCore

/// What a request expects its bucket to hold: plain values (GET, PUT, DELETE) or keys of a
/// convergent type. Checked before a request claims anything, so a request of the wrong
/// kind costs nothing and says which bucket to use instead.
public enum BucketHolding: Sendable, Equatable {
    case plain
    /// A typed bucket: of this type, or of any type when nil (a reset works on all three).
    case typed(DataType?)
    /// A strongly consistent bucket (issue #17): every operation goes through consensus.
    case strong

    func check(_ props: BucketProps, bucket: String) throws(KVError) {
        switch (self, props.consistency) {
        case (.strong, .strong):
            return
        case (.strong, .eventual):
            throw .badParameter(
                name: "bucket",
                message: "bucket \(bucket) is eventually consistent: conditional writes (ETag, If-Match, IFEQ) and "
                    + "linearizable reads need a bucket created with consistency strong (docs/consistency.md)")
        case (_, .strong):
            throw .wrongType(
                message: "bucket \(bucket) is strongly consistent: its keys are read and written through consensus "
                    + "(GET, SET, DEL and their conditional forms), never as counters, sets or maps")
        case (_, .eventual):
            break
        }
        switch (self, props.datatype) {
        case (.strong, _):
            return
        case (.plain, nil):
            return
        case (.plain, let held?):
            throw .wrongType(
                message: "bucket \(bucket) holds \(held.rawValue)s; use its \(held.rawValue) operations (docs/datatypes.md), "
                    + "or a bucket of plain values")
        case (.typed, nil):
            throw .wrongType(
                message: "bucket \(bucket) holds plain values; counters, sets and maps live in a bucket created with "
                    + "datatype counter, set or map (docs/datatypes.md)")
        case (.typed(let wanted?), let held?) where wanted != held:
            throw .wrongType(message: "bucket \(bucket) holds \(held.rawValue)s; this operation is for a \(wanted.rawValue)")
        case (.typed, _?):
            return
        }
    }
}
