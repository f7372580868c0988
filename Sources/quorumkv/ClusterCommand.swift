import ArgumentParser

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run and inspect a cluster.",
        subcommands: [ClusterUpCommand.self, ClusterStatusCommand.self, ClusterHealthCommand.self, ClusterJoinCommand.self, ClusterLeaveCommand.self],
        defaultSubcommand: ClusterUpCommand.self
    )
}
