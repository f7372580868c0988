import ArgumentParser

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("not built yet") }
}
