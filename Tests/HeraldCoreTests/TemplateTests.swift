import Foundation
import Testing

@testable import HeraldCore
@testable import HeraldTemplates

@Suite struct TemplateTests {
    let project = Project(
        id: 1, slug: "demo", name: "Demo", timezone: "Europe/Amsterdam", maxEmbargoDays: 14, createdAt: Date())
    var advisory: Advisory {
        let content = try! AdvisoryContent(
            title: "Overflow in the parser", summary: "A summary", body: "The body", cves: ["CVE-2026-1234"],
            severity: .high, affected: "1.0", fixed: "1.1")
        return Advisory(
            id: 7, publicID: "demo-2026-abc123", projectSlug: "demo", state: .scheduled, revision: 1, content: content,
            schedule: Schedule(embargo: Date(timeIntervalSince1970: 1_796_140_800)), createdAt: Date(),
            updatedAt: Date())
    }

    func writer(_ templates: Templates = .standard, _ language: Language = .english) -> NoticeWriter {
        NoticeWriter(project: project, publicURL: "https://herald.test", wording: templates, language: language)
    }

    /// A directory with `files` (name below it → text), removed when the test ends.
    func directory(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appending(path: "herald-templates-\(UUID().uuidString)")
        for (name, text) in files {
            let url = root.appending(path: name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return root
    }

    @Test func everyMessageAndPageHasEveryPartInEveryLanguageAndIsTranslated() throws {
        let templates = Templates.standard
        for (folder, schemas) in [("messages", TemplateFile.schemas), ("pages", TemplateFile.pageSchemas)] {
            for (name, schema) in schemas {
                for part in schema.parts {
                    for language in Language.allCases {
                        #expect(
                            templates.parts["\(folder)/\(language.rawValue)/\(name)#\(part)"] != nil,
                            "\(folder)/\(language.rawValue)/\(name) lacks \(part)")
                    }
                    // A text left in English is a missing translation, not a translation.
                    guard ["subject", "intro", "title", "html"].contains(part), name != "alert", name != "message"
                    else { continue }
                    let values = Dictionary(uniqueKeysWithValues: schema.fields.map { ($0, "X") })
                    let english =
                        folder == "pages"
                        ? templates.page(name, part, in: .english, values)
                        : templates.text(name, part, in: .english, values)
                    // A part with no words of its own ("{{project}}: {{title}}") has nothing to translate.
                    guard english.replacingOccurrences(of: "X", with: "").contains(where: \.isLetter) else { continue }
                    for language in [Language.dutch, .danish] {
                        let translated =
                            folder == "pages"
                            ? templates.page(name, part, in: language, values)
                            : templates.text(name, part, in: language, values)
                        #expect(
                            translated != english, "\(folder)/\(language.rawValue)/\(name) \(part) is the English text")
                    }
                }
            }
        }
        // Nothing embedded lies outside the schema (a file no code reads would be a silent mistake).
        #expect(Set(Templates.embedded.keys) == Set(TemplateFile.allNames))
    }

