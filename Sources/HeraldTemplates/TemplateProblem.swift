import Foundation
import HeraldCore
import Mustache

/// What is wrong with one template: `messages/nl/welcome.mustache:3:14: unknown field {{orgnization}}`.
public struct TemplateProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The template's name (`messages/nl/welcome.mustache`), or a path that could not be used.
    public var file: String
    /// 1-based; 0 when the problem is not inside the file.
    public var line: Int
    /// 1-based; 0 as for `line`.
    public var column: Int
    /// What is wrong.
    public var message: String

    /// `file:line:column: message`, as compilers write it, so editors can jump there.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}
