import Foundation
import Testing

@testable import HeraldCore

/// Rules of the house that a compiler does not check, checked on the source.
@Suite struct ArchitectureTests {
    /// The repository's Sources/, found from this file's place.
    var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appending(path: "Sources")
    }

    func swiftFiles(in module: String) throws -> [(name: String, text: String)] {
        let directory = sources.appending(path: module)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
            .sorted().map {
                ($0, try String(contentsOf: directory.appending(path: $0), encoding: .utf8))
            }
    }

    @Test func noRouteOrCommandHandlerConstructsAStoreOrAClock() throws {
        // The composition roots choose the clock and build the stores once: `serve` and the
        // CLI's `DatabaseOptions.open`, and `buildApplication` with its AppServices. Everything
        // else reaches the database through the Stores they hand out.
        let roots: Set<String> = [
            "AppServices.swift", "Application+build.swift", "DatabaseOptions.swift", "ServeCommand.swift",
        ]
        let forbidden = [#/\b\w+Store\(database:/#, #/SystemClock\(\)/#, #/FixedClock\(/#]
        var offenders: [String] = []
        for module in ["HeraldServer", "herald"] {
            for file in try swiftFiles(in: module) where !roots.contains(file.name) {
                for (number, line) in file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where forbidden.contains(where: { line.contains($0) }) {
                    offenders.append(
                        "\(module)/\(file.name):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.joined(separator: "\n"))")
    }

    @Test func rolesAreOrderedByWhatTheyInclude() {
        #expect(TokenRole.admin > .releaseManager && TokenRole.releaseManager > .auditor)
        #expect(TokenRole.allCases.sorted() == [.auditor, .releaseManager, .admin])
    }
}
