import Foundation
import HeraldCore
import Mustache

/// Every problem found in a set of templates, one per line.
public struct TemplateProblems: Error, Sendable, CustomStringConvertible {
    /// Every problem, in the order found.
    public var problems: [TemplateProblem]

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
