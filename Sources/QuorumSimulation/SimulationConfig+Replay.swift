extension SimulationConfig {
    /// The `quorumkv-sim` flags that recreate this configuration, each with a leading space:
    /// what a failure line appends to `--seed S` so the command replays the same run.
    /// Settings at their defaults are left out.
    public var replayFlags: String {
        let defaults = SimulationConfig()
        var flags = ""
        if let faults { flags += " --faults \(faults.rawValue)" }
        if bug != .none { flags += " --bug \(bug.rawValue)" }
        if operationsPerClient != defaults.operationsPerClient { flags += " --operations \(operationsPerClient)" }
        if clientCount != defaults.clientCount { flags += " --clients \(clientCount)" }
        if truncatingClients != defaults.truncatingClients { flags += " --truncating-clients \(truncatingClients)" }
        if typedClients != defaults.typedClients { flags += " --typed-clients \(typedClients)" }
        if strongClients != defaults.strongClients { flags += " --strong-clients \(strongClients)" }
        if strongKeys != defaults.strongKeys { flags += " --strong-keys \(strongKeys)" }
        if !expiryWorkload { flags += " --no-expiry" }
        return flags
    }
}
