// placeholder until the storage lands
