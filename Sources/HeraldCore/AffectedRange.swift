import Foundation

/// The versions an advisory affects, as OSV's range events, read from the words release managers
/// type: `--affected "1.0.0 to 1.4.2" --fixed 1.4.3`, `--affected "< 1.4.3"`, `--affected ">= 2.0"`.
/// The words stay as typed, for people; the events are for scanners. Text it cannot read gives
/// no range (the package is still named), never a wrong one.
public struct AffectedRange: Equatable, Sendable {
    /// SEMVER when every version is MAJOR.MINOR.PATCH, ECOSYSTEM otherwise (the package manager's order).
    public var type: String
    /// In order: `introduced`, then `fixed` or `last_affected`.
    public var events: [Event]

    /// One point of a range: where affected versions start or end.
    public struct Event: Equatable, Sendable {
        /// `introduced`, `fixed` or `last_affected`.
        public var kind: String
        /// The version, or `0` for "from the first".
        public var version: String
    }

    /// The range in `affected` and `fixed`, or nil when the words say nothing it can read.
    public static func read(affected: String, fixed: String) -> AffectedRange? {
        let affected = affected.trimmingCharacters(in: .whitespaces)
        let fixed = fixed.trimmingCharacters(in: .whitespaces)
        var introduced: String?
        var end: Event?
        if let match = affected.wholeMatch(
            of: /(?i)\s*(?:from\s+)?(\S+)\s+(?:to|through|-|–|up to and including)\s+(\S+)\s*/)
        {
            introduced = String(match.1)
            end = Event(kind: "last_affected", version: String(match.2))
        } else if let match = affected.wholeMatch(of: /\s*<\s*=\s*(\S+)\s*/) {
            introduced = "0"
            end = Event(kind: "last_affected", version: String(match.1))
        } else if let match = affected.wholeMatch(of: /\s*<\s*(\S+)\s*/) {
            introduced = "0"
            end = Event(kind: "fixed", version: String(match.1))
        } else if let match = affected.wholeMatch(of: /\s*>\s*=\s*(\S+)\s*/) {
            introduced = String(match.1)
        } else if affected.isEmpty, !fixed.isEmpty {
            introduced = "0"
        } else if isVersion(affected) {
            introduced = affected
        }
        // A fixed version replaces "last affected": the scanner's question is where it ends.
        if !fixed.isEmpty {
            guard isVersion(fixed) else { return nil }
            end = Event(kind: "fixed", version: fixed)
        }
        guard let introduced, isVersion(introduced) || introduced == "0", end.map({ isVersion($0.version) }) ?? true
        else { return nil }
        // An end before its start matches nothing; a bare version names one release, not a range.
        if let end, introduced != "0", compare(end.version, introduced) < 0 { return nil }
        if end == nil, !affected.hasPrefix(">") { return nil }
        var events = [Event(kind: "introduced", version: introduced)]
        if let end { events.append(end) }
        let semver = events.allSatisfy { $0.version == "0" || $0.version.wholeMatch(of: /\d+\.\d+\.\d+/) != nil }
        return AffectedRange(type: semver ? "SEMVER" : "ECOSYSTEM", events: events)
    }

    /// Whether `version` lies in the range, comparing dotted numbers: what a scanner does.
    public func contains(_ version: String) -> Bool {
        var affected = false
        for event in events {
            switch event.kind {
            case "introduced": if event.version == "0" || Self.compare(version, event.version) >= 0 { affected = true }
            case "fixed": if Self.compare(version, event.version) >= 0 { affected = false }
            case "last_affected": if Self.compare(version, event.version) > 0 { affected = false }
            default: break
            }
        }
        return affected
    }

    /// One version: numbers with dots, an optional pre-release label that starts with a letter
    /// (`-rc1`, `-beta.2`), optional build metadata. Not `1.4.x`, not `1.0-2.0` (a range).
    static func isVersion(_ text: String) -> Bool {
        text.count <= 64
            && text.wholeMatch(of: /v?\d+(?:\.\d+)*(?:-[A-Za-z][0-9A-Za-z.-]*)?(?:\+[0-9A-Za-z.-]+)?/) != nil
    }

    /// Dotted numeric comparison (`1.10.0` after `1.9.2`); a trailing label sorts before the release.
    static func compare(_ a: String, _ b: String) -> Int {
        func parts(_ v: String) -> ([Int], String) {
            let trimmed = v.hasPrefix("v") ? String(v.dropFirst()) : v
            let core = trimmed.prefix { $0.isNumber || $0 == "." }
            return (core.split(separator: ".").map { Int($0) ?? 0 }, String(trimmed.dropFirst(core.count)))
        }
        let (x, xs) = parts(a)
        let (y, ys) = parts(b)
        for i in 0..<max(x.count, y.count) {
            let (p, q) = (i < x.count ? x[i] : 0, i < y.count ? y[i] : 0)
            if p != q { return p < q ? -1 : 1 }
        }
        if xs == ys { return 0 }
        if xs.isEmpty { return 1 }
        if ys.isEmpty { return -1 }
        return xs < ys ? -1 : 1
    }
}
