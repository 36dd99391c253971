import Foundation
import HeraldCore

/// A key as the OpenPGP port takes it: its bytes, and its fingerprint, by which an
/// implementation may keep it loaded between calls.
public struct OpenPGPKeyMaterial: Sendable, Equatable {
    /// The primary key's fingerprint.
    public var fingerprint: String
    /// The key, armored or binary (a secret key: unprotected, only ever in memory).
    public var bytes: [UInt8]
    /// The subkey to encrypt to, as `OpenPGPKey.encryptionSubkey` chose it when the key was
    /// read and verified, and while it is usable; nil to let the library choose.
    public var encryptionSubkey: EncryptionSubkey?

    /// Creates the value.
    public init(fingerprint: String, bytes: [UInt8], encryptionSubkey: EncryptionSubkey? = nil) {
        self.fingerprint = fingerprint
        self.bytes = bytes
        self.encryptionSubkey = encryptionSubkey
    }
}

/// The OpenPGP library, behind a port: librnp today; a Stateless OpenPGP (SOP) command could
/// stand in. Every call is safe from any thread.
public protocol OpenPGP: Sendable {
    /// Reads exactly one public key (armored or binary). A file with a secret key, with
    /// several keys, or that is no key at all is refused.
    func readPublicKey(_ bytes: [UInt8]) throws -> OpenPGPKey
    /// Reads exactly one unprotected secret key; returns its public view and the secret key armored.
    func readSecretKey(_ bytes: [UInt8]) throws -> (key: OpenPGPKey, secret: [UInt8])
    /// A new signing key for `userID` (Ed25519, no encryption subkey); returns the secret key
    /// armored, unprotected.
    func generateKey(userID: String) throws -> [UInt8]
    /// `plaintext` encrypted to `recipient` and signed by `signer`, ASCII-armored.
    func encrypt(_ plaintext: [UInt8], to recipient: OpenPGPKeyMaterial, signedBy signer: OpenPGPKeyMaterial?) throws
        -> [UInt8]
    /// A detached, ASCII-armored signature of `data`: one signature packet by each of `signers`.
    func detachedSignature(of data: [UInt8], by signers: [OpenPGPKeyMaterial]) throws -> [UInt8]
    /// The key without its ASCII armor, as the Web Key Directory serves it.
    func binary(_ armored: [UInt8]) throws -> [UInt8]
}
