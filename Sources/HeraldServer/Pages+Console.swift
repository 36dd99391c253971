import Foundation
import HeraldApp
import HeraldCore

/// The release managers' console's pages.
extension Pages {
    func consoleSignIn(csrf: String, error: String = "") -> String {
        page("console-sign-in", ["csrf": csrf, "error": error])
    }

    /// The second step: the enrolment (with the key as a QR code) or the code alone.
    func consoleCode(
        session: ConsoleSession, enrolment: (secret: String, uri: String)?, error: String = ""
    ) -> String {
        page(
            "console-code",
            [
                "email": session.account.email, "csrf": session.csrf, "error": error, "enrol": enrolment != nil,
                "secret": enrolment?.secret ?? "", "uri": enrolment?.uri ?? "",
                "qr": enrolment.flatMap { QRCode.svg($0.uri) } ?? "",
            ])
    }

    func consoleRecovery(codes: [String]) -> String {
        page("console-recovery", ["codes": codes.map { ["code": $0] }])
    }

    /// One row of the dashboard.
    struct ConsoleRow {
        var advisory: Advisory
        var project: Project?
        var totals: String
        var failing: Int
    }

    func consoleDashboard(session: ConsoleSession, rows: [ConsoleRow], now: Date) -> String {
        let items: [[String: Any]] = rows.map { row in
            let zone = row.project?.timezone ?? "UTC"
            var item: [String: Any] = [
                "project": row.project?.name ?? row.advisory.projectSlug, "title": row.advisory.content.title,
                "state": word("state-\(row.advisory.state.rawValue)"), "totals": row.totals,
                "failing": row.failing > 0 ? String(row.failing) : "",
            ]
            if let instant = row.advisory.schedule.embargo {
                item.merge(when(instant, zone: zone)) { $1 }
                item["release"] = item["when"]
                item["utc"] = Instant.utc(instant)
                item["countdown"] = Self.countdown(from: now, to: instant)
            }
            return item
        }
        return page(
            "console",
            [
                "email": session.account.email, "role": session.account.role.rawValue, "csrf": session.csrf,
                "read-only": session.account.role < .releaseManager, "advisories": items,
                "any-advisories": !items.isEmpty,
            ])
    }

    /// "T−2d 03h 05m" before the instant, "T+…" after: the same in every language.
    static func countdown(from now: Date, to instant: Date) -> String {
        let seconds = Int(instant.timeIntervalSince(now).rounded())
        let total = abs(seconds) / 60
        let (days, hours, minutes) = (total / 1440, total % 1440 / 60, total % 60)
        let text = days > 0 ? "\(days)d \(hours)h \(minutes)m" : hours > 0 ? "\(hours)h \(minutes)m" : "\(minutes)m"
        return (seconds >= 0 ? "T−" : "T+") + text
    }
}
