import Foundation

/// The languages Herald writes in: its messages, to providers and channels, and its pages.
public enum Language: String, Codable, Sendable, CaseIterable {
    case english = "en"
    case dutch = "nl"
    case danish = "da"

    /// `en`, `nl` or `da`, any case.
    public static func parse(_ value: String) throws(Refusal) -> Language {
        guard let language = Language(rawValue: value.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw .invalid(field: "language", rule: "\(Validate.quoted(value)) must be en, nl or da")
        }
        return language
    }

    /// An advisory's instant as a reader of this language writes it, in `zone`, with the offset:
    /// English keeps the unambiguous `2026-12-08 16:00:00 +01:00`; Dutch reads
    /// `dinsdag 8 december 2026 om 16:00 (UTC+01:00)`, Danish `tirsdag den 8. december 2026 kl. 16.00 (UTC+01:00)`.
    public func dateTime(_ date: Date, in zone: TimeZone) -> String {
        if self == .english { return Instant.local(date, in: zone) }
        let offset = zone.secondsFromGMT(for: date)
        let seconds = Int64(floor(date.timeIntervalSince1970)) + Int64(offset)
        let (y, m, d, hh, mm, _) = Instant.civil(fromEpochSeconds: seconds)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 7 + 3) % 7)
        let utc =
            "UTC" + (offset < 0 ? "-" : "+") + String(format: "%02d:%02d", abs(offset) / 3600, abs(offset) % 3600 / 60)
        let time = String(format: "%02d", hh) + (self == .danish ? "." : ":") + String(format: "%02d", mm)
        switch self {
        case .dutch:
            return "\(Self.dutchDays[weekday]) \(d) \(Self.dutchMonths[m - 1]) \(y) om \(time) (\(utc))"
        case .danish:
            return "\(Self.danishDays[weekday]) den \(d). \(Self.danishMonths[m - 1]) \(y) kl. \(time) (\(utc))"
        case .english:
            return Instant.local(date, in: zone)
        }
    }

    // Monday first.
    static let dutchDays = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
    static let dutchMonths = [
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
        "november", "december",
    ]
    static let danishDays = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
    static let danishMonths = [
        "januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
        "november", "december",
    ]
}

/// The words of every message, by language. A port: the templates behind it live outside the
/// pure core (HeraldTemplates), and tests may give their own.
public protocol Wording: Sendable {
    /// The `part` (`subject`, `intro`, …) of `message` (`early-notice`, `words`) in `language`,
    /// its fields filled from `values`. An empty value counts as absent, so a template's
    /// `{{#note}}…{{/note}}` says nothing when there is no note.
    func text(_ message: String, _ part: String, in language: Language, _ values: [String: String]) -> String
}

extension Language {
    /// The language's own name, for a language switch: English, Nederlands, Dansk.
    public var ownName: String {
        switch self {
        case .english: "English"
        case .dutch: "Nederlands"
        case .danish: "Dansk"
        }
    }

    /// The language a reader asks for with `Accept-Language` (RFC 9110 §12.5.4), among Herald's;
    /// `fallback` when none of them is acceptable or the header says nothing usable.
    public static func negotiate(_ header: String?, fallback: Language) -> Language {
        guard let header, !header.isEmpty else { return fallback }
        var best: (language: Language, quality: Double)?
        // A header is a few dozen bytes; a long one is read no further than a sensible length.
        for range in header.prefix(512).split(separator: ",").prefix(20) {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased() else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            let primary = String(tag.prefix { $0 != "-" })
            let language = primary == "*" ? fallback : Language(rawValue: primary)
            guard let language, quality > 0, quality > (best?.quality ?? 0) else { continue }
            best = (language, quality)
        }
        return best?.language ?? fallback
    }
}
