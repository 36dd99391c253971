import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What `herald serve`'s own metrics listener shows before anything was sent.
@Suite struct ServeMetricsTests {
    /// Every delivery counter, the lag recorder of every notice fired at an instant and the
    /// failing-notices gauge exist from the start, at zero: a rate or an alert on `dead` works before the first one, and the first
    /// publication does not pay for making them (they were made at its first send).
    @Test func everyCounterIsThereAtZeroBeforeTheFirstSend() async throws {
        let db = try TestDatabase()
        let listener = freePort()
        let serve = try await HeraldServe(
            database: db.path, environment: ["HERALD_METRICS_LISTEN": "127.0.0.1:\(listener)"])
        defer { serve.stop() }
        let (data, response) = try await URLSession.shared.data(
            from: try #require(URL(string: "http://127.0.0.1:\(listener)/metrics")))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let lines = Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
        for transport in TransportKind.allCases {
            for outcome in ["delivered", "retry", "dead", "gone"] {
                let series = "herald_deliveries_total{transport=\"\(transport.rawValue)\",outcome=\"\(outcome)\"} 0"
                #expect(lines.contains(series), "\(series) missing from:\n\(lines.sorted().joined(separator: "\n"))")
            }
        }
        for kind in [NoticeKind.preAnnouncement, .earlyNotice, .reminder, .finalNotice, .publication] {
            #expect(lines.contains("herald_notice_lag_seconds_count{kind=\"\(kind.rawValue)\"} 0"), "\(kind)")
        }
        #expect(!lines.contains { $0.contains("kind=\"sign-in\"") }, "no lag for notices that are not timed")
        #expect(lines.contains { $0.hasPrefix("herald_notices_failing 0") })
    }
}
