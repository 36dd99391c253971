import Foundation

/// Reads and writes the instants users type: RFC 3339 with an offset
/// (`2026-12-01T16:00:00Z`) or a wall-clock time with an IANA zone
/// (`2026-12-01 17:00 Europe/Amsterdam`). Wall-clock times that a DST change skips or
/// repeats are refused by name rather than guessed.
public enum Instant {
    /// Parses `text` as an instant; `field` names the flag or key in the error.
    public static func parse(_ text: String, field: String) throws(Refusal) -> Date {
        let input = text.trimmingCharacters(in: .whitespaces)
        if let match = input.wholeMatch(of: rfc3339) {
            let civil = try civilTime(
                match.1, match.2, match.3, match.4, match.5, match.6, match.7, field: field, text: input)
            let offset = try offsetSeconds(String(match.8), field: field, text: input)
            return Date(timeIntervalSince1970: civil - Double(offset))
        }
        if let match = input.wholeMatch(of: zoned) {
            let civil = try civilTime(
                match.1, match.2, match.3, match.4, match.5, match.6, nil, field: field, text: input)
            let name = String(match.7)
            guard let zone = TimeZone(identifier: name) else {
                throw .invalid(
                    field: field, rule: "'\(name)' is not an IANA time zone (for example Europe/Amsterdam or UTC)")
            }
            return try resolve(wallClock: civil, in: zone, field: field, text: input)
        }
        throw .invalid(
            field: field,
            rule:
                "'\(input)' is not an instant; write RFC 3339 with an offset (2026-12-01T16:00:00Z) or a local time with an IANA zone (2026-12-01 17:00 Europe/Amsterdam)"
        )
    }

    /// `date` in UTC as RFC 3339, to the second: `2026-12-01T16:00:00Z`.
    public static func rfc3339(_ date: Date) -> String {
        let seconds = Int64(floor(date.timeIntervalSince1970))
        let (y, m, d, hh, mm, ss) = civil(fromEpochSeconds: seconds)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mm, ss)
    }

    /// `date` as a person in `zone` reads it, to the second, with the offset:
    /// `2026-12-01 17:00:00 +01:00`. One rule everywhere: an advisory's instants in its
    /// project's zone like this, everything else in UTC (`utc`).
    public static func local(_ date: Date, in zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: date)
        let seconds = Int64(floor(date.timeIntervalSince1970)) + Int64(offset)
        let (y, m, d, hh, mm, ss) = civil(fromEpochSeconds: seconds)
        let sign = offset < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d ", y, m, d, hh, mm, ss) + sign
            + String(format: "%02d:%02d", abs(offset) / 3600, abs(offset) % 3600 / 60)
    }

    /// `date` in UTC, to the second, labelled: `2026-12-01 16:00:00 UTC`. For everything that
    /// is not an advisory's own instant (when a delivery was made, an audit row written).
    public static func utc(_ date: Date) -> String {
        let (y, m, d, hh, mm, ss) = civil(fromEpochSeconds: Int64(floor(date.timeIntervalSince1970)))
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d UTC", y, m, d, hh, mm, ss)
    }

    // MARK: - Parsing

    // Date, optional seconds and fraction, then Z or ±HH:MM. RFC 3339 allows a space for "T";
    /// The zone `text` was written in: its IANA zone, or a fixed zone for its offset; nil when
    /// it is not an instant. Refusals repeat instants in the zone the user typed.
    public static func zone(of text: String) -> TimeZone? {
        let input = text.trimmingCharacters(in: .whitespaces)
        if let match = input.wholeMatch(of: zoned) { return TimeZone(identifier: String(match.7)) }
        guard let match = input.wholeMatch(of: rfc3339) else { return nil }
        let offset = String(match.8)
        if offset.uppercased() == "Z" { return TimeZone(identifier: "UTC") }
        let sign = offset.hasPrefix("-") ? -1 : 1
        let parts = offset.dropFirst().split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        return TimeZone(secondsFromGMT: sign * (parts[0] * 3600 + parts[1] * 60))
    }

    // a space before the offset is accepted too, so what Herald shows can be typed back.
    nonisolated(unsafe) private static let rfc3339 =
        /(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)? ?([Zz]|[+-]\d{2}:\d{2})/
    nonisolated(unsafe) private static let zoned =
        /(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?\s+([A-Za-z][A-Za-z0-9_+\-\/]*)/

    private static func civilTime(
        _ y: Substring, _ mo: Substring, _ d: Substring, _ h: Substring, _ mi: Substring,
        _ s: Substring?, _ fraction: Substring?, field: String, text: String
    ) throws(Refusal) -> Double {
        let year = Int(y)!
        let month = Int(mo)!
        let day = Int(d)!
        let hour = Int(h)!
        let minute = Int(mi)!
        let second = s.map { Int($0)! } ?? 0
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { throw .invalid(field: field, rule: "'\(text)' is not a valid date and time") }
        let days = daysFromCivil(year: year, month: month, day: day)
        var seconds = Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second))
        if let fraction { seconds += Double("0." + fraction)! }
        return seconds
    }

    private static func offsetSeconds(_ text: String, field: String, text input: String) throws(Refusal) -> Int {
        if text == "Z" || text == "z" { return 0 }
        let sign = text.hasPrefix("-") ? -1 : 1
        let hours = Int(text.dropFirst().prefix(2))!
        let minutes = Int(text.suffix(2))!
        guard hours <= 23, minutes <= 59 else {
            throw .invalid(field: field, rule: "'\(input)' has an invalid UTC offset")
        }
        return sign * (hours * 3600 + minutes * 60)
    }

    /// The UTC instant at which `zone`'s clocks show `wallClock` (seconds as if the wall
    /// clock were UTC). Each offset the zone uses within a day of that time is tried; the
    /// ones that map back to themselves are the real instants: none is a gap, two an overlap.
    private static func resolve(wallClock: Double, in zone: TimeZone, field: String, text: String) throws(Refusal)
        -> Date
    {
        let probes = [-86_400.0, 0, 86_400].map { Date(timeIntervalSince1970: wallClock + $0) }
        let offsets = Set(probes.map { zone.secondsFromGMT(for: $0) })
        let instants =
            offsets
            .map { Date(timeIntervalSince1970: wallClock - Double($0)) }
            .filter { Double(zone.secondsFromGMT(for: $0)) == wallClock - $0.timeIntervalSince1970 }
            .sorted()
        switch instants.count {
        case 1:
            return instants[0]
        case 0:
            throw .invalid(
                field: field,
                rule:
                    "'\(text)' does not exist: the clocks in \(zone.identifier) skip that hour (daylight saving time begins); pick another time or write it with an offset"
            )
        default:
            let choices = instants.map { local($0, in: zone) }.joined(separator: " or ")
            throw .invalid(
                field: field,
                rule:
                    "'\(text)' happens twice in \(zone.identifier) (daylight saving time ends): \(choices); write it with the offset you mean"
            )
        }
    }

    // MARK: - Civil calendar arithmetic (proleptic Gregorian, after Howard Hinnant)

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromEpochSeconds seconds: Int64) -> (Int, Int, Int, Int, Int, Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = Int(seconds - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
    }
}
