import XCTest

@testable import QuorumStorage

/// A test case with a fresh folder per test and the stores it opened there, closed and
/// removed after the test, so a failing test never leaves a store open for the next.
class StoreTestCase: XCTestCase {
    var directory: TemporaryDirectory!
    private var openStores: [ReplicaStore] = []

    override func setUp() {
        super.setUp()
        directory = TemporaryDirectory(name)
    }

    override func tearDown() {
        for store in openStores { store.close() }
        openStores = []
        directory.remove()
        super.tearDown()
    }

    func openStore(_ options: StoreOptions = StoreOptions()) throws -> ReplicaStore {
        let store = try ReplicaStore(directory: directory.path, options: options, logger: testLogger())
        openStores.append(store)
        return store
    }
}
