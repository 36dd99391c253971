import Foundation

/// How a project chases its participants during an embargo (Kubernetes sends a final notice
/// 24 hours before the release): a reminder to those who have neither acknowledged nor
/// answered, some time after the early notice, and a last private notice to every participant
/// some time before the release. Both optional.
public struct Chasing: Equatable, Sendable, Codable {
    /// How long after the early notice the silent are reminded; nil: never.
    public var reminderAfter: TimeInterval?
    /// How long before the release the final notice goes; nil: none.
    public var finalNotice: TimeInterval?

    /// Neither.
    public static let none = Chasing()

    /// Creates the settings.
    public init(reminderAfter: TimeInterval? = nil, finalNotice: TimeInterval? = nil) {
        self.reminderAfter = reminderAfter
        self.finalNotice = finalNotice
    }

    /// The reminder's instant for `schedule`: after the early notice, and before the final
    /// notice (or the release); nil when there is none.
    public func reminder(for schedule: Schedule) -> Date? {
        guard let reminderAfter, let early = schedule.earlyNotice, let embargo = schedule.embargo else { return nil }
        let at = early + reminderAfter
        return at < (finalNotice(for: schedule) ?? embargo) ? at : nil
    }

    /// The final notice's instant for `schedule`: before the release and after the early
    /// notice; nil when there is none. It moves with the release.
    public func finalNotice(for schedule: Schedule) -> Date? {
        guard let finalNotice, let early = schedule.earlyNotice, let embargo = schedule.embargo else { return nil }
        let at = embargo - finalNotice
        return at > early ? at : nil
    }

    /// Reads `48h`, `2d`, `90m` or `off` (nil); between a minute and `maxDays` days.
    public static func duration(_ text: String, field: String, maxDays: Int) throws(Refusal) -> TimeInterval? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        try Validate.bound(text, field: field, maxLength: 16)
        if text == "off" || text == "none" { return nil }
        let units: [Character: TimeInterval] = ["m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int(text.dropLast()), count > 0 else {
            throw .invalid(field: field, rule: "write a duration such as 90m, 48h or 2d, or off")
        }
        let seconds = TimeInterval(count) * unit
        guard seconds >= 60, seconds <= TimeInterval(maxDays) * 86_400 else {
            throw .invalid(field: field, rule: "must be between 1m and \(maxDays)d")
        }
        return seconds
    }

    /// `48h`, `2d`, `90m`: a duration as `duration` reads it.
    public static func said(_ seconds: TimeInterval?) -> String {
        guard let seconds else { return "off" }
        let whole = Int(seconds)
        if whole % 86_400 == 0 { return "\(whole / 86_400)d" }
        if whole % 3600 == 0 { return "\(whole / 3600)h" }
        return "\(whole / 60)m"
    }
}
