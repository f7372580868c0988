/// The deterministic simulator (being built).
enum QuorumSimulationPlaceholder {}
