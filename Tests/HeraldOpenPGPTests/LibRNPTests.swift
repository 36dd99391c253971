import Crypto
import Foundation
import HeraldApp
import HeraldCore
import Testing

@testable import HeraldOpenPGP

@Suite struct LibRNPTests {
    let pgp = LibRNP()

    @Test func aGeneratedKeyReadsBackWithItsAddressAndCanEncrypt() throws {
        let secret = try pgp.generateKey(userID: "Open Zaak <security@openzaak.org>")
        let (key, exported) = try pgp.readSecretKey(secret)
        #expect(key.fingerprint.count == 40)
        #expect(key.addresses == ["security@openzaak.org"])
        // A project's key only signs: no one outside Herald holds its secret to decrypt with.
        #expect(!key.canEncrypt && !key.revoked && key.expires == nil)
        #expect(key.refusal(for: "Security@OpenZaak.org", at: Date())?.description.contains("encryption") == true)
        #expect(String(decoding: exported, as: UTF8.self).contains("BEGIN PGP PRIVATE KEY BLOCK"))
        let publicKey = try pgp.readPublicKey(Array(key.armored.utf8))
        #expect(publicKey.fingerprint == key.fingerprint)
        #expect(!publicKey.armored.contains("PRIVATE"))
    }

    @Test func aSecretKeyIsRefusedWhereAPublicKeyIsAsked() throws {
        let secret = try pgp.generateKey(userID: "x <x@example.org>")
        #expect(throws: Refusal.self) { try pgp.readPublicKey(secret) }
    }

    @Test func garbageAndTwoKeysAreRefused() throws {
        #expect(throws: Refusal.self) { try pgp.readPublicKey(Array("hello".utf8)) }
        let one = try pgp.readSecretKey(try pgp.generateKey(userID: "a <a@example.org>")).key.armored
        let two = try pgp.readSecretKey(try pgp.generateKey(userID: "b <b@example.org>")).key.armored
        #expect(throws: Refusal.self) { try pgp.readPublicKey(Array((one + two).utf8)) }
    }

    @Test func aKeyForAnotherAddressIsRefusedForThisOne() throws {
        let key = try pgp.readSecretKey(try Sop.generateKey("Alice <alice@example.org>")).key
        let refusal = try #require(key.refusal(for: "bob@example.org", at: Date()))
        #expect(refusal.description.contains("alice@example.org"))
    }
}

/// Sequoia's `sqop` (Stateless OpenPGP), a peer Herald did not write, decrypts and verifies.
@Suite struct LibRNPInteroperabilityTests {
    let pgp = LibRNP()

    @Test func sequoiaDecryptsWhatHeraldEncryptsAndVerifiesItsSignature() throws {
        let recipientSecret = try Sop.generateKey("Provider <ops@provider.example>")
        let recipient = try pgp.readSecretKey(recipientSecret).key
        let signerSecret = try pgp.generateKey(userID: "Open Zaak <security@openzaak.example>")
        let signer = try pgp.readSecretKey(signerSecret).key
        let text = "Beveiligingsadvies – æøå ÆØÅ\r\nline two\r\n"
        let message = try pgp.encrypt(
            Array(text.utf8),
            to: OpenPGPKeyMaterial(fingerprint: recipient.fingerprint, bytes: Array(recipient.armored.utf8)),
            signedBy: OpenPGPKeyMaterial(fingerprint: signer.fingerprint, bytes: signerSecret))
        #expect(String(decoding: message, as: UTF8.self).hasPrefix("-----BEGIN PGP MESSAGE-----"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(recipientSecret).write(to: folder.appendingPathComponent("recipient.key"))
        try Data(signer.armored.utf8).write(to: folder.appendingPathComponent("signer.cert"))
        let verifications = folder.appendingPathComponent("verifications").path
        let plain = try Sop.run(
            [
                "decrypt", "--verifications-out=\(verifications)", "--verify-with",
                folder.appendingPathComponent("signer.cert").path,
                folder.appendingPathComponent("recipient.key").path,
            ], input: message)
        #expect(String(decoding: plain, as: UTF8.self) == text)
        let verified = try String(contentsOfFile: verifications, encoding: .utf8)
        #expect(verified.contains(signer.fingerprint))
    }

