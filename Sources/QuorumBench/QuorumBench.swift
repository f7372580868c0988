/// The benchmark harness behind `quorumkv bench` (being built).
enum QuorumBenchPlaceholder {}
