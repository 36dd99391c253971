import Foundation

/// When a project releases: some weekdays, between two times of day in its zone (Kubernetes
/// releases at 16:00 UTC on a weekday that is not Friday). `Tue-Thu 14:00-17:00`,
/// `Mon,Wed 16:00-16:00`. An embargo instant outside it is refused unless a release manager
/// says why.
public struct ReleaseWindow: Equatable, Sendable, Codable, CustomStringConvertible {
    /// ISO weekdays it opens on: 1 Monday … 7 Sunday.
    public let days: Set<Int>
    /// Minutes after midnight it opens and closes (both inclusive).
    public let opens: Int
    /// See `opens`.
    public let closes: Int

    static let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Reads `Tue-Thu 14:00-17:00`: days (ranges and lists, English three-letter names) and
    /// times of day (24-hour).
    public init(_ text: String, field: String = "release-window") throws(Refusal) {
        let text = try Validate.line(text, field: field, maxLength: 64)
        let parts = text.trimmingCharacters(in: .whitespaces).lowercased().split(
            separator: " ", omittingEmptySubsequences: true)
        let example =
            "write days and hours in the project's zone, such as \"Tue-Thu 14:00-17:00\" or \"Mon,Wed 16:00-16:00\""
        guard parts.count == 2 else { throw .invalid(field: field, rule: example) }
        var days = Set<Int>()
        for item in parts[0].split(separator: ",") {
            let ends = item.split(separator: "-").map(String.init)
            guard (1...2).contains(ends.count),
                let first = Self.names.firstIndex(of: ends[0]), let last = Self.names.firstIndex(of: ends.last!),
                first <= last
            else { throw .invalid(field: field, rule: example) }
            days.formUnion((first + 1)...(last + 1))
        }
        guard !days.isEmpty else { throw .invalid(field: field, rule: example) }
        let times = parts[1].split(separator: "-").map { Self.minutes(String($0)) }
        guard times.count == 2, let opens = times[0], let closes = times[1], opens <= closes else {
            throw .invalid(field: field, rule: example)
        }
        self.days = days
        self.opens = opens
        self.closes = closes
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        return h * 60 + m
    }

    /// `Tue-Thu 14:00-17:00`, as `init` reads it.
    public var description: String {
        let sorted = days.sorted()
        var groups: [[Int]] = []
        for day in sorted {
            if let last = groups.last?.last, last + 1 == day {
                groups[groups.count - 1].append(day)
            } else {
                groups.append([day])
            }
        }
        let name = { (day: Int) in Self.names[day - 1].prefix(1).uppercased() + Self.names[day - 1].dropFirst() }
        let daysText = groups.map { $0.count == 1 ? name($0[0]) : "\(name($0.first!))-\(name($0.last!))" }
            .joined(separator: ",")
        let time = { (m: Int) in String(format: "%02d:%02d", m / 60, m % 60) }
        return "\(daysText) \(time(opens))-\(time(closes))"
    }

    /// Whether `instant` falls inside the window, read in `zone`.
    public func contains(_ instant: Date, in zone: TimeZone) -> Bool {
        let (weekday, minute) = Self.local(instant, in: zone)
        return days.contains(weekday) && (opens...closes).contains(minute)
    }

    /// The next `count` openings of the window at or after `instant`, in `zone` (each the first
    /// minute of a window day; a day on which the opening time does not exist is skipped).
    public func openings(from instant: Date, in zone: TimeZone, count: Int = 3) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var found: [Date] = []
        var day = calendar.startOfDay(for: instant)
        for _ in 0..<15 where found.count < count {
            if let opening = calendar.date(bySettingHour: opens / 60, minute: opens % 60, second: 0, of: day),
                contains(opening, in: zone), opening >= instant
            {
                found.append(opening)
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return found
    }

    /// ISO weekday (1 Monday … 7 Sunday) and minute of the day of `instant` in `zone`.
    static func local(_ instant: Date, in zone: TimeZone) -> (weekday: Int, minute: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: instant)
        // Calendar's weekday: 1 Sunday … 7 Saturday.
        let iso = ((parts.weekday ?? 1) + 5) % 7 + 1
        return (iso, (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }
}
