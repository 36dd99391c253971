import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// `provider key fetch`'s decisions, with the directory and the library stood in for (the real
/// ones, over HTTPS and librnp, are checked by scripts/lib/wkd_check.py): each address on its
/// own, a key checked as an upload is, nothing stored for a refused one.
@Suite struct KeyFetchTests {
    /// A directory with two places per address, `advanced/` and `direct/`; `served` by URL,
    /// nothing elsewhere.
    struct Directory: KeyDirectory {
        let served: [String: [UInt8]]
        func places(for email: String) -> [String] { ["advanced/\(email)", "direct/\(email)"] }
        func fetch(_ url: String) -> KeyAnswer { served[url].map { .key($0) } ?? .none("HTTP 404") }
    }

    /// Reads a "key" whose bytes are the address its user ID names.
    struct Library: OpenPGP {
        func readPublicKey(_ bytes: [UInt8]) throws -> OpenPGPKey {
            let address = String(decoding: bytes, as: UTF8.self)
            return OpenPGPKey(
                fingerprint: String(repeating: address.hasPrefix("a") ? "A" : "B", count: 40), algorithm: "EDDSA",
                created: Date(timeIntervalSince1970: 1_700_000_000), expires: nil, userIDs: ["<\(address)>"],
                canEncrypt: true, revoked: false, armored: address)
        }
        func readSecretKey(_ bytes: [UInt8]) throws -> (key: OpenPGPKey, secret: [UInt8]) { throw Unused() }
        func generateKey(userID: String) throws -> [UInt8] { throw Unused() }
        func encrypt(_ plaintext: [UInt8], to recipient: OpenPGPKeyMaterial, signedBy signer: OpenPGPKeyMaterial?)
            throws -> [UInt8]
        { throw Unused() }
        func detachedSignature(of data: [UInt8], by signers: [OpenPGPKeyMaterial]) throws -> [UInt8] { throw Unused() }
        func binary(_ armored: [UInt8]) throws -> [UInt8] { throw Unused() }
        struct Unused: Error {}
    }

    @Test func eachAddressIsLookedUpAndOnlyAKeyNamingItIsStored() throws {
        let db = try TestDatabase()
        try db.addProject()
        let acme = try db.providers.add(
            NewProvider(
                organization: "Acme", emails: ["a@acme.example", "b@acme.example", "c@acme.example"],
                projects: ["demo"]),
            status: .active, actor: db.actor)
        // a@ serves its own key; b@ serves a's (another address); c@ serves nothing.
        let directory = Directory(served: [
            "advanced/a@acme.example": Array("a@acme.example".utf8),
            "advanced/b@acme.example": Array("a@acme.example".utf8),
        ])
        let results = try db.stores.keys(Library()).fetchProviderKeys(
            provider: acme.id, email: nil, directory: directory, actor: db.actor)
        #expect(results.map(\.email) == ["a@acme.example", "b@acme.example", "c@acme.example"])
        #expect(results[0].stored?.key.fingerprint == String(repeating: "A", count: 40))
        #expect(results[0].url == "advanced/a@acme.example")
        #expect(results[1].stored == nil && results[1].problem?.contains("advanced/b@acme.example: key:") == true)
        #expect(
            results[2].stored == nil
                && results[2].problem
                    == "no usable key found (advanced/c@acme.example: HTTP 404; direct/c@acme.example: HTTP 404)"
        )
        #expect(try db.stores.keys(Library()).providerKeys(of: acme.id).map(\.email) == ["a@acme.example"])

        // Fetched again, the same key is a refresh in the audit, not a replacement.
        _ = try db.stores.keys(Library()).fetchProviderKeys(
            provider: acme.id, email: "A@acme.example", directory: directory, actor: db.actor)
        let actions = try db.audit.list(limit: 100).map(\.action).filter { $0.hasPrefix("provider.key") }
        #expect(actions == ["provider.key-refresh", "provider.key-add"])
    }

    @Test func aPlaceWhoseAnswerFailsTheChecksGivesWayToTheNext() throws {
        // The advanced URL answers with a key for another address (or a web page, or a stale
        // key); the direct one has the right key, and that is the one stored.
        let db = try TestDatabase()
        try db.addProject()
        let acme = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        let directory = Directory(served: [
            "advanced/a@acme.example": Array("b@acme.example".utf8),
            "direct/a@acme.example": Array("a@acme.example".utf8),
        ])
        let results = try db.stores.keys(Library()).fetchProviderKeys(
            provider: acme.id, email: nil, directory: directory, actor: db.actor)
        #expect(results.first?.url == "direct/a@acme.example")
        #expect(results.first?.stored?.key.fingerprint == String(repeating: "A", count: 40))
        let added = try #require(try db.audit.list(limit: 10).first { $0.action == "provider.key-add" })
        #expect(added.details["source"] == "direct/a@acme.example")
    }

    @Test func anAddressTheProviderDoesNotHaveIsRefusedBeforeAnyLookup() throws {
        let db = try TestDatabase()
        try db.addProject()
        let acme = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        #expect(throws: Refusal.self) {
            try db.stores.keys(Library()).fetchProviderKeys(
                provider: acme.id, email: "z@acme.example", directory: Directory(served: [:]), actor: db.actor)
        }
    }
}