    /// A Curve25519 subkey verified when the key was read is encrypted to by Herald's own code
    /// (librnp only signs): Sequoia decrypts it, verifies the signature, and finds the text
    /// intact; without a signer too, and a changed byte is refused by the integrity check.
    @Test func sequoiaDecryptsHeraldsOwnCurve25519Encryption() throws {
        let recipientSecret = try Sop.generateKey("Provider <ops@provider.example>")
        let recipient = try pgp.readSecretKey(recipientSecret).key
        let subkey = try #require(recipient.encryptionSubkey?.fingerprint, "Sequoia's key encrypts with a subkey")
        // Sequoia's subkey expires with the key (in three years): the same date.
        #expect(subkey != recipient.fingerprint && subkey.count == 40)
        #expect(recipient.encryptionSubkey?.expires == recipient.expires && recipient.expires != nil)
        let verified = try #require(Curve25519Encryption.recipient(in: Array(recipient.armored.utf8), subkey: subkey))
        #expect(Curve25519Encryption.hex(verified.fingerprint) == subkey)
        #expect(Curve25519Encryption.recipient(in: Array(recipient.armored.utf8), subkey: recipient.fingerprint) == nil)

        let signerSecret = try pgp.generateKey(userID: "Open Zaak <security@openzaak.example>")
        let signer = try pgp.readSecretKey(signerSecret).key
        let material = OpenPGPKeyMaterial(
            fingerprint: recipient.fingerprint, bytes: Array(recipient.armored.utf8),
            encryptionSubkey: recipient.encryptionSubkey)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("recipient.key").path
        try Data(recipientSecret).write(to: URL(fileURLWithPath: key))
        try Data(signer.armored.utf8).write(to: folder.appendingPathComponent("signer.cert"))

        // Long enough for a five-octet packet length, with non-ASCII text and CR LF.
        let text = String(repeating: "Beveiligingsadvies – æøå ÆØÅ\r\n", count: 400)
        let signed = try pgp.encrypt(
            Array(text.utf8), to: material,
            signedBy: OpenPGPKeyMaterial(fingerprint: signer.fingerprint, bytes: signerSecret))
        let verifications = folder.appendingPathComponent("verifications").path
        let plain = try Sop.run(
            [
                "decrypt", "--verifications-out=\(verifications)", "--verify-with",
                folder.appendingPathComponent("signer.cert").path, key,
            ], input: signed)
        #expect(String(decoding: plain, as: UTF8.self) == text)
        #expect(try String(contentsOfFile: verifications, encoding: .utf8).contains(signer.fingerprint))

        // Sizes that put the literal packet (text + 6) and the encrypted packet (text + 48) on
        // each length encoding's edges: 191/192 and 8383/8384 bytes.
        for size in [0, 142, 143, 185, 186, 8333, 8334, 8377, 8378, 70000] {
            let text = [UInt8](repeating: 0x41, count: size)
            let unsigned = try pgp.encrypt(text, to: material, signedBy: nil)
            #expect(try Sop.run(["decrypt", key], input: unsigned) == text, "\(size) bytes")
        }

        // The encryption is Herald's: the same message twice differs (a new session key and
        // ephemeral key each time), and one flipped bit in the encrypted text fails Sequoia's
        // integrity check.
        let text100 = Curve25519Encryption.literal([UInt8](repeating: 0x42, count: 100))
        let once = try Curve25519Encryption.encrypt(text100, to: verified)
        let twice = try Curve25519Encryption.encrypt(text100, to: verified)
        #expect(once != twice)
        #expect(try Sop.run(["decrypt", key], input: once) == [UInt8](repeating: 0x42, count: 100))
        var binary = try #require(Curve25519Encryption.dearmored(once))
        binary[binary.count - 60] ^= 0x01  // inside the literal data, before the MDC
        #expect(throws: (any Error).self) {
            try Sop.run(["decrypt", key], input: Curve25519Encryption.armor(binary))
        }
    }

    /// A project key that has not signed for the idle limit is forgotten at the next signature,
    /// by Herald's own signer and by every pooled librnp context: one that was replaced or
    /// removed does not stay in memory until the process ends. Those still signing stay.
    @Test func aSignerIdlePastTheLimitIsForgottenAtTheNextSignature() throws {
        let pgp = LibRNP(signerIdleLimit: .seconds(1))
        func projectKey() throws -> OpenPGPKeyMaterial {
            let secret = try pgp.generateKey(userID: "Open Zaak <security@openzaak.example>")
            return OpenPGPKeyMaterial(fingerprint: try pgp.readSecretKey(secret).key.fingerprint, bytes: secret)
        }
        let replaced = try projectKey()
        let current = try projectKey()
        let notice = Array("the notice".utf8)
        _ = try pgp.detachedSignature(of: notice, by: [replaced])
        #expect(try pgp.ownSigner(replaced) != nil)
        _ = try pgp.detachedSignature(of: notice, by: [current])
        #expect(pgp.signersHeld == [replaced.fingerprint, current.fingerprint])
        // A signature keeps its key: `current` signs again before the limit, `replaced` does not.
        Thread.sleep(forTimeInterval: 0.7)
        _ = try pgp.detachedSignature(of: notice, by: [current])
        weak var contextThatHeldIt = try #require(pgp.pooled.first)
        Thread.sleep(forTimeInterval: 0.6)
        _ = try pgp.detachedSignature(of: notice, by: [current])
        #expect(pgp.signersHeld == [current.fingerprint])
        // The context that had loaded it is gone, and librnp's context with it (its keys held it).
        #expect(contextThatHeldIt == nil)
        // Asked for again, it is loaded again and signs.
        let signature = try pgp.detachedSignature(of: notice, by: [replaced])
        #expect(String(decoding: signature, as: UTF8.self).contains("BEGIN PGP SIGNATURE"))
    }

    /// A project's Ed25519 key (no subkeys, no expiry: what `project key generate` makes) signs
    /// through Herald's own code; Sequoia verifies what it signs, inline and inside the
    /// encryption, also where R or S begins with a zero octet (an MPI drops it). A key with
    /// subkeys (Sequoia's) stays with librnp, which verifies the same way.
    @Test func heraldSignsWithAnEd25519ProjectKeyAndSequoiaVerifies() throws {
        let signerSecret = try pgp.generateKey(userID: "Open Zaak <security@openzaak.example>")
        let signer = try pgp.readSecretKey(signerSecret).key
        let material = OpenPGPKeyMaterial(fingerprint: signer.fingerprint, bytes: signerSecret)
        let own = try #require(try pgp.ownSigner(material), "a generated project key is signed with by Herald")
        #expect(Curve25519Encryption.hex(own.fingerprint) == signer.fingerprint)
        // Another key's fingerprint, or the secret changed (its checksum, then a seed that does
        // not give the public point): not read.
        let otherSecret = try Sop.generateKey("Provider <ops@provider.example>")
        let other = try pgp.readSecretKey(otherSecret).key
        #expect(Ed25519Signing.signer(in: signerSecret, fingerprint: other.fingerprint) == nil)
        #expect(try pgp.ownSigner(OpenPGPKeyMaterial(fingerprint: other.fingerprint, bytes: otherSecret)) == nil)
        let binary = try #require(Curve25519Encryption.dearmored(signerSecret))
        let packets = try #require(Curve25519Encryption.packets(binary))
        func secretKey(_ body: [UInt8]) -> [UInt8] {
            Curve25519Encryption.packet(5, body)
                + packets.dropFirst().flatMap { Curve25519Encryption.packet($0.tag, $0.body) }
        }
        #expect(Ed25519Signing.signer(in: secretKey(packets[0].body), fingerprint: signer.fingerprint) != nil)
        var changed = packets[0].body
        changed[changed.count - 3] ^= 1  // the seed's last octet
        #expect(Ed25519Signing.signer(in: secretKey(changed), fingerprint: signer.fingerprint) == nil)
        // The checksum made to agree (the secret MPI starts after the public part and S2K usage 0).
        let checksum = changed[52..<(changed.count - 2)].reduce(0) { ($0 + Int($1)) & 0xFFFF }
        changed[changed.count - 2] = UInt8(checksum >> 8)
        changed[changed.count - 1] = UInt8(checksum & 0xFF)
        #expect(Ed25519Signing.signer(in: secretKey(changed), fingerprint: signer.fingerprint) == nil)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cert = folder.appendingPathComponent("signer.cert").path
        try Data(signer.armored.utf8).write(to: URL(fileURLWithPath: cert))
        let verifications = folder.appendingPathComponent("verifications").path
        func verifies(_ message: [UInt8], _ text: [UInt8]) throws -> Bool {
            try? FileManager.default.removeItem(atPath: verifications)  // sqop writes no file that exists
            let out = try Sop.run(["inline-verify", "--verifications-out=\(verifications)", cert], input: message)
            return try out == text
                && String(contentsOfFile: verifications, encoding: .utf8).contains(signer.fingerprint)
        }
        let text = Array("Beveiligingsadvies – æøå ÆØÅ\r\n".utf8)
        #expect(try verifies(try Ed25519Signing.signedMessage(text, by: own, at: Date()), text))

        // A signer librnp keeps (Sequoia's key signs with a subkey), inside Herald's own
        // encryption to a Curve25519 subkey: Sequoia decrypts and verifies it too.
        let recipientSecret = try Sop.generateKey("Recipient <ops@recipient.example>")
        let recipient = try pgp.readSecretKey(recipientSecret).key
        let recipientKey = folder.appendingPathComponent("recipient.key").path
        try Data(recipientSecret).write(to: URL(fileURLWithPath: recipientKey))
        let otherCert = folder.appendingPathComponent("other.cert").path
        try Data(other.armored.utf8).write(to: URL(fileURLWithPath: otherCert))
        let sealed = try pgp.encrypt(
            text,
            to: OpenPGPKeyMaterial(
                fingerprint: recipient.fingerprint, bytes: Array(recipient.armored.utf8),
                encryptionSubkey: recipient.encryptionSubkey),
            signedBy: OpenPGPKeyMaterial(fingerprint: other.fingerprint, bytes: otherSecret))
        try? FileManager.default.removeItem(atPath: verifications)
        #expect(
            try Sop.run(
                ["decrypt", "--verifications-out=\(verifications)", "--verify-with", otherCert, recipientKey],
                input: sealed) == text)
        #expect(try String(contentsOfFile: verifications, encoding: .utf8).contains(other.fingerprint))
        #expect(throws: (any Error).self) {
            var changed = try Ed25519Signing.signedMessage(text, by: own, at: Date())
            changed[25] ^= 1  // the data's third octet: one-pass (15), literal header (8)
            _ = try Sop.run(["inline-verify", cert], input: changed)
        }
        // A signature whose R or S starts with a zero octet (one in 128), which its MPI drops:
        // found as a packet shorter than the usual, then verified.
        let at = Date()  // not before the key was made
        // (Three made to find the usual length: all three short is one in two million.)
        let usual = try (0..<3).map { try Ed25519Signing.signature(of: [UInt8($0)], by: own, at: at).count }.max() ?? 0
        var short: [UInt8]?
        for number in 0..<4000 where short == nil {
            let numbered = Array("notice \(number)".utf8)
            if try Ed25519Signing.signature(of: numbered, by: own, at: at).count < usual { short = numbered }
        }
        let numbered = try #require(short)
        let onePass = Curve25519Encryption.packet(4, [3, 0, 8, 22] + own.keyID + [1])
        let signature = try Ed25519Signing.signature(of: numbered, by: own, at: at)
        #expect(try verifies(onePass + Curve25519Encryption.literal(numbered) + signature, numbered))
    }

    /// The armor's CRC-24 (RFC 4880 section 6.1) by its check value, and keys read from armor
    /// with CR LF, headers and trailing blanks as from binary.
    @Test func armorIsReadAndWrittenAsRFC4880Says() throws {
        #expect(Curve25519Encryption.crc24([]) == 0xB7_04CE)
        #expect(Curve25519Encryption.crc24(Array("123456789".utf8)) == 0x21_CF02)
        let secret = try Sop.generateKey("Provider <ops@provider.example>")
        let binary = try #require(Curve25519Encryption.dearmored(secret))
        #expect(binary.first.map { $0 & 0x80 != 0 } == true)
        let text = String(decoding: secret, as: UTF8.self)
        let crlf = text.replacingOccurrences(of: "\n", with: " \r\n")
            .replacingOccurrences(of: "-----\r\n", with: "-----\r\nComment: a header\r\n", options: [], range: nil)
        #expect(Curve25519Encryption.dearmored(Array(crlf.utf8)) == binary)
        let crOnly = text.replacingOccurrences(of: "\n", with: "\r")
        #expect(Curve25519Encryption.dearmored(Array(crOnly.utf8)) == binary)
        #expect(Curve25519Encryption.dearmored(binary) == binary)
        #expect(Curve25519Encryption.dearmored(Array("-----BEGIN PGP MESSAGE-----\n\n!!!\n".utf8)) == nil)
        #expect(Curve25519Encryption.bytes(hex: "00fFa9") == [0, 0xFF, 0xA9])
        #expect(Curve25519Encryption.bytes(hex: "0g") == nil && Curve25519Encryption.bytes(hex: "abc") == nil)
    }

    /// Packet lengths on each encoding's edges, as RFC 4880 section 4.2.2 writes them, read back.
    @Test func packetLengthsAreWrittenAndReadAtTheirEdges() throws {
        let cases: [(Int, [UInt8])] = [
            (0, [0]), (191, [191]), (192, [192, 0]), (8383, [223, 255]), (8384, [255, 0, 0, 0x20, 0xC0]),
        ]
        for (size, length) in cases {
            let body = [UInt8](repeating: 7, count: size)
            let packet = Curve25519Encryption.packet(18, body)
            #expect(Array(packet.prefix(1 + length.count)) == [0xD2] + length, "\(size)")
            let read = try #require(Curve25519Encryption.packets(packet + Curve25519Encryption.packet(11, [1])))
            #expect(read.map(\.tag) == [18, 11] && read.first?.body == body, "\(size)")
        }
        // A truncated packet and a partial length are not read.
        #expect(Curve25519Encryption.packets(Array(Curve25519Encryption.packet(14, [1, 2, 3]).dropLast())) == nil)
        #expect(Curve25519Encryption.packets([0xCE, 0xE1, 1, 2]) == nil)
    }

    @Test func sequoiaVerifiesADetachedSignature() throws {
        let signerSecret = try pgp.generateKey(userID: "Open Zaak <security@openzaak.example>")
        let signer = try pgp.readSecretKey(signerSecret).key
        let document = Array("{\"id\": \"OZ-2026-1\"}\n".utf8)
        let signature = try pgp.detachedSignature(
            of: document, by: [OpenPGPKeyMaterial(fingerprint: signer.fingerprint, bytes: signerSecret)])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(signature).write(to: folder.appendingPathComponent("doc.asc"))
        try Data(signer.armored.utf8).write(to: folder.appendingPathComponent("signer.cert"))
        let verified = try Sop.run(
            [
                "verify", folder.appendingPathComponent("doc.asc").path,
                folder.appendingPathComponent("signer.cert").path,
            ],
            input: document)
        #expect(String(decoding: verified, as: UTF8.self).contains(signer.fingerprint))
        // One byte changed: no longer verifies.
        #expect(throws: (any Error).self) {
            try Sop.run(
                [
                    "verify", folder.appendingPathComponent("doc.asc").path,
                    folder.appendingPathComponent("signer.cert").path,
                ],
                input: document + [10])
        }
    }
}

