import Foundation
import Testing

@testable import HeraldCore

@Suite struct SettingTests {
    @Test func preferredLanguagesAreLanguageTagsSeparatedByCommas() throws {
        #expect(try Setting.preferredLanguages.validate("nl,en ,  da") == "nl, en, da")
        #expect(try Setting.preferredLanguages.validate("en-GB") == "en-GB")
        for bad in ["", "nl;en", "nl, <script>", "english!", String(repeating: "en,", count: 11) + "en"] {
            #expect(throws: Refusal.self, "\(bad)") { try Setting.preferredLanguages.validate(bad) }
        }
    }

    @Test func templatesAreAnAbsoluteDirectoryOrTheBuiltInOnes() throws {
        #expect(try Setting.templates.validate("/etc/herald/templates") == "/etc/herald/templates")
        #expect(try Setting.templates.validate("built-in") == "built-in")
        #expect(throws: Refusal.self) { try Setting.templates.validate("templates") }
        #expect(throws: Refusal.self) { try Setting.templates.validate("/etc/herald\ntemplates") }
    }
}
