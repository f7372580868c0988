import ArgumentParser

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("not built yet") }
}