enum Sop {
    struct Failed: Error { let status: Int32 }

    /// A key Sequoia makes (it signs and encrypts), secret and unprotected.
    static func generateKey(_ userID: String) throws -> [UInt8] { try run(["generate-key", userID], input: []) }

    static func run(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqop")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(status: process.terminationStatus) }
        return Array(output)
    }
}

/// librnp closes the log descriptor it is given with its context: Herald's own files must not
/// be the ones it closes or writes to.
@Suite struct LibRNPDescriptorTests {
    @Test func readingKeysLeavesOtherFilesAlone() throws {
        let pgp = LibRNP()
        // A context made and dropped (a refused key logs a complaint)...
        #expect(throws: Refusal.self) { try pgp.readPublicKey(Array("not a key".utf8)) }
        // ...then a file of ours, opened after it, and more contexts made and dropped.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rnp-fd-\(UUID().uuidString)").path
        let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        for _ in 0..<3 { #expect(throws: Refusal.self) { try pgp.readPublicKey(Array("not a key".utf8)) } }
        let written = Array("ours\n".utf8)
        #expect(write(fd, written, written.count) == written.count)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "ours\n")
    }
}

@Suite struct LibRNPKeyringTests {
    /// One key sent in two forms (armored, then binary: a re-upload) and then enough others to
    /// unload recipients: each key is unloaded once, through its one handle.
    @Test func aKeySeenInTwoFormsIsUnloadedOnceAndStillUsable() throws {
        let pgp = LibRNP()
        let secret = try Sop.generateKey("Provider <ops@provider.example>")
        let key = try pgp.readSecretKey(secret).key
        let armored = OpenPGPKeyMaterial(fingerprint: key.fingerprint, bytes: Array(key.armored.utf8))
        let binary = OpenPGPKeyMaterial(fingerprint: key.fingerprint, bytes: try pgp.binary(Array(key.armored.utf8)))
        #expect(armored.bytes != binary.bytes)
        _ = try pgp.encrypt(Array("one".utf8), to: armored, signedBy: nil)
        _ = try pgp.encrypt(Array("two".utf8), to: binary, signedBy: nil)
        for index in 0..<40 {
            let other = try pgp.readSecretKey(try Sop.generateKey("Other \(index) <o\(index)@example.org>")).key
            _ = try pgp.encrypt(
                Array("x".utf8),
                to: OpenPGPKeyMaterial(fingerprint: other.fingerprint, bytes: Array(other.armored.utf8)),
                signedBy: nil)
        }
        let message = try pgp.encrypt(Array("three".utf8), to: armored, signedBy: nil)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(secret).write(to: folder.appendingPathComponent("key"))
        #expect(
            try Sop.run(["decrypt", folder.appendingPathComponent("key").path], input: message) == Array("three".utf8))
    }
}
