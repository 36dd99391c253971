import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// Headless Chromium looks at the pages as a reader on a phone would. Screenshots are kept in
/// test-output/screenshots (not committed); the test fails on any console message, which is
/// where a Content-Security-Policy violation or a broken resource would show.
@Suite(.serialized) struct BrowserTests {
    static var outputDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appending(path: "test-output/screenshots")
    }

    /// Runs Chromium on `url`; returns its log lines.
    func screenshot(_ url: String, to file: URL) throws -> [String] {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let binary = try #require(
            chromium, "Chromium is not installed; scripts/test installs it (apt-get install chromium)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=412,915",
            "--enable-logging=stderr", "--v=0", "--screenshot=\(file.path)", url,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return log.split(separator: "\n").map(String.init)
    }

    @Test func theIndexAndAnAdvisoryPageRenderWithoutConsoleErrors() async throws {
        let fixture = try ServerFixture()
        let db = fixture.db
        let advisory = try db.advisories.create(
            project: "demo",
            content: AdvisoryContent(
                title: "Heap overflow in the request parser", summary: "A crafted request overflows a heap buffer.",
                body: "Details\n\nUpgrade to 1.4.3.", cves: ["CVE-2026-12345"], severity: .high,
                cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", affected: "1.0.0 to 1.4.2", fixed: "1.4.3"),
            schedule: Schedule(embargo: Date() + 60), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "released"), actor: db.actor)
        try FileManager.default.createDirectory(at: Self.outputDirectory, withIntermediateDirectories: true)
        let directory = Self.outputDirectory
        let publicID = advisory.publicID
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            for (name, path) in [("index", "/"), ("advisory", "/advisories/\(publicID)"), ("subscribe", "/subscribe")] {
                let file = directory.appending(path: "\(name).png")
                try? FileManager.default.removeItem(at: file)
                let log = try screenshot("http://127.0.0.1:\(port)\(path)", to: file)
                let console = log.filter { $0.contains("CONSOLE") || $0.contains("Refused to") }
                #expect(console.isEmpty, "\(name): \(console)")
                let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
                #expect(size > 5_000, "\(name).png is \(size) bytes")
            }
        }
    }
}
