import NIOCore
import QuorumServices

/// A node service's executor on the real node: one NIO event loop. Work and timers run on
/// the loop's thread, so the service needs no lock and a request started on a client
/// connection's loop never changes thread.
final class EventLoopExecutor: ServiceExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func execute(_ work: @escaping () -> Void) {
        loop.assumeIsolated().execute(work)
    }

    func schedule(afterMilliseconds milliseconds: Int, _ work: @escaping () -> Void) -> any ScheduledWork {
        ScheduledTask(loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds)), work))
    }

    /// NIO's monotonic clock, the one `scheduleTask(in:)` counts in.
    func uptimeMilliseconds() -> UInt64 { NIODeadline.now().uptimeNanoseconds / 1_000_000 }

    private final class ScheduledTask: ScheduledWork {
        private let task: Scheduled<Void>

        init(_ task: Scheduled<Void>) {
            self.task = task
        }

        func cancel() { task.cancel() }
    }
}
