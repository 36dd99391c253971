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
        let urls = try #require(WebKeyDirectory.lookupURLs(for: "Joe.Doe+x%y@Example.ORG"))
        let hash = WebKeyDirectory.hash(localPart: "Joe.Doe+x%y")
        #expect(
            urls == [
                "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/\(hash)?l=Joe.Doe%2Bx%25y",
                "https://example.org/.well-known/openpgpkey/hu/\(hash)?l=Joe.Doe%2Bx%25y",
            ])
        // Only what Herald would store as an address: nothing else can reach another host.
        for text in [
            "no-at-sign", "a@evil.example/path", "@example.org", "a@evil.example?.victim.example", "a@127.0.0.1",
        ] {
            #expect(WebKeyDirectory.lookupURLs(for: text) == nil, "\(text)")
        }
    }

    @Test func theLocalPartIsLowerCasedAsGnuPGDoesItASCIIOnly() {
        #expect(WebKeyDirectory.hash(localPart: "JOE.DOE") == WebKeyDirectory.hash(localPart: "joe.doe"))
        #expect(WebKeyDirectory.hash(localPart: "Ø") != WebKeyDirectory.hash(localPart: "ø"))
    }
}
