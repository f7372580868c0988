import ArgumentParser

@main
struct QuorumKV: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorumkv",
        abstract: "A Dynamo-style key-value store with per-request n/w/r.",
        discussion: """
            Start a local three-node cluster on loopback:   quorumkv cluster up
            Then talk to it:                                quorumkv put greeting hello --w 2
                                                            quorumkv get greeting --r 2
            """,
        subcommands: [ServeCommand.self, ClusterCommand.self, GetCommand.self, PutCommand.self, DeleteCommand.self, KeysCommand.self, TruncateCommand.self, ShellCommand.self, TypeCommand.self, BucketCommand.self, BenchCommand.self, UserCommand.self, CertCommand.self]
    )

    /// Like ArgumentParser's own entry point, but usage errors exit 2 as documented.
    static func main() async { await CommandRunner.main(QuorumKV.self) }
}
