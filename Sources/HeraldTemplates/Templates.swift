import Foundation
import HeraldCore
import Mustache

/// The wording of every message in every language: the templates embedded at build time, any
/// of them replaced by a file of the same name from a directory (`HERALD_TEMPLATES`). Every
/// template is parsed and checked when the set is made — its parts, its fields, a render with
/// sample values — so a broken one is refused at start, with its file and line, never at the
/// instant a notice is rendered.
public struct Templates: Wording {
    /// Each part of each message: `nl/early-notice#subject`.
    let parts: [String: MustacheTemplate]
    /// The text of each file that came from the override directory, by name.
    let overrides: [String: String]
    /// The files that came from the override directory, by name.
    public var overridden: [String] { overrides.keys.sorted() }
    /// Every template's text as it is used, by name (`messages/nl/early-notice.mustache`): the
    /// embedded one, or the override in its place. For reading, as the console shows them.
    public var sources: [String: String] { Self.embedded.merging(overrides, uniquingKeysWith: { $1 }) }
    /// One template's text as it is used; nil for a name that is no template.
    public func source(of name: String) -> String? { overrides[name] ?? Self.embedded[name] }

    /// The embedded templates alone.
    public static let standard: Templates = {
        do { return try Templates(overrides: [:]) } catch { fatalError("an embedded template is broken: \(error)") }
    }()

    /// The embedded templates with `overrides` (name below Templates/ → text) in their place.
    public init(overrides: [String: String]) throws(TemplateProblems) {
        var problems: [TemplateProblem] = []
        for name in overrides.keys.sorted() where Self.embedded[name] == nil {
            problems.append(
                TemplateProblem(
                    file: name, line: 1, column: 1,
                    message:
                        "unknown template; the names are messages/{en,nl,da}/NAME.mustache and pages/{en,nl,da}/NAME.mustache as `herald templates export` writes them"
                ))
        }
        for name in TemplateFile.allNames where Self.embedded[name] == nil && overrides[name] == nil {
            problems.append(
                TemplateProblem(
                    file: name, line: 1, column: 1, message: "missing: every message is written in every language"))
        }
        var parts: [String: MustacheTemplate] = [:]
        for (name, text) in Self.embedded.merging(overrides, uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            guard let file = TemplateFile(name: name) else { continue }
            do {
                for (part, template) in try file.parse(text) { parts[file.key(part)] = template }
            } catch {
                problems += error.problems
            }
        }
        guard problems.isEmpty else { throw TemplateProblems(problems: problems) }
        self.parts = parts
        self.overrides = overrides
    }

    /// The embedded templates with every `*.mustache` file below `directory` in their place.
    public static func load(directory: String) throws(TemplateProblems) -> Templates {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateProblems(problems: [
                TemplateProblem(file: directory, line: 0, column: 0, message: "is not a directory")
            ])
        }
        var overrides: [String: String] = [:]
        var problems: [TemplateProblem] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) ?? .init()
        where url.pathExtension == "mustache" {
            let path = url.standardizedFileURL.path
            let name = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : url.lastPathComponent
            // A template is a few kilobytes; a bound before reading keeps a stray file from costing memory.
            // Regular files only: a link could lead the read past the bound to a file of any size.
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = attributes?[.size] as? Int ?? 0
            guard attributes?[.type] as? FileAttributeType == .typeRegular, size <= 64 * 1024,
                let data = FileManager.default.contents(atPath: path),
                let text = String(data: data, encoding: .utf8)
            else {
                problems.append(
                    TemplateProblem(
                        file: name, line: 1, column: 1,
                        message: "must be a regular file of UTF-8 text, at most 64 KiB (not a link)"))
                continue
            }
            overrides[name] = text
        }
        guard problems.isEmpty else { throw TemplateProblems(problems: problems) }
        return try Templates(overrides: overrides)
    }

    /// Writes every embedded template below `directory`, to start an override from; refuses to
    /// replace a file that is there. Returns the names written.
    public static func export(to directory: String) throws -> [String] {
        let root = URL(fileURLWithPath: directory)
        for name in embedded.keys where FileManager.default.fileExists(atPath: root.appending(path: name).path) {
            throw TemplateProblems(problems: [
                TemplateProblem(
                    file: root.appending(path: name).path, line: 0, column: 0,
                    message: "exists already; export into an empty directory")
            ])
        }
        for (name, text) in embedded {
            let url = root.appending(path: name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .withoutOverwriting)
        }
        return embedded.keys.sorted()
    }

    /// The embedded templates by name.
    static let embedded: [String: String] = Dictionary(
        embeddedTemplates.map { ($0.file, $0.text) }, uniquingKeysWith: { $1 })

    /// The `part` of `message` in `language`, else in English; an empty value counts as absent.
    public func text(_ message: String, _ part: String, in language: Language, _ values: [String: String]) -> String {
        render("messages", message, part, language, values.filter { !$0.value.isEmpty })
    }

    /// One part of a page (`pages/LANG/NAME.mustache`) in `language`. Values are strings, bools
    /// and lists of such dictionaries; an empty string counts as absent.
    public func page(_ name: String, _ part: String, in language: Language, _ values: [String: Any]) -> String {
        render("pages", name, part, language, Self.present(values))
    }

    private func render(_ folder: String, _ name: String, _ part: String, _ language: Language, _ values: [String: Any])
        -> String
    {
        guard
            let template = parts["\(folder)/\(language.rawValue)/\(name)#\(part)"]
                ?? parts["\(folder)/en/\(name)#\(part)"]
        else { return "" }
        return template.render(values)
    }

    /// `values` without empty strings, at every depth, so `{{#summary}}` means "there is one".
    static func present(_ values: [String: Any]) -> [String: Any] {
        values.compactMapValues { value -> Any? in
            switch value {
            case let text as String: return text.isEmpty ? nil : text
            case let list as [[String: Any]]: return list.map(present)
            case let nested as [String: Any]: return present(nested)
            default: return value
            }
        }
    }
}
