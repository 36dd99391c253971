/// RFC 4180 CSV: comma-separated (or semicolon-separated, as spreadsheets write it where the
/// comma is the decimal mark), fields optionally in double quotes, `""` for a quote inside
/// quotes, CRLF or LF line ends, newlines allowed inside quotes.
public enum CSV {
    /// A record with the 1-based line on which it starts.
    public struct Record: Equatable, Sendable {
        /// 1-based line where the record starts, for messages that name it.
        public var line: Int
        /// The fields in order, quotes removed, whitespace as it was.
        public var fields: [String]
    }

    /// The separator of `text`: a semicolon when its first line has one outside quotes and no
    /// comma (a Dutch or Danish spreadsheet's export), a comma otherwise.
    public static func separator(of text: String) -> Unicode.Scalar {
        var inQuotes = false
        var commas = 0
        var semicolons = 0
        for c in text.unicodeScalars {
            if c == "\"" {
                inQuotes.toggle()
            } else if !inQuotes && (c == "\n" || c == "\r") {
                break
            } else if !inQuotes && c == "," {
                commas += 1
            } else if !inQuotes && c == ";" {
                semicolons += 1
            }
        }
        return semicolons > 0 && commas == 0 ? ";" : ","
    }

    /// Parses `text` into records; blank lines are skipped. A quote left open is refused.
    public static func parse(_ text: String, separator: Unicode.Scalar = ",") throws(LineRefusals) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var quotedField = false
        var line = 1
        var recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        if pending == "\u{FEFF}" { pending = scalars.next() }  // a byte-order mark from spreadsheets

        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !quotedField) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            quotedField = false
        }

        while let c = pending {
            pending = scalars.next()
            if inQuotes {
                if c == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = scalars.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !quotedField:
                inQuotes = true
                quotedField = true
            case separator:
                fields.append(field)
                field = ""
                quotedField = false
            case "\r" where pending == "\n":
                continue
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes {
            throw LineRefusals([(recordLine, .invalid(field: "csv", rule: "a quoted field is never closed"))])
        }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRecord() }
        return records
    }
}

/// An early-notice list brought from elsewhere, one row per contact; rows of the same
/// organisation make one provider. Columns are found by their header, in any order:
/// `organization`, `email` and `project` are required, `webhook`, `listed` (yes/no) and
/// `language` (en, nl, da) optional. Comma- or semicolon-separated.
public struct ProviderImport: Equatable, Sendable {
    /// One provider to create, with the lines it came from (to report a missing project).
    public struct Entry: Equatable, Sendable {
        /// The validated provider: every row of the organisation merged.
        public var provider: NewProvider
        /// For each project slug, the first line that named it.
        public var projectLines: [String: Int]
        /// The first line of the organisation.
        public var line: Int
        /// Listing and language as the file gives them; nil where it says nothing (no column,
        /// or an empty cell), so a sync leaves them as they are.
        public var listed: Bool?
        /// Nil where the file says nothing, as for `listed`.
        public var language: Language?
    }

    /// Every project the file names: a sync concerns the members of these only.
    public var projects: Set<String> { Set(entries.flatMap(\.provider.projects)) }

    /// One per organisation, in the order the file first names them.
    public let entries: [Entry]

    static let required = ["organization", "email", "project"], optional = ["webhook", "listed", "language"]

