import Foundation
import HeraldCore
import HeraldStore

/// Human tables and machine JSON on standard output.
enum Output {
    /// Prints `value` as pretty JSON with sorted keys and RFC 3339 instants.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder.herald
        encoder.outputFormatting.insert(.prettyPrinted)
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints rows under a header, each column as wide as its widest cell.
    static func table(_ header: [String], _ rows: [[String]], empty: String) {
        guard !rows.isEmpty else {
            print(empty)
            return
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// "key: value" lines, keys aligned.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs where !value.isEmpty {
            print((key + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + " " + value)
        }
    }
}
