import XCTest
final class BenchPlaceholderTests: XCTestCase {}
