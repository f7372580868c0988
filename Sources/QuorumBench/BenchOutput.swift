import Foundation

/// Writes a report's files: report.json, report.csv, report.txt (the table) and the SVG plots.
public enum BenchOutput {
    public static func write(_ report: BenchReport, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func save(_ name: String, _ data: Data) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            written.append(path)
        }
        try save("report.json", report.json())
        try save("report.csv", Data(report.csv().utf8))
        try save("report.txt", Data((BenchTable.render(report) + "\n").utf8))
        for figure in BenchFigures.render(report) { try save(figure.name, Data(figure.svg.utf8)) }
        return written
    }
}
