import CCurl
import Foundation

/// `Retry-After` (RFC 9110 §10.2.3): seconds, or an HTTP date.
public enum RetryAfter {
    /// Seconds to wait, or nil when the value is neither form.
    public static func parse(_ value: String, now: Date) -> TimeInterval? {
        if let seconds = Int(value), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSince(now)) }
    }
}
