/// `exp` and `log` for the failure detector, written out because QuorumCore imports the
/// standard library only and the standard library has no elementary functions (they live
/// in Glibc/Darwin, which would let IO in as well).
///
/// Accurate to a few units in the last place over the ranges phi needs; not a general
/// replacement for libm (no special handling of signed zeros or NaN payloads).
enum Elementary {
    static let ln2 = 0.693_147_180_559_945_309_417_232_121_458
    static let ln10 = 2.302_585_092_994_045_684_017_991_454_684

    /// e^x. Range reduction x = k·ln2 + r with |r| ≤ ln2/2, a Taylor series for e^r, then
    /// scaling by 2^k; underflows to 0 below -745 and overflows to +infinity above 709.8.
    static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.782_712_893_384 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x / ln2).rounded()
        let r = x - k * ln2
        // 20 terms: r^20/20! < 1e-27 for |r| ≤ 0.35.
        var term = 1.0
        var sum = 1.0
        for n in 1...20 {
            term *= r / Double(n)
            sum += term
        }
        // Scale in two steps so a subnormal result (k below -1022) is still reached.
        let exponent = Int(k)
        if exponent < -1000 {
            let scaled = Double(sign: .plus, exponent: exponent + 1000, significand: sum)
            return scaled * Double(sign: .plus, exponent: -1000, significand: 1)
        }
        return Double(sign: .plus, exponent: exponent, significand: sum)
    }

    /// Natural logarithm of x > 0: x = m·2^e with m in [1, 2), ln m = 2·atanh((m-1)/(m+1)).
    static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return .infinity }
        let exponent = Double(x.exponent)
        let mantissa = x.significand
        let t = (mantissa - 1) / (mantissa + 1)  // in [0, 1/3)
        let t2 = t * t
        var power = t
        var sum = 0.0
        // t^(2n+1)/(2n+1) with t² < 1/9: 18 terms reach 1e-17.
        for n in 0..<18 {
            sum += power / Double(2 * n + 1)
            power *= t2
        }
        return exponent * ln2 + 2 * sum
    }

    static func log10(_ x: Double) -> Double { log(x) / ln10 }
}
