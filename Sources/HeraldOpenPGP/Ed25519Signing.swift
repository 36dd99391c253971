import Crypto
import Foundation

/// OpenPGP signatures by an Ed25519 primary key (EdDSA in its v4 form, RFC 4880bis section
/// 5.2.3 and RFC 9580's EdDSALegacy: what librnp generates for a project, and what GnuPG and
/// Sequoia verify), from swift-crypto's Ed25519. librnp took 115–120 µs to sign a notice,
/// most of it its own set-up around the signature (scripts/lib/librnp_ops.c); every private
/// notice of a fan-out is signed. `LibRNP` decides which keys may take this path: a key it
/// reads as valid, for signing, with no expiry and no subkeys, so that librnp would have
/// signed with this very key and no date can end that.
enum Ed25519Signing {
    /// What signing needs, read from an unprotected secret-key packet.
    struct Signer {
        let key: Curve25519.Signing.PrivateKey
        /// The primary key's v4 fingerprint (SHA-1 of its public packet).
        let fingerprint: [UInt8]
        var keyID: ArraySlice<UInt8> { fingerprint.suffix(8) }
    }

    /// The OID of Ed25519 for EdDSA (1.3.6.1.4.1.11591.15.1).
    static let curveOID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]
    private static let eddsa: UInt8 = 22
    private static let sha256: UInt8 = 8
    /// A signature over a binary document.
    private static let binaryDocument: UInt8 = 0x00

    /// The signer of `key` (an unprotected secret key, armored or binary) when its primary is
    /// an Ed25519 key with the fingerprint `fingerprint` (hex) and its secret matches its public
    /// point; nil otherwise, and the caller leaves the signing to librnp.
    static func signer(in key: [UInt8], fingerprint: String) -> Signer? {
        guard let binary = Curve25519Encryption.dearmored(key),
            let first = Curve25519Encryption.packets(binary)?.first, first.tag == 5
        else { return nil }
        let body = first.body
        // version 4, creation time (4), algorithm, OID length, OID, MPI bit count (2), 0x40 and
        // the point (32); then the secret: S2K usage 0 (unprotected), an MPI, a checksum (2).
        let publicEnd = 7 + curveOID.count + 2 + 33
        guard body.count > publicEnd + 3, body[0] == 4, body[5] == eddsa, body[6] == UInt8(curveOID.count),
            body[7..<(7 + curveOID.count)].elementsEqual(curveOID),
            body[publicEnd - 35] == 0x01, body[publicEnd - 34] == 0x07, body[publicEnd - 33] == 0x40,
            body[publicEnd] == 0
        else { return nil }
        let publicPart = Array(body[0..<publicEnd])
        let digest = Array(
            Insecure.SHA1.hash(data: [0x99, UInt8(publicPart.count >> 8), UInt8(publicPart.count & 0xFF)] + publicPart))
        guard Curve25519Encryption.bytes(hex: fingerprint) == digest else { return nil }
        let mpi = body[(publicEnd + 1)...]
        let bits = Int(mpi[mpi.startIndex]) << 8 | Int(mpi[mpi.startIndex + 1])
        let length = (bits + 7) / 8
        guard length <= 32, mpi.count == 2 + length + 2 else { return nil }
        let checksum = mpi.dropLast(2).reduce(0) { ($0 + Int($1)) & 0xFFFF }
        guard checksum == Int(mpi[mpi.endIndex - 2]) << 8 | Int(mpi[mpi.endIndex - 1]) else { return nil }
        // The seed as an MPI loses its leading zero octets.
        let seed = [UInt8](repeating: 0, count: 32 - length) + mpi.dropFirst(2).dropLast(2)
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed),
            key.publicKey.rawRepresentation.elementsEqual(body[(publicEnd - 32)..<publicEnd])
        else { return nil }
        return Signer(key: key, fingerprint: digest)
    }

    /// `data` as a signed message (one-pass signature, binary literal data, signature; SHA-256,
    /// uncompressed), as librnp's signing operation writes it: what goes inside the encryption.
    static func signedMessage(_ data: [UInt8], by signer: Signer, at date: Date) throws -> [UInt8] {
        let onePass = Curve25519Encryption.packet(4, [3, binaryDocument, sha256, eddsa] + signer.keyID + [1])
        return onePass + Curve25519Encryption.literal(data) + (try signature(of: data, by: signer, at: date))
    }

    /// A v4 signature packet over `data`: its creation time and the issuer's fingerprint hashed,
    /// the issuer's key ID not (what GnuPG writes).
    static func signature(of data: [UInt8], by signer: Signer, at date: Date) throws -> [UInt8] {
        let created = UInt32(clamping: Int64(date.timeIntervalSince1970))
        let subpackets: [UInt8] =
            [5, 2] + bigEndian(created)  // signature creation time
            + [22, 33, 4] + signer.fingerprint  // issuer fingerprint (v4)
        let hashed: [UInt8] = [4, binaryDocument, eddsa, sha256, 0, UInt8(subpackets.count)] + subpackets
        var hash = SHA256()
        hash.update(data: data)
        hash.update(data: hashed)
        hash.update(data: [4, 0xFF] + bigEndian(UInt32(hashed.count)))
        let digest = Array(hash.finalize())
        // EdDSA signs the digest itself; the native signature's halves are the MPIs R and S.
        let native = Array(try signer.key.signature(for: digest))
        let unhashed: [UInt8] = [0, 10, 9, 16] + signer.keyID  // issuer key ID
        return Curve25519Encryption.packet(
            2, hashed + unhashed + digest.prefix(2) + mpi(native[0..<32]) + mpi(native[32..<64]))
    }

    /// `bytes` as an MPI: a bit count, then the value without leading zero octets.
    static func mpi(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        let value = bytes.drop { $0 == 0 }
        guard let top = value.first else { return [0, 0] }
        let bits = (value.count - 1) * 8 + (8 - top.leadingZeroBitCount)
        return [UInt8(bits >> 8), UInt8(bits & 0xFF)] + value
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
