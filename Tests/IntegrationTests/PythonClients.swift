import Foundation
import XCTest

/// The python scripts under `scripts/` that drive a cluster with real client libraries,
/// and the interpreter to run them with.
enum PythonClients {
    /// `scripts/<name>` in this checkout.
    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts").appendingPathComponent(name).path
    }

    /// python3, once it imports `modules` (comma-separated, as in `import a, b`); skips the
    /// test, saying what to run, when python3 or a module is missing.
    static func python(importing modules: String) async throws -> String {
        let python: String
        do {
            python = try RESPTools.tool("python3")
        } catch {
            throw XCTSkip("python3 is not installed; run scripts/setup-test-tools.sh")
        }
        let check = try await RESPTools.run(python, ["-c", "import \(modules)"], timeoutSeconds: 60)
        guard check.status == 0 else {
            throw XCTSkip("python3 can't import \(modules); run scripts/setup-test-tools.sh\n\(check.errors)")
        }
        return python
    }
}
