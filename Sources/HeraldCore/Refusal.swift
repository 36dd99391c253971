/// Why Herald refused a request. Every refusal leaves the data as it was, and its message
/// names the field or the state and the rule, so a user can act on it.
public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field broke a rule: `field` is the user's name for it (a flag or a JSON key).
    case invalid(field: String, rule: String)
    /// The subject's state does not allow the action.
    case illegalTransition(subject: String, state: String, action: String, allowedFrom: [String])
    /// No such thing.
    case notFound(subject: String, id: String)
    /// The request clashes with something that exists.
    case conflict(field: String, rule: String)

    /// The message for the user: the field or the state, and the rule.
    public var description: String {
        switch self {
        case let .invalid(field, rule), let .conflict(field, rule):
            return "\(field): \(rule)"
        case let .illegalTransition(subject, state, action, allowedFrom):
            let allowed = allowedFrom.isEmpty ? "from no state" : "only from " + allowedFrom.joined(separator: " or ")
            return "\(subject) is \(state); \(action) is allowed \(allowed)"
        case let .notFound(subject, id):
            return "\(subject) \(id) does not exist"
        }
    }
}

/// Several refusals at once, each tied to a line of an input file.
public struct LineRefusals: Error, Equatable, Sendable, CustomStringConvertible {
    /// The refusals with their 1-based line numbers, in line order.
    public let problems: [(line: Int, refusal: Refusal)]

    /// Creates the list; `problems` is sorted by line.
    public init(_ problems: [(line: Int, refusal: Refusal)]) {
        self.problems = problems.sorted { $0.line < $1.line }
    }

    /// Equal when they refuse the same things on the same lines.
    public static func == (lhs: LineRefusals, rhs: LineRefusals) -> Bool {
        lhs.problems.map(\.line) == rhs.problems.map(\.line)
            && lhs.problems.map(\.refusal) == rhs.problems.map(\.refusal)
    }

    /// A count, then one line per problem: `line 3: email: …`.
    public var description: String {
        let lines = problems.map { "line \($0.line): \($0.refusal)" }
        return "\(problems.count) bad line\(problems.count == 1 ? "" : "s"), nothing imported:\n"
            + lines.joined(separator: "\n")
    }
}
