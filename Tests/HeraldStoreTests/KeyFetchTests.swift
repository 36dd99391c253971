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
    /// A directory that serves `served` by address, and answers nothing for the rest.
    struct Directory: KeyDirectory {
        let served: [String: [UInt8]]
        func lookUp(_ email: String) -> KeyLookup {
            served[email].map { .found($0, url: "https://openpgpkey.example/\(email)") } ?? .notFound("HTTP 404")
        }
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
            "a@acme.example": Array("a@acme.example".utf8), "b@acme.example": Array("a@acme.example".utf8),
        ])
        let results = try db.stores.keys(Library()).fetchProviderKeys(
            provider: acme.id, email: nil, directory: directory, actor: db.actor)
        #expect(results.map(\.email) == ["a@acme.example", "b@acme.example", "c@acme.example"])
        #expect(results[0].stored?.key.fingerprint == String(repeating: "A", count: 40))
        #expect(results[0].url == "https://openpgpkey.example/a@acme.example")
        #expect(results[1].stored == nil && results[1].problem?.contains("a@acme.example") == true)
        #expect(results[2].stored == nil && results[2].problem == "no key found (HTTP 404)")
        #expect(try db.stores.keys(Library()).providerKeys(of: acme.id).map(\.email) == ["a@acme.example"])

        // Fetched again, the same key is a refresh in the audit, not a replacement.
        _ = try db.stores.keys(Library()).fetchProviderKeys(
            provider: acme.id, email: "A@acme.example", directory: directory, actor: db.actor)
        let actions = try db.audit.list(limit: 100).map(\.action).filter { $0.hasPrefix("provider.key") }
        #expect(actions == ["provider.key-refresh", "provider.key-add"])
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
