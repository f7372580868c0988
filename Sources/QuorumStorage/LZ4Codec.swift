import CLZ4

/// LZ4 block compression, without framing: the caller records the original length and
/// passes it back to `decompress`, which checks that the data inflates to exactly that.
///
/// Block format keeps stored rows small (no frame header or checksum; SQLite pages carry
/// their own integrity). Reused for anti-entropy batches.
public enum LZ4Codec {
    /// Largest input LZ4 accepts (`LZ4_MAX_INPUT_SIZE`, just under 2 GiB).
    public static let inputBytesMax = Int(LZ4_MAX_INPUT_SIZE)

    /// Output size that always suffices for `inputBytes` of input.
    public static func compressBound(_ inputBytes: Int) -> Int {
        Int(LZ4_compressBound(Int32(clamping: inputBytes)))
    }

    /// Compresses `input` into `output` and returns the compressed size, or 0 when the
    /// result does not fit in `output` (so a caller can give a smaller buffer to ask
    /// "compress only if it saves space") or the input is over `inputBytesMax`.
    public static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        guard input.count <= inputBytesMax, let destination = output.baseAddress, !output.isEmpty else { return 0 }
        let capacity = Int32(clamping: output.count)
        let write = destination.assumingMemoryBound(to: CChar.self)
        guard let source = input.baseAddress else {
            // LZ4 still encodes empty input (one token byte); give it a valid pointer to not read.
            var nothing: CChar = 0
            return Int(LZ4_compress_default(&nothing, write, 0, capacity))
        }
        return Int(LZ4_compress_default(source.assumingMemoryBound(to: CChar.self), write, Int32(input.count), capacity))
    }

    /// Compresses `input` into a new array.
    public static func compress(_ input: [UInt8]) throws -> [UInt8] {
        guard input.count <= inputBytesMax else {
            throw StoreError.tooLarge("\(input.count) bytes is more than LZ4 can compress (\(inputBytesMax)); split the data")
        }
        let bound = compressBound(input.count)
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            count = input.withUnsafeBytes { compress($0, into: UnsafeMutableRawBufferPointer(buffer)) }
        }
    }

    /// Inflates `compressed`, which must decode to exactly `originalLength` bytes.
    /// The caller bounds `originalLength` first: it sizes the allocation.
    public static func decompress(_ compressed: UnsafeRawBufferPointer, originalLength: Int) throws -> [UInt8] {
        guard originalLength >= 0, originalLength <= inputBytesMax else {
            throw StoreError.corrupt("LZ4 data claims an original length of \(originalLength) bytes, outside 0...\(inputBytesMax)")
        }
        guard let source = compressed.baseAddress, !compressed.isEmpty else {
            throw StoreError.corrupt("LZ4 data is empty; expected a block that inflates to \(originalLength) bytes")
        }
        var produced = 0
        // One spare byte lets LZ4 report data that inflates to more than the header says.
        let result = [UInt8](unsafeUninitializedCapacity: originalLength + 1) { buffer, count in
            produced = Int(LZ4_decompress_safe(
                source.assumingMemoryBound(to: CChar.self),
                UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                Int32(clamping: compressed.count),
                Int32(originalLength + 1)))
            count = produced == originalLength ? originalLength : 0
        }
        guard produced == originalLength else {
            throw StoreError.corrupt(produced < 0
                ? "LZ4 data is malformed (decoder error \(produced)); expected \(originalLength) bytes"
                : "LZ4 data inflates to \(produced) bytes, not the \(originalLength) its header says")
        }
        return result
    }

    public static func decompress(_ compressed: [UInt8], originalLength: Int) throws -> [UInt8] {
        try compressed.withUnsafeBytes { try decompress($0, originalLength: originalLength) }
    }
}