    /// Parses and validates the whole file; every bad line is reported, not only the first.
    /// With `knownProjects`, a project that does not exist is reported on its line too.
    public init(csv text: String, knownProjects: Set<String>? = nil) throws(LineRefusals) {
        // Excel may write its separator as a first line of its own: `sep=;`.
        var text = text
        var separator = CSV.separator(of: text)
        // The first line ends at LF or CR LF (one Character in Swift, as a browser's form sends it).
        let firstEnd = text.firstIndex(where: \.isNewline) ?? text.endIndex
        let first = text[..<firstEnd]
        if first.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().hasPrefix("sep="),
            let declared = first.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(4).unicodeScalars.first
        {
            separator = declared
            text = String(text[firstEnd...])  // its line end stays: line numbers are as the user sees them
        }
        // A spreadsheet's empty rows (";;;") are not lines of the list.
        let records = try CSV.parse(text, separator: separator).filter {
            !$0.fields.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        let expected = "columns organization, email, project (and optionally webhook, listed, language), in any order"
        guard let header = records.first else {
            throw LineRefusals([
                (1, .invalid(field: "csv", rule: "the file is empty; expected a header naming the \(expected)"))
            ])
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (position, name) in columns.enumerated() {
            guard Self.required.contains(name) || Self.optional.contains(name) else {
                throw LineRefusals([
                    (
                        header.line,
                        .invalid(field: "header", rule: "unknown column \(Validate.quoted(name)); expected \(expected)")
                    )
                ])
            }
            guard index[name] == nil else {
                throw LineRefusals([
                    (header.line, .invalid(field: "header", rule: "the column '\(name)' appears twice"))
                ])
            }
            index[name] = position
        }
        if let missing = Self.required.first(where: { index[$0] == nil }) {
            throw LineRefusals([
                (header.line, .invalid(field: "header", rule: "no '\(missing)' column; expected \(expected)"))
            ])
        }
        var problems: [(line: Int, refusal: Refusal)] = []
        var order: [String] = []
        struct Group {
            var organization: String
            var line: Int
            var emails: [String]
            var projects: [String: Int]
            var hooks: [String]
            var listed: Bool?
            var language: Language?
        }
        var grouped: [String: Group] = [:]
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                problems.append(
                    (
                        record.line,
                        .invalid(field: "csv", rule: "expected \(columns.count) fields, found \(record.fields.count)")
                    ))
                continue
            }
            func field(_ name: String) -> String {
                index[name].map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            }
            do throws(Refusal) {
                let organization = try Validate.name(field("organization"), field: "organization")
                let email = try Address.email(field("email"), field: "email")
                let project = try Slug.validate(field("project"), field: "project")
                if let knownProjects, !knownProjects.contains(project) {
                    throw Refusal.invalid(
                        field: "project", rule: "no project '\(project)'; `herald project list` shows them")
                }
                let hook = field("webhook")
                if !hook.isEmpty { _ = try Address.webURL(hook, field: "webhook") }
                let listed = try field("listed").isEmpty ? nil : Self.yesOrNo(field("listed"))
                let language = try field("language").isEmpty ? nil : Language.parse(field("language"))
                let key = organization.lowercased()
                if grouped[key] == nil {
                    order.append(key)
                    grouped[key] = Group(
                        organization: organization, line: record.line, emails: [], projects: [:], hooks: [])
                }
                grouped[key]!.emails.append(email)
                if grouped[key]!.projects[project] == nil { grouped[key]!.projects[project] = record.line }
                if !hook.isEmpty { grouped[key]!.hooks.append(hook) }
                if let listed { grouped[key]!.listed = listed }
                if let language { grouped[key]!.language = language }
            } catch {
                problems.append((record.line, error))
            }
        }
        var entries: [Entry] = []
        for key in order {
            let group = grouped[key]!
            do throws(Refusal) {
                let projects = group.projects.sorted { $0.value < $1.value }.map(\.key)
                let provider = try NewProvider(
                    organization: group.organization, emails: group.emails,
                    webhooks: group.hooks.map { ($0, .webhook) }, projects: projects, listed: group.listed ?? false,
                    language: group.language ?? .english)
                entries.append(
                    Entry(
                        provider: provider, projectLines: group.projects, line: group.line, listed: group.listed,
                        language: group.language))
            } catch {
                problems.append((group.line, error))
            }
        }
        guard problems.isEmpty else { throw LineRefusals(problems) }
        guard !entries.isEmpty else {
            throw LineRefusals([(header.line, .invalid(field: "csv", rule: "no rows after the header"))])
        }
        self.entries = entries
    }

    /// yes/no as people write it in the three languages Herald speaks.
    static func yesOrNo(_ value: String) throws(Refusal) -> Bool {
        switch value.lowercased() {
        case "yes", "y", "true", "1", "ja", "j": return true
        case "no", "n", "false", "0", "nee", "nej": return false
        default: throw .invalid(field: "listed", rule: "\(Validate.quoted(value)) must be yes or no")
        }
    }
}
