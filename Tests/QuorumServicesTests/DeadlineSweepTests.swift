import QuorumCore
import XCTest

@testable import QuorumServices

/// The deadline sweep on its own, on the fake world's clock: random arrivals, timeouts and
/// early finishes against the plain rule every entry must keep.
final class DeadlineSweepTests: XCTestCase {
    private final class Entry: DeadlineEntry {
        let timeout: UInt64
        let started: UInt64
        var firedAt: UInt64?
        let onFire: (Entry) -> Void

        init(timeout: UInt64, started: UInt64, onFire: @escaping (Entry) -> Void) {
            self.timeout = timeout
            self.started = started
            self.onFire = onFire
        }

        override func deadlinePassed() { onFire(self) }
    }

    func testEveryDeadlineFiresOnceBetweenItsTimeoutAndOneGranularityLaterAndFinishedOnesNever() {
        var random = SplitMix(seed: 7)
        for granularity in [1, 5, 10] {
            let world = FakeWorld(members: ["n1"], props: [:])
            let sweep = DeadlineSweep(executor: FakeExecutor(world: world), granularityMilliseconds: granularity)
            var entries: [Entry] = []
            var removed: [Entry] = []
            var fired = 0
            for _ in 0..<2000 {
                let timeout = [1, 2, 7, 50, 200, 2000][Int(random.next() % 6)]
                let entry = Entry(timeout: UInt64(timeout), started: world.now) { entry in
                    XCTAssertNil(entry.firedAt, "fires once")
                    entry.firedAt = world.now
                    fired += 1
                }
                sweep.add(entry, timeoutMilliseconds: timeout)
                entries.append(entry)
                // Some requests finish before their deadline (as most do).
                if random.next() % 3 == 0, let waiting = entries.filter({ $0.isWaiting }).randomElement(using: &random) {
                    sweep.remove(waiting)
                    removed.append(waiting)
                }
                world.run(for: random.next() % 4)
            }
            world.run()
            XCTAssertEqual(sweep.waiting, 0)
            XCTAssertFalse(sweep.isArmed, "nothing waits: no timer")
            XCTAssertEqual(fired + removed.count, entries.count)
            for entry in entries where !removed.contains(where: { $0 === entry }) {
                guard let at = entry.firedAt else { XCTFail("a deadline never fired"); continue }
                XCTAssertGreaterThanOrEqual(at, entry.started + entry.timeout)
                XCTAssertLessThanOrEqual(at, entry.started + entry.timeout + UInt64(granularity), "granularity \(granularity)")
            }
            for entry in removed { XCTAssertNil(entry.firedAt, "a finished request's deadline never fires") }
        }
    }

    func testASteadyStreamOfRequestsThatFinishCostsAboutOneTickPerTimeout() {
        let world = FakeWorld(members: ["n1"], props: [:])
        let executor = CountingExecutor(FakeExecutor(world: world))
        let sweep = DeadlineSweep(executor: executor, granularityMilliseconds: 5)
        // One request a millisecond for 10 s, each answered after 2 ms, with a 2 s timeout.
        for _ in 0..<10_000 {
            let entry = Entry(timeout: 2000, started: world.now) { _ in XCTFail("no deadline passes") }
            sweep.add(entry, timeoutMilliseconds: 2000)
            world.schedule(after: 2) { sweep.remove(entry) }
            world.run(for: 1)
        }
        world.run()
        XCTAssertLessThanOrEqual(executor.scheduled, 10, "about one tick per 2 s, not one timer per request")
        XCTAssertFalse(sweep.isArmed)
    }

    func testATickThatFinishesARequestMayStartAnotherOne() {
        let world = FakeWorld(members: ["n1"], props: [:])
        let sweep = DeadlineSweep(executor: FakeExecutor(world: world), granularityMilliseconds: 5)
        var times: [UInt64] = []
        let start = world.now
        func add(_ remaining: Int) {
            let entry = Entry(timeout: 10, started: world.now) { _ in
                times.append(world.now - start)
                if remaining > 0 { add(remaining - 1) }  // a client retrying from its completion
            }
            sweep.add(entry, timeoutMilliseconds: 10)
        }
        add(3)
        world.run()
        XCTAssertEqual(times, [10, 20, 30, 40])
        XCTAssertFalse(sweep.isArmed)
    }

    private final class CountingExecutor: ServiceExecutor {
        let base: any ServiceExecutor
        var scheduled = 0

        init(_ base: any ServiceExecutor) {
            self.base = base
        }

        func execute(_ work: @escaping () -> Void) { base.execute(work) }

        func schedule(afterMilliseconds milliseconds: Int, _ work: @escaping () -> Void) -> any ScheduledWork {
            scheduled += 1
            return base.schedule(afterMilliseconds: milliseconds, work)
        }

        func uptimeMilliseconds() -> UInt64 { base.uptimeMilliseconds() }
    }

    private struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
