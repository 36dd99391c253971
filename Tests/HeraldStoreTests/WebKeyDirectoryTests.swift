import HeraldStore
import Testing

@Suite struct WebKeyDirectoryTests {
    @Test func theDraftsExampleHashesAsItSays() {
        // draft-koch-openpgp-webkey-service, section 3.1: Joe.Doe@Example.ORG.
        #expect(WebKeyDirectory.hash(localPart: "Joe.Doe") == "iy9q119eutrkn8s1mk4r39qejnbu3n5q")
        #expect(WebKeyDirectory.isHash("iy9q119eutrkn8s1mk4r39qejnbu3n5q"))
        #expect(!WebKeyDirectory.isHash("iy9q119eutrkn8s1mk4r39qejnbu3n5"))
        #expect(!WebKeyDirectory.isHash("IY9Q119EUTRKN8S1MK4R39QEJNBU3N5Q"))
    }

    @Test func theHostsDomainIsReadWithoutPortOrTrailingDot() {
        #expect(WebKeyDirectory.domain(ofHost: "Example.ORG.:8443") == "example.org")
        #expect(WebKeyDirectory.domain(ofHost: "[::1]:8080") == nil)
        #expect(WebKeyDirectory.domain(ofHost: "") == nil)
    }

    @Test func aLookupAsksTheAdvancedThenTheDirectURLWithTheLocalPartEncoded() throws {
        let urls = try #require(WebKeyDirectory.lookupURLs(for: "Joe.Doe+ø@Example.ORG"))
        let hash = WebKeyDirectory.hash(localPart: "Joe.Doe+ø")
        #expect(
            urls == [
                "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/\(hash)?l=Joe.Doe%2B%C3%B8",
                "https://example.org/.well-known/openpgpkey/hu/\(hash)?l=Joe.Doe%2B%C3%B8",
            ])
        #expect(WebKeyDirectory.lookupURLs(for: "no-at-sign") == nil)
        #expect(WebKeyDirectory.lookupURLs(for: "a@evil.example/path") == nil)
        #expect(WebKeyDirectory.lookupURLs(for: "@example.org") == nil)
    }
}
