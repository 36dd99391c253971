import Crypto
import Foundation
import _CryptoExtras

/// OpenPGP encryption to a Curve25519 subkey (ECDH over cv25519, RFC 6637 with RFC 4880's
/// packets), from swift-crypto's primitives. librnp reads and verifies a recipient's whole key
/// on every use: 360–485 µs of the 655–795 µs a message costs with a key used once
/// (scripts/lib/librnp_ops.c), which is every provider in a fan-out. Keys are verified by
/// librnp once, when they are added; this path is taken only for the subkey that check chose,
/// found in the same stored bytes by its fingerprint, so nothing unverified is encrypted to.
enum Curve25519Encryption {
    /// What encrypting to a subkey needs, read from its public-subkey packet.
    struct Recipient: Equatable {
        /// The subkey's v4 fingerprint (SHA-1 of its packet): the KDF binds the shared key to it.
        let fingerprint: [UInt8]
        /// The X25519 public key, 32 bytes in its native (little-endian) form.
        let point: [UInt8]
    }

    /// The OID of Curve25519 for ECDH (1.3.6.1.4.1.3029.1.5.1).
    static let curveOID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01]
    private static let ecdh: UInt8 = 18
    private static let aes256: UInt8 = 9
    /// The KDF parameters this path takes: SHA-256 and AES-128 key wrap, what GnuPG, Sequoia
    /// and librnp write for Curve25519 (and what the tests decrypt). Any other goes to librnp.
    private static let kdfParameters: [UInt8] = [3, 1, 8, 7]

    /// The ECDH Curve25519 subkey whose fingerprint is `subkey` (hex) in `key` (armored or
    /// binary); nil when there is none, so the caller leaves the key to librnp.
    static func recipient(in key: [UInt8], subkey: String) -> Recipient? {
        guard let wanted = bytes(hex: subkey), let binary = dearmored(key), let packets = packets(binary) else {
            return nil
        }
        for (tag, body) in packets where tag == 14 && body.count <= 0xFFFF {
            let fingerprint = Array(
                Insecure.SHA1.hash(data: [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body))
            guard fingerprint == wanted else { continue }
            return parseSubkey(body, fingerprint: fingerprint)
        }
        return nil
    }

    /// A literal-data packet (binary, no name, no date) holding `data`: the message when
    /// nothing signs it.
    static func literal(_ data: [UInt8]) -> [UInt8] {
        packet(11, [0x62, 0, 0, 0, 0, 0] + data)
    }

    /// `message` (OpenPGP packets: a literal, or a signed message) encrypted to `recipient`
    /// with a new AES-256 session key, integrity-protected (SEIPD v1 with its MDC), armored.
    static func encrypt(_ message: [UInt8], to recipient: Recipient) throws -> [UInt8] {
        let sessionKey = SymmetricKey(size: .bits256)
        let keyBytes = sessionKey.withUnsafeBytes { Array($0) }

        // The session key, wrapped with a key agreed between a fresh ephemeral key and the subkey.
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let shared = try ephemeral.sharedSecretFromKeyAgreement(
            with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.point))
        let z = shared.withUnsafeBytes { Array($0) }
        // A point of small order gives 0, a secret anyone could compute (swift-crypto leaves
        // this check to the caller; librnp verifies signatures, not points).
        guard z.contains(where: { $0 != 0 }) else { throw OpenPGPError("the subkey's point is of small order") }
        var kdfInput: [UInt8] = [0, 0, 0, 1] + z + [UInt8(curveOID.count)] + curveOID + [ecdh] + kdfParameters
        kdfInput += Array("Anonymous Sender    ".utf8) + recipient.fingerprint
        let kek = SymmetricKey(data: Array(SHA256.hash(data: kdfInput)).prefix(16))
        let checksum = keyBytes.reduce(0) { ($0 + Int($1)) & 0xFFFF }
        var plainKey = [aes256] + keyBytes + [UInt8(checksum >> 8), UInt8(checksum & 0xFF)]
        let padding = 8 - plainKey.count % 8  // PKCS #5, as RFC 6637 section 8 asks
        plainKey += [UInt8](repeating: UInt8(padding), count: padding)
        let wrapped = try AES.KeyWrap.wrap(SymmetricKey(data: plainKey), using: kek)
        let ephemeralPoint = [0x40] + Array(ephemeral.publicKey.rawRepresentation)
        let publicKeyEncrypted =
            [3] + recipient.fingerprint.suffix(8) + [ecdh] + [0x01, 0x07] + ephemeralPoint  // an MPI of 263 bits
            + [UInt8(wrapped.count)] + Array(wrapped)

        // The message, after a random block whose last two bytes repeat, and a SHA-1 of it all.
        var prefix = (0..<16).map { _ in UInt8.random(in: .min ... .max) }  // the system's CSPRNG
        prefix += prefix[14..<16]
        var plain = prefix + message + [0xD3, 0x14]
        plain += Insecure.SHA1.hash(data: plain)
        let encrypted = try AES._CFB.encrypt(
            plain, using: sessionKey, iv: try AES._CFB.IV(ivBytes: [UInt8](repeating: 0, count: 16)))
        return armor(packet(1, publicKeyEncrypted) + packet(18, [1] + Array(encrypted)))
    }

    // MARK: - Packets

    /// A packet in the new format with a definite length.
    static func packet(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        let count = body.count
        let length: [UInt8] =
            count < 192
            ? [UInt8(count)]
            : count < 8384
                ? [UInt8((count - 192) >> 8 + 192), UInt8((count - 192) & 0xFF)]
                : [
                    0xFF, UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF),
                    UInt8(count & 0xFF),
                ]
        return [0xC0 | tag] + length + body
    }

    /// The packets of a key, as (tag, body); nil for anything a stored key should not hold
    /// (a partial length, a truncated packet).
    static func packets(_ bytes: [UInt8]) -> [(tag: UInt8, body: [UInt8])]? {
        var result: [(tag: UInt8, body: [UInt8])] = []
        var at = 0
        func next(_ count: Int) -> Int? {
            guard at + count <= bytes.count else { return nil }
            defer { at += count }
            return bytes[at..<at + count].reduce(0) { $0 << 8 | Int($1) }
        }
        while at < bytes.count {
            guard let header = next(1), header & 0x80 != 0 else { return nil }
            let tag: Int
            let length: Int?
            if header & 0x40 != 0 {
                tag = header & 0x3F
                switch next(1) {
                case let first? where first < 192: length = first
                case let first? where first < 224: length = next(1).map { (first - 192) << 8 + $0 + 192 }
                case 255?: length = next(4)
                default: return nil
                }
            } else {
                tag = header >> 2 & 0x0F
                switch header & 3 {
                case 0: length = next(1)
                case 1: length = next(2)
                case 2: length = next(4)
                default: return nil
                }
            }
            guard let length, at + length <= bytes.count else { return nil }
            result.append((UInt8(tag), Array(bytes[at..<at + length])))
            at += length
        }
        return result
    }

    /// A v4 ECDH subkey on Curve25519 with the KDF parameters this path takes: its point.
    private static func parseSubkey(_ body: [UInt8], fingerprint: [UInt8]) -> Recipient? {
        // version 4, creation time (4), algorithm, OID length, OID, MPI bit count (2), 0x40 and
        // the point (32), KDF parameters (length 3, reserved 1, hash, cipher).
        let oidEnd = 7 + curveOID.count
        guard body.count == oidEnd + 2 + 33 + 4, body[0] == 4, body[5] == ecdh, body[6] == UInt8(curveOID.count),
            Array(body[7..<oidEnd]) == curveOID, body[oidEnd] == 0x01, body[oidEnd + 1] == 0x07,
            body[oidEnd + 2] == 0x40
        else { return nil }
        guard body[(oidEnd + 35)...].elementsEqual(kdfParameters) else { return nil }
        return Recipient(fingerprint: fingerprint, point: Array(body[(oidEnd + 3)..<(oidEnd + 35)]))
    }

    // MARK: - Armor

    /// The bytes inside an ASCII armor, or `bytes` when they are binary already. Read as bytes:
    /// every notice of a fan-out reads its recipient's key, and splitting it as strings cost
    /// more than the X25519 exchange.
    static func dearmored(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.first.map({ $0 & 0x80 == 0 }) == true else { return bytes }
        // Lines without their end (LF, CR LF, CR) or surrounding blanks.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        func endsLine(_ index: Int) -> Bool {
            bytes[index] == 0x0A || (bytes[index] == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A))
        }
        for index in bytes.indices where endsLine(index) || index == bytes.count - 1 {
            let end = endsLine(index) ? index : index + 1
            var line = bytes[start..<end]
            while let last = line.last, last == 0x20 || last == 0x09 || last == 0x0D { line = line.dropLast() }
            while let first = line.first, first == 0x20 || first == 0x09 { line = line.dropFirst() }
            lines.append(line)
            start = index + 1
        }
        let begin = Array("-----BEGIN PGP ".utf8)
        let finish = Array("-----END PGP ".utf8)
        guard let opening = lines.firstIndex(where: { $0.starts(with: begin) }),
            let blank = lines[opening...].firstIndex(where: { $0.isEmpty }),
            let end = lines[blank...].firstIndex(where: { $0.starts(with: finish) })
        else { return nil }
        var body: [UInt8] = []
        for line in lines[(blank + 1)..<end] {
            guard line.first != UInt8(ascii: "=") else { break }
            body += line
        }
        return Data(base64Encoded: Data(body)).map(Array.init)
    }

    /// An ASCII-armored PGP MESSAGE: base64 in lines of 64, and the CRC-24 RFC 4880 asks for.
    static func armor(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        let crc = crc24(bytes)
        let checksum = Data([UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]).base64EncodedString()
        return Array("-----BEGIN PGP MESSAGE-----\n\n\(encoded)\n=\(checksum)\n-----END PGP MESSAGE-----\n".utf8)
    }

    /// RFC 4880's CRC-24 (section 6.1), a byte at a time by table.
    static func crc24(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xB7_04CE
        for byte in bytes {
            crc = (crc << 8 ^ crc24Table[Int((crc >> 16 ^ UInt32(byte)) & 0xFF)]) & 0xFF_FFFF
        }
        return crc
    }

    private static let crc24Table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index) << 16
        for _ in 0..<8 {
            crc <<= 1
            if crc & 0x100_0000 != 0 { crc ^= 0x186_4CFB }
        }
        return crc & 0xFF_FFFF
    }

    /// `hex` (either case) as bytes; nil when it is not whole hexadecimal octets.
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            result.append(high << 4 | low)
        }
        return result
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02X", $0) }.joined()
    }
}
