import Foundation

/// CPU time and resident memory of a process, from /proc (Linux). The harness samples each
/// node before and after a setting to say how much CPU each node used.
public enum ProcessSampler {
    /// User + system CPU seconds the process has used so far, or nil when it can't be read.
    public static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size in MiB (VmRSS), or nil.
    public static func residentMiB(pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let number = line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
            return number.map { $0 / 1024 }
        }
        return nil
    }

    public static var ownPID: Int32 { getpid() }
}
