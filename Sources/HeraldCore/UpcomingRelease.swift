import Foundation

/// A release announced ahead: date, time and severity, nothing else.
public struct UpcomingRelease: Equatable, Sendable {
    /// The project's display name.
    public var projectName: String
    /// The project's IANA time zone, in which the release instant is shown.
    public var projectTimezone: String
    /// The release instant.
    public var instant: Date
    /// The highest severity, if the release manager gave one.
    public var severity: Severity?

    /// Creates an upcoming release value.
    public init(projectName: String, projectTimezone: String, instant: Date, severity: Severity?) {
        self.projectName = projectName
        self.projectTimezone = projectTimezone
        self.instant = instant
        self.severity = severity
    }
}