    @Test func aDutchAndADanishReaderGetTheirOwnWordsAndDates() {
        let english = writer().content(
            .earlyNotice, advisory: advisory, audience: .provider(organization: ""), ackURL: "https://herald.test/ack")
        let dutch = writer(.standard, .dutch).content(
            .earlyNotice, advisory: advisory, audience: .provider(organization: ""), ackURL: "https://herald.test/ack")
        let danish = writer(.standard, .danish).content(
            .earlyNotice, advisory: advisory, audience: .provider(organization: ""), ackURL: "https://herald.test/ack")
        #expect(
            english.intro.contains(
                "will publish the security advisory below at 2026-12-01 17:00:00 +01:00 (Europe/Amsterdam)"))
        #expect(
            dutch.intro
                == "Demo publiceert het onderstaande beveiligingsadvies op dinsdag 1 december 2026 om 17:00 (UTC+01:00) (Europe/Amsterdam). U ontvangt het vooraf omdat u op de lijst voor vroegtijdige meldingen staat."
        )
        #expect(
            danish.intro.hasPrefix(
                "Demo offentliggør nedenstående sikkerhedsmeddelelse tirsdag den 1. december 2026 kl. 17.00 (UTC+01:00)"
            ))
        #expect(
            dutch.facts.map(\.label) == [
                "Publicatie", "Revisie", "Embargovoorwaarden", "CVE", "Ernst", "Kwetsbare versies", "Opgelost in",
            ])
        #expect(
            dutch.facts.first { $0.label == "Embargovoorwaarden" }?.value
                == "TLP:AMBER+STRICT · niet uitrollen vóór de publicatie · ook de patch valt onder het embargo")
        #expect(dutch.facts.first { $0.label == "Ernst" }?.value == "hoog")
        #expect(danish.facts.first { $0.label == "Alvorlighed" }?.value == "høj")
        #expect(dutch.link?.label == "Ontvangst bevestigen" && danish.link?.label == "Kvittér for modtagelsen")
        // The advisory's own words are the release managers' and pass unchanged.
        for content in [english, dutch, danish] { #expect(content.body == "A summary\n\nThe body") }
    }

    @Test func aRevisionSaysWhatChangedInTheReadersLanguage() {
        var previous = advisory
        previous.schedule.embargo = advisory.schedule.embargo! - 86_400
        previous.content.title = "Old title"
        var current = advisory
        current.revision = 2
        let notes = try! ChangeNotes(reason: "why", toProviders: "nieuwe datum")
        let dutch = writer(.standard, .dutch).content(
            .revision, advisory: current, audience: .provider(organization: ""), notes: notes, previous: previous)
        #expect(
            dutch.intro
                == "Het onderstaande beveiligingsadvies van Demo is gewijzigd (revisie 2). De publicatie verschuift van maandag 30 november 2026 om 17:00 (UTC+01:00) naar dinsdag 1 december 2026 om 17:00 (UTC+01:00) (Europe/Amsterdam). Gewijzigd: titel. Toelichting van de releasemanagers: nieuwe datum"
        )
        let english = writer().content(
            .revision, advisory: current, audience: .provider(organization: ""), previous: nil)
        #expect(english.intro == "The Demo security advisory below has changed (revision 2).")
    }

    @Test func anOverrideChangesTheWordingAndLeavesTheRest() throws {
        let root = try directory([
            "messages/nl/early-notice.mustache": """
            Our own words.
            == subject ==
            [VERTROUWELIJK] {{project}} — {{title}}
            == intro ==
            Lees dit vóór {{release}}.
            == footer ==
            """
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let templates = try Templates.load(directory: root.path)
        #expect(templates.overridden == ["messages/nl/early-notice.mustache"])
        let dutch = writer(templates, .dutch).content(
            .earlyNotice, advisory: advisory, audience: .provider(organization: ""))
        #expect(dutch.headline == "[VERTROUWELIJK] Demo — Overflow in the parser")
        #expect(dutch.intro.hasPrefix("Lees dit vóór dinsdag 1 december 2026"))
        #expect(dutch.footer.isEmpty)
        // The other languages and messages keep the built-in words.
        #expect(
            writer(templates).content(.earlyNotice, advisory: advisory, audience: .provider(organization: "")).headline
                == "[EMBARGOED] Demo: Overflow in the parser")
        #expect(
            writer(templates, .dutch).content(.revision, advisory: advisory, audience: .provider(organization: ""))
                .headline.hasPrefix("[EMBARGO] Herzien"))
    }

    @Test(arguments: [
        // An unclosed section: the parser's own error, on the line it happens.
        (
            "messages/en/welcome.mustache",
            "== subject ==\nWelcome {{organization}}\n== intro ==\nHello\n{{#organization}}never closed\n== footer ==\n",
            "messages/en/welcome.mustache:5:", "expectedSectionEnd"
        ),
        // A field the message does not have: a typo would otherwise say nothing at the instant.
        (
            "messages/nl/early-notice.mustache",
            "== subject ==\n[EMBARGO] {{project}}: {{titel}}\n== intro ==\nx\n== footer ==\n",
            "messages/nl/early-notice.mustache:2:24:", "unknown field {{titel}}"
        ),
        // A missing part.
        (
            "messages/da/welcome.mustache", "== subject ==\nVelkommen\n== footer ==\n",
            "messages/da/welcome.mustache:1:1:", "lacks the part '== intro =='"
        ),
        // A part no message has.
        (
            "messages/en/welcome.mustache", "== subject ==\nx\n== intro ==\nx\n== footer ==\n== signature ==\nx\n",
            "messages/en/welcome.mustache:6:1:", "unknown part 'signature'"
        ),
        // A file that is no template: a misspelt name would otherwise be silently ignored.
        (
            "messages/en/early-notise.mustache", "== subject ==\nx\n", "messages/en/early-notise.mustache:1:1:",
            "unknown template"
        ),
        ("messages/fr/welcome.mustache", "== subject ==\nx\n", "messages/fr/welcome.mustache:1:1:", "unknown template"),
        // Partials and changed delimiters would let a template read what the checks cannot see.
        (
            "messages/en/welcome.mustache", "== subject ==\n{{> other}}\n== intro ==\nx\n== footer ==\n",
            "messages/en/welcome.mustache:2:1:", "fields and sections only"
        ),
        (
            "messages/en/welcome.mustache", "== subject ==\n\n== intro ==\nx\n== footer ==\n",
            "messages/en/welcome.mustache:2:1:", "the subject is empty"
        ),
        // A public message knows public facts only: not the note meant for providers.
        (
            "messages/en/publication.mustache", "== subject ==\n{{project}} {{note}}\n== intro ==\nx\n== footer ==\n",
            "messages/en/publication.mustache:2:13:", "unknown field {{note}}"
        ),
        (
            "messages/nl/pre-announcement.mustache",
            "== subject ==\n{{project}}: {{title}}\n== intro ==\nx\n== footer ==\n",
            "messages/nl/pre-announcement.mustache:2:14:", "unknown field {{title}}"
        ),
        // Sections nest at most four deep, and a list never repeats inside a list: deeper would
        // exhaust the parser's stack or multiply a page's work.
        (
            "messages/en/welcome.mustache",
            "== subject ==\n" + String(repeating: "{{#organization}}", count: 3000)
                + "\n== intro ==\nx\n== footer ==\n",
            "messages/en/welcome.mustache:2:69:", "nests too deep"
        ),
        (
            "pages/en/layout.mustache",
            "== html ==\n{{#languages}}{{#languages}}{{code}}{{/languages}}{{/languages}}{{{body}}}\n",
            "pages/en/layout.mustache:2:15:", "no list inside a list"
        ),
        // A page cannot write a field unescaped, neither with {{{…}}} nor with {{&…}}, nor switch escaping off.
        (
            "pages/en/advisory.mustache", "== title ==\nx\n== html ==\n<h1>{{{title}}}</h1>\n",
            "pages/en/advisory.mustache:4:5:",
            "{{{title}}} would write title into the page unescaped"
        ),
        (
            "pages/nl/providers.mustache",
            "== title ==\nx\n== html ==\n{{#organizations}}{{& name}}{{/organizations}}\n",
            "pages/nl/providers.mustache:4:19:", "would write name into the page unescaped"
        ),
        (
            "pages/da/index.mustache", "== title ==\nx\n== html ==\n{{%CONTENT_TYPE: TEXT}}{{title}}\n",
            "pages/da/index.mustache:4:1:",
            "fields and sections only"
        ),
    ])
    func aBrokenOverrideIsRefusedWithItsFileAndLine(name: String, text: String, location: String, says: String) throws {
        let root = try directory([name: text])
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            _ = try Templates.load(directory: root.path)
            Issue.record("\(name) was accepted")
        } catch {
            let message = error.description
            #expect(message.contains(location), "\(message)")
            #expect(message.contains(says), "\(message)")
        }
    }

    @Test func onlyRegularFilesAreReadAsTemplates() throws {
        // A link would let the read go past the size bound, to a file of any size.
        let root = try directory([:])
        let big = root.appending(path: "big.txt")
        try FileManager.default.createDirectory(
            at: root.appending(path: "messages/en"), withIntermediateDirectories: true)
        try Data(String(repeating: "x", count: 200_000).utf8).write(to: big)
        try FileManager.default.createSymbolicLink(
            atPath: root.appending(path: "messages/en/welcome.mustache").path, withDestinationPath: big.path)
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: TemplateProblems.self) { try Templates.load(directory: root.path) }
        do { _ = try Templates.load(directory: root.path) } catch {
            #expect(error.description.contains("regular file"), "\(error)")
        }
    }

    @Test func aFieldIsWordsNeverATemplate() {
        // A title that looks like a template or like markup is said as it is: fields are not
        // re-read as templates, and plain-text messages do not HTML-escape (each format escapes its own).
        var hostile = advisory
        hostile.content.title = "{{#note}}x{{/note}} <script>&amp;"
        let content = writer().content(.earlyNotice, advisory: hostile, audience: .provider(organization: ""))
        #expect(content.headline == "[EMBARGOED] Demo: {{#note}}x{{/note}} <script>&amp;")
    }

    @Test func exportWritesEveryTemplateAndRefusesToOverwrite() throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "herald-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let written = try Templates.export(to: root.path)
        #expect(written.count == TemplateFile.allNames.count)
        // What was exported loads as it is, and changes nothing.
        let loaded = try Templates.load(directory: root.path)
        #expect(loaded.overridden.count == written.count)
        #expect(
            writer(loaded, .danish).welcome(organization: "Acme").intro
                == writer(.standard, .danish).welcome(organization: "Acme").intro)
        #expect(throws: TemplateProblems.self) { try Templates.export(to: root.path) }
    }
}
