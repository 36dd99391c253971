/// RFC 4180 CSV: comma-separated, fields optionally in double quotes, `""` for a quote inside
/// quotes, CRLF or LF line ends, newlines allowed inside quotes.
public enum CSV {
    /// A record with the 1-based line on which it starts.
    public struct Record: Equatable, Sendable {
        public var line: Int
        public var fields: [String]
    }

    /// Parses `text` into records; blank lines are skipped. A quote left open is refused.
    public static func parse(_ text: String) throws(LineRefusals) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var quotedField = false
        var line = 1
        var recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        if pending == "\u{FEFF}" { pending = scalars.next() }   // a byte-order mark from spreadsheets

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
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = scalars.next() } else { inQuotes = false }
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
            case ",":
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
        if inQuotes { throw LineRefusals([(recordLine, .invalid(field: "csv", rule: "a quoted field is never closed"))]) }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRecord() }
        return records
    }
}

/// An early-notice list brought from elsewhere: `organization,email,project[,webhook]`,
/// one row per contact; rows of the same organisation make one provider.
public struct ProviderImport: Equatable, Sendable {
    /// One provider to create, with the lines it came from (to report a missing project).
    public struct Entry: Equatable, Sendable {
        public var provider: NewProvider
        /// For each project slug, the first line that named it.
        public var projectLines: [String: Int]
        /// The first line of the organisation.
        public var line: Int
    }

    public let entries: [Entry]

    /// Parses and validates the whole file; every bad line is reported, not only the first.
    /// With `knownProjects`, a project that does not exist is reported on its line too.
    public init(csv text: String, knownProjects: Set<String>? = nil) throws(LineRefusals) {
        let records = try CSV.parse(text)
        guard let header = records.first else {
            throw LineRefusals([(1, .invalid(field: "csv", rule: "the file is empty; expected the header organization,email,project[,webhook]"))])
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard columns == ["organization", "email", "project"] || columns == ["organization", "email", "project", "webhook"] else {
            throw LineRefusals([(header.line, .invalid(field: "header", rule: "must be organization,email,project[,webhook] (got \(header.fields.joined(separator: ",")))"))])
        }
        var problems: [(line: Int, refusal: Refusal)] = []
        var order: [String] = []
        var grouped: [String: (organization: String, line: Int, emails: [String], projects: [String: Int], hooks: [String])] = [:]
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                problems.append((record.line, .invalid(field: "csv", rule: "expected \(columns.count) fields, found \(record.fields.count)")))
                continue
            }
            do throws(Refusal) {
                let organization = try Validate.line(record.fields[0], field: "organization")
                let email = try Address.email(record.fields[1], field: "email")
                let project = try Slug.validate(record.fields[2].trimmingCharacters(in: .whitespaces), field: "project")
                if let knownProjects, !knownProjects.contains(project) {
                    throw Refusal.invalid(field: "project", rule: "no project '\(project)'; `herald project list` shows them")
                }
                let hook = columns.count == 4 ? record.fields[3].trimmingCharacters(in: .whitespaces) : ""
                if !hook.isEmpty { _ = try Address.webURL(hook, field: "webhook") }
                let key = organization.lowercased()
                if grouped[key] == nil {
                    order.append(key)
                    grouped[key] = (organization, record.line, [], [:], [])
                }
                grouped[key]!.emails.append(email)
                if grouped[key]!.projects[project] == nil { grouped[key]!.projects[project] = record.line }
                if !hook.isEmpty { grouped[key]!.hooks.append(hook) }
            } catch {
                problems.append((record.line, error))
            }
        }
        var entries: [Entry] = []
        for key in order {
            let group = grouped[key]!
            do throws(Refusal) {
                let projects = group.projects.sorted { $0.value < $1.value }.map(\.key)
                let provider = try NewProvider(organization: group.organization, emails: group.emails,
                                               webhooks: group.hooks.map { ($0, .webhook) }, projects: projects)
                entries.append(Entry(provider: provider, projectLines: group.projects, line: group.line))
            } catch {
                problems.append((group.line, error))
            }
        }
        guard problems.isEmpty else { throw LineRefusals(problems) }
        guard !entries.isEmpty else { throw LineRefusals([(header.line, .invalid(field: "csv", rule: "no rows after the header"))]) }
        self.entries = entries
    }
}
