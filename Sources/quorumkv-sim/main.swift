print("quorumkv-sim: not built yet")
