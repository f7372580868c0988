import ArgumentParser

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("not built yet") }
}
