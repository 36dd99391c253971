import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct PageLanguageTests {
    @Test func pagesSpeakTheLanguageTheReaderAsksForAndTheCacheKeepsThemApart() async throws {
        let fixture = try ServerFixture()
        let advisory = try fixture.published("Overflow", severity: .high)
        try await fixture.app().test(.live) { client in
            // Twice each, alternating: the second answers come from the event loop's cache,
            // which must not hand one reader's language to another.
            for _ in 0..<2 {
                for (accept, lang, heading) in [
                    ("nl-NL,nl;q=0.9,en;q=0.5", "nl", "<h1>Beveiligingsadviezen</h1>"),
                    ("en-GB,en;q=0.8", "en", "<h1>Security advisories</h1>"),
                    ("da", "da", "<h1>Sikkerhedsmeddelelser</h1>"),
                    ("fr-FR,fr;q=0.9", "en", "<h1>Security advisories</h1>"),
                ] {
                    try await client.execute(uri: "/", method: .get, headers: [.acceptLanguage: accept]) { response in
                        #expect(response.status == .ok)
                        #expect(
                            response.text.contains("<html lang=\"\(lang)\">") && response.text.contains(heading),
                            "\(accept): \(response.text.prefix(400))")
                        #expect(response.headers[.contentLanguage] == lang)
                        #expect(response.headers[.vary]?.contains("Accept-Language") == true)
                    }
                }
            }
            // The advisory in Danish: labels, the severity and the date the Danish way.
            try await client.execute(
                uri: "/advisories/\(advisory.publicID)", method: .get, headers: [.acceptLanguage: "da"]
            ) { response in
                #expect(
                    response.text.contains("<dt>Alvorlighed</dt>") && response.text.contains(">høj</span>"),
                    "\(response.text)")
                #expect(response.text.contains(" kl. "), "a Danish date: \(response.text)")
            }
            // Chosen with the switch: the page and its links keep the choice, whatever the header says.
            try await client.execute(uri: "/providers?lang=nl", method: .get, headers: [.acceptLanguage: "da"]) {
                response in
                #expect(response.text.contains("<h1>Aangesloten organisaties</h1>"))
                #expect(response.text.contains("<a href=\"/subscribe?lang=nl\">"))
                #expect(response.text.contains("href=\"/providers?lang=da\" hreflang=\"da\""))
            }
            try await client.execute(uri: "/ack?token=nothing", method: .get, headers: [.acceptLanguage: "da"]) {
                response in
                #expect(response.status == .notFound && response.text.contains("<h1>Kvittér for en varsling</h1>"))
            }
        }
    }

    @Test func nothingOfOneRequestsAddressReachesAPageOthersAreServed() async throws {
        let fixture = try ServerFixture()
        _ = try fixture.published("Overflow", severity: .high)
        try await fixture.app().test(.live) { client in
            // The first request fills the cache; its query must not end up in what everyone gets.
            for uri in [
                "/?token=POISONxEVIL", "/providers?token=POISONxEVIL&lang=nl", "//subscribe",
                "/subscribe?token=POISONxEVIL",
            ] {
                _ = try await client.execute(uri: uri, method: .get) { $0.status }
            }
            for uri in ["/", "/providers?lang=nl", "/providers", "/subscribe"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(
                        !response.text.contains("POISON") && !response.text.contains("href=\"//"),
                        "\(uri): \(response.text)")
                }
            }
        }
    }

    @Test func noFieldIsWrittenUnescapedInAnyLanguage() async throws {
        let fixture = try ServerFixture()
        let hostile = "<script>alert(1)</script>\"'&"
        let advisory = try fixture.published(hostile, severity: .high)
        _ = try fixture.db.providers.add(
            NewProvider(organization: hostile, emails: ["a@b.example"], projects: ["demo"], listed: true),
            status: .active, actor: fixture.db.actor)
        try await fixture.app().test(.live) { client in
            for route in [
                "/", "/advisories/\(advisory.publicID)", "/providers", "/subscribe", "/nowhere",
                "/unsubscribe?token=\(hostile)",
            ] {
                for language in Language.allCases {
                    let uri = route.contains("?") ? route : route + "?lang=\(language.rawValue)"
                    try await client.execute(
                        uri: uri.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? uri, method: .get,
                        headers: [.acceptLanguage: language.rawValue]
                    ) { response in
                        #expect(!response.text.contains("<script>"), "\(uri) carries the payload unescaped")
                    }
                }
            }
        }
    }

    @Test func theSubscribeFormKeepsTheLanguageAndTheConfirmationIsWrittenInIt() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let csrf = try await client.execute(uri: "/subscribe?lang=nl", method: .get) { response in
                #expect(response.text.contains("<option value=\"nl\" selected>Nederlands</option>"), "\(response.text)")
                return String((response.headers[.setCookie] ?? "").dropFirst("herald_csrf=".count).prefix { $0 != ";" })
            }
            let form =
                "csrf=\(csrf)&organization=Gemeente+Voorbeeld&email=cert%40voorbeeld.example&projects=demo&language=nl"
            try await client.execute(
                uri: "/subscribe?lang=nl", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "herald_csrf=\(csrf)"],
                body: ByteBuffer(string: form)
            ) { response in
                #expect(response.status == .ok && response.text.contains("Kijk in uw mail"), "\(response.text)")
            }
        }
        let provider = try #require(try fixture.db.providerRecords.list(status: .pendingConfirmation).first)
        #expect(provider.language == .dutch)
        let mail = try #require(
            try fixture.db.sentMessages("SELECT id FROM deliveries").first.map { DecodedMail($0) })
        #expect(mail.subject == "Bevestig vroegtijdige meldingen voor Gemeente Voorbeeld", "\(mail.headers)")
    }
}
