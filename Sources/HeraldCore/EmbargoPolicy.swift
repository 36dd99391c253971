import Foundation

/// The instants of an advisory's life that a release manager sets.
public struct Schedule: Equatable, Sendable, Codable {
    /// The release instant: nothing is public before it.
    public var embargo: Date?
    /// When approved providers get the private early notice.
    public var earlyNotice: Date?
    /// When public channels get date, time and severity only.
    public var preAnnounce: Date?

    /// Creates a schedule; instants left out are not set.
    public init(embargo: Date? = nil, earlyNotice: Date? = nil, preAnnounce: Date? = nil) {
        self.embargo = embargo
        self.earlyNotice = earlyNotice
        self.preAnnounce = preAnnounce
    }

    /// The one rule of when a notice is due: of a scheduled advisory with this schedule that
    /// has sent the notices in `sent`, the notice due at `now`, or nil. The release comes first
    /// (once it is reached, a notice before it is never sent late); then the early notice, then
    /// the pre-announcement, each once; then, as the project chases (`chasing`), the reminder
    /// once (never after a final notice) and the final notice, which goes again only when the
    /// release moves (`finalNoticeSentFor` is the release instant the last one came before).
    public func due(
        at now: Date, sent: Set<NoticeKind>, chasing: Chasing = .none, finalNoticeSentFor: Date? = nil
    ) -> NoticeKind? {
        guard let embargo else { return nil }
        if embargo <= now { return .publication }
        if let earlyNotice, earlyNotice <= now, !sent.contains(.earlyNotice) { return .earlyNotice }
        if let preAnnounce, preAnnounce <= now, !sent.contains(.preAnnouncement) { return .preAnnouncement }
        // Chasing follows an early notice that went out; nothing is chased before it.
        guard sent.contains(.earlyNotice) else { return nil }
        if let reminder = chasing.reminder(for: self), reminder <= now, !sent.contains(.reminder),
            finalNoticeSentFor == nil
        {
            return .reminder
        }
        if let final = chasing.finalNotice(for: self), final <= now, finalNoticeSentFor != embargo {
            return .finalNotice
        }
        return nil
    }

    /// When `due` will next name a notice, given what was sent: the earliest instant still to come.
    public func nextInstant(sent: Set<NoticeKind>, chasing: Chasing = .none, finalNoticeSentFor: Date? = nil)
        -> Date?
    {
        guard let embargo else { return nil }
        let chased = sent.contains(.earlyNotice) || earlyNotice != nil
        let pending = [
            embargo, sent.contains(.earlyNotice) ? nil : earlyNotice,
            sent.contains(.preAnnouncement) ? nil : preAnnounce,
            !chased || sent.contains(.reminder) || finalNoticeSentFor != nil ? nil : chasing.reminder(for: self),
            !chased || finalNoticeSentFor == embargo ? nil : chasing.finalNotice(for: self),
        ]
        return pending.compactMap { $0 }.min()
    }
}

/// The rules an embargo must keep: the release is in the future, no more than the project's
/// maximum after the first notice, and every notice comes before it.
public struct EmbargoPolicy: Equatable, Sendable {
    /// Longest embargo in days, counted from the early notice (or from now without one).
    public let maxEmbargoDays: Int
    /// The zone refusals name instants in: the one the user typed, else the project's.
    public let zone: TimeZone
    /// When the project releases, read in `windowZone` (its own zone); nil: any time.
    public let releaseWindow: ReleaseWindow?
    /// The project's zone, in which the window is read.
    public let windowZone: TimeZone
    /// A release manager's reason to release outside the window; nil: the window holds.
    public let outsideWindow: String?

    /// Creates the rules; refusals name instants in `zone`.
    public init(
        maxEmbargoDays: Int, zone: TimeZone = .gmt, releaseWindow: ReleaseWindow? = nil, windowZone: TimeZone = .gmt,
        outsideWindow: String? = nil
    ) {
        self.maxEmbargoDays = maxEmbargoDays
        self.zone = zone
        self.releaseWindow = releaseWindow
        self.windowZone = windowZone
        self.outsideWindow = outsideWindow
    }

    /// An instant as a refusal names it, in `zone` and in UTC:
    /// `2026-12-01 17:00:00 +01:00 (Europe/Amsterdam; 16:00:00 UTC)`.
    func said(_ instant: Date) -> String {
        // UTC itself (or a zero offset typed as such) is said once.
        if zone.secondsFromGMT(for: instant) == 0 && !zone.identifier.contains("/") { return Instant.utc(instant) }
        return Instant.local(instant, in: zone) + " (\(zone.identifier); \(Instant.utc(instant).dropFirst(11)))"
    }

    /// Refuses `proposed` if it breaks a rule at `now`. Instants that equal those of `current`
    /// have already been accepted (an early notice that went out yesterday stays valid).
    public func check(_ proposed: Schedule, now: Date, current: Schedule? = nil) throws(Refusal) {
        guard let embargo = proposed.embargo else {
            if proposed.earlyNotice != nil {
                throw .invalid(field: "early-notice", rule: "needs an embargo instant (--embargo) to come before")
            }
            if proposed.preAnnounce != nil {
                throw .invalid(field: "pre-announce", rule: "needs an embargo instant (--embargo) to come before")
            }
            return
        }
        guard embargo > now else {
            throw .invalid(field: "embargo", rule: "\(said(embargo)) is not in the future (now is \(said(now)))")
        }
        for (field, instant, old) in [
            ("early-notice", proposed.earlyNotice, current?.earlyNotice),
            ("pre-announce", proposed.preAnnounce, current?.preAnnounce),
        ] {
            guard let instant else { continue }
            if instant != old && instant < now {
                throw .invalid(field: field, rule: "\(said(instant)) is in the past; say 'now' or give a later instant")
            }
            if instant >= embargo {
                throw .invalid(
                    field: field, rule: "\(said(instant)) must come before the embargo instant \(said(embargo))")
            }
        }
        // A new release instant falls in the project's window, unless a release manager said why not.
        if let window = releaseWindow, embargo != current?.embargo, outsideWindow == nil,
            !window.contains(embargo, in: windowZone)
        {
            let next = window.openings(from: embargo, in: windowZone).map(said).joined(separator: ", ")
            throw .invalid(
                field: "embargo",
                rule:
                    "\(said(embargo)) is outside the project's release window (\(window), \(windowZone.identifier)); the next allowed instants are \(next); or give --outside-window with the reason"
            )
        }
        let start = proposed.earlyNotice ?? now
        let limit = start.addingTimeInterval(Double(maxEmbargoDays) * 86_400)
        guard embargo <= limit else {
            let from = proposed.earlyNotice == nil ? "now" : "the early notice"
            throw .invalid(
                field: "embargo",
                rule:
                    "\(said(embargo)) is more than \(maxEmbargoDays) days after \(from); the project allows at most \(maxEmbargoDays) (latest: \(said(limit)))"
            )
        }
    }
}
