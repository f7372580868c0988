import ArgumentParser

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("not built yet") }
}
