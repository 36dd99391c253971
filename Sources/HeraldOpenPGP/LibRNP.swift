import CRNP
import Foundation
import HeraldApp
import HeraldCore

/// The OpenPGP port over librnp (Debian `librnp-dev`): in-process, no agent, no files. An
/// `rnp_ffi_t` is not safe to share between threads, so each call borrows one from a small
/// pool; each keeps the keys it has loaded, by fingerprint, so a fan-out to 10,000 contacts
/// parses each key once per context, not once per message.
public final class LibRNP: OpenPGP, @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [Keyring] = []
    /// Signers whose signatures Herald makes itself (`Ed25519Signing`), by fingerprint, with
    /// the bytes they were read from; nil where librnp signs.
    private var ownSigners: [String: (bytes: [UInt8], signer: Ed25519Signing.Signer?)] = [:]
    /// How long a signer's secret stays loaded after its last signature: a project key that was
    /// replaced or removed is forgotten by the first signature after that, not kept in memory
    /// until the process ends.
    let signerIdleLimit: Duration
    /// When each signer last signed, by fingerprint.
    private var signerLastUse: [String: ContinuousClock.Instant] = [:]
    /// Counts the times signers were forgotten: a keyring made before the last time (it may hold
    /// their secrets) is not pooled again.
    private var generation = 0

    /// An empty pool; contexts are made as calls need them.
    public init(signerIdleLimit: Duration = .seconds(600)) {
        self.signerIdleLimit = signerIdleLimit
    }

    /// Reads one public key in a keyring of its own, so nothing it holds stays loaded.
    public func readPublicKey(_ bytes: [UInt8]) throws -> OpenPGPKey {
        do { return try readOnePublicKey(bytes) } catch let error as OpenPGPError {
            throw Refusal.invalid(field: "key", rule: "cannot be read: \(error)")
        }
    }

    private func readOnePublicKey(_ bytes: [UInt8]) throws -> OpenPGPKey {
        // A keyring of its own: nothing read here stays loaded.
        let keyring = try Keyring()
        let primaries = try keyring.importKeys(bytes, secret: true)
        guard primaries.count == 1, let key = primaries.first else {
            throw Refusal.invalid(
                field: "key",
                rule: primaries.isEmpty
                    ? "no OpenPGP public key found" : "the file holds \(primaries.count) keys; give exactly one")
        }
        if try key.hasSecret() {
            throw Refusal.invalid(field: "key", rule: "that is a secret key; give the public key only")
        }
        return try key.describe(armored: try key.export(secret: false))
    }

    /// Reads one unprotected secret key; a passphrase-protected one is refused with how to export it.
    public func readSecretKey(_ bytes: [UInt8]) throws -> (key: OpenPGPKey, secret: [UInt8]) {
        let keyring = try Keyring()
        let primaries = try keyring.importKeys(bytes, secret: true)
        guard primaries.count == 1, let key = primaries.first, try key.hasSecret() else {
            throw Refusal.invalid(
                field: "key", rule: primaries.count > 1 ? "the file holds several keys" : "no OpenPGP secret key found")
        }
        guard try !key.isProtected() else {
            throw Refusal.invalid(
                field: "key",
                rule: "the secret key is protected by a passphrase; export it without one (Herald encrypts it at rest)")
        }
        return (try key.describe(armored: try key.export(secret: false)), Array(try key.export(secret: true).utf8))
    }

    /// An Ed25519 signing key without expiry, and without an encryption subkey: its secret
    /// stays inside Herald, so nothing should be encrypted to it.
    public func generateKey(userID: String) throws -> [UInt8] {
        let keyring = try Keyring()
        let request: [String: Any] = [
            // No expiry (librnp's default is two years): a project rotates its key by choice.
            "primary": ["type": "EDDSA", "userid": userID, "usage": ["sign", "certify"], "expiration": 0]
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        var results: UnsafeMutablePointer<CChar>?
        try check(rnp_generate_key_json(keyring.ffi, json, &results), "generating a key")
        defer { rnp_buffer_destroy(results) }
        guard let results, let grip = Self.primaryGrip(String(cString: results)) else {
            throw OpenPGPError("generating a key gave no key")
        }
        let key = try keyring.locate("grip", grip)
        return Array(try key.export(secret: true).utf8)
    }

    /// Encrypted (AES-256, uncompressed) to the recipient's encryption key and signed (SHA-256), armored.
    /// To a Curve25519 subkey verified when the key was added (`encryptionSubkey`), the
    /// encryption is Herald's own over swift-crypto, and so is the signature by an Ed25519
    /// project key (`ownSigner`); otherwise librnp signs, or does both.
    public func encrypt(_ plaintext: [UInt8], to recipient: OpenPGPKeyMaterial, signedBy signer: OpenPGPKeyMaterial?)
        throws -> [UInt8]
    {
        signing(signer.map { [$0.fingerprint] } ?? [])
        if let subkey = recipient.encryptionSubkey, subkey.expires.map({ $0 > Date() }) ?? true,
            let verified = Curve25519Encryption.recipient(in: recipient.bytes, subkey: subkey.fingerprint)
        {
            let message =
                try signer.map { signer in
                    try ownSigner(signer).map { try Ed25519Signing.signedMessage(plaintext, by: $0, at: Date()) }
                        ?? signed(plaintext, by: signer)
                } ?? Curve25519Encryption.literal(plaintext)
            return try Curve25519Encryption.encrypt(message, to: verified)
        }
        return try withKeyring { keyring in
            let recipientKey = try keyring.loaded(recipient)
            let signerKey = try signer.map { try keyring.loaded($0, keep: true) }
            return try Self.run(input: plaintext) { input, output in
                var op: rnp_op_encrypt_t?
                try check(rnp_op_encrypt_create(&op, keyring.ffi, input, output), "encrypting")
                defer { rnp_op_encrypt_destroy(op) }
                try check(rnp_op_encrypt_add_recipient(op, recipientKey.handle), "adding the recipient's key")
                if let signerKey {
                    try check(rnp_op_encrypt_add_signature(op, signerKey.handle, nil), "adding the signature")
                    try check(rnp_op_encrypt_set_hash(op, "SHA256"), "choosing the hash")
                }
                try check(rnp_op_encrypt_set_cipher(op, "AES256"), "choosing the cipher")
                // A text of a few KiB: compression would cost more time than it saves bytes.
                try check(rnp_op_encrypt_set_compression(op, "Uncompressed", 0), "choosing no compression")
                try check(rnp_op_encrypt_set_armor(op, true), "armoring")
                try check(rnp_op_encrypt_execute(op), "encrypting")
            }
        }
    }

    /// The signer of `material` when Herald signs for it itself: an Ed25519 key librnp reads
    /// as valid for signing, with no expiry (of the key or of a self-signature) and no
    /// subkeys, so librnp would sign with this very key and no date ends that (a revocation
    /// comes as new bytes, read again). Decided once per key and bytes.
    func ownSigner(_ material: OpenPGPKeyMaterial) throws -> Ed25519Signing.Signer? {
        if let known = lock.withLock({ ownSigners[material.fingerprint] }), known.bytes == material.bytes {
            return known.signer
        }
        let signer = try withKeyring { keyring -> Ed25519Signing.Signer? in
            let key = try keyring.loaded(material, keep: true)
            var signs = false
            var subkeys = 0
            var expires: UInt32 = 0
            // Valid till the end of time: no expiry of the key nor of a self-signature.
            var validTill: UInt64 = 0
            try check(rnp_key_allows_usage(key.handle, "sign", &signs), "reading a key's usage")
            try check(rnp_key_get_subkey_count(key.handle, &subkeys), "reading the subkeys")
            try check(rnp_key_get_expiration(key.handle, &expires), "reading the key's expiry")
            try check(rnp_key_valid_till64(key.handle, &validTill), "reading the key's validity")
            guard signs, subkeys == 0, expires == 0, validTill >= UInt64(UInt32.max), try key.flag(rnp_key_is_valid),
                try !key.flag(rnp_key_is_revoked)
            else { return nil }
            return Ed25519Signing.signer(in: material.bytes, fingerprint: material.fingerprint)
        }
        lock.withLock { ownSigners[material.fingerprint] = (material.bytes, signer) }
        return signer
    }

    /// `plaintext` as a signed OpenPGP message (one-pass signature, literal data, signature;
    /// SHA-256, uncompressed, binary): what goes inside the encryption.
    func signed(_ plaintext: [UInt8], by signer: OpenPGPKeyMaterial) throws -> [UInt8] {
        try withKeyring { keyring in
            let signerKey = try keyring.loaded(signer, keep: true)
            return try Self.run(input: plaintext) { input, output in
                var op: rnp_op_sign_t?
                try check(rnp_op_sign_create(&op, keyring.ffi, input, output), "signing")
                defer { rnp_op_sign_destroy(op) }
                try check(rnp_op_sign_add_signature(op, signerKey.handle, nil), "adding the signature")
                try check(rnp_op_sign_set_hash(op, "SHA256"), "choosing the hash")
                try check(rnp_op_sign_set_compression(op, "Uncompressed", 0), "choosing no compression")
                try check(rnp_op_sign_set_armor(op, false), "choosing binary")
                try check(rnp_op_sign_execute(op), "signing")
            }
        }
    }

    /// A detached signature (SHA-256) by each signer, in one armored block.
    public func detachedSignature(of data: [UInt8], by signers: [OpenPGPKeyMaterial]) throws -> [UInt8] {
        signing(signers.map(\.fingerprint))
        return try withKeyring { keyring in
            let signerKeys = try signers.map { try keyring.loaded($0, keep: true) }
            return try Self.run(input: data) { input, output in
                var op: rnp_op_sign_t?
                try check(rnp_op_sign_detached_create(&op, keyring.ffi, input, output), "signing")
                defer { rnp_op_sign_destroy(op) }
                for signerKey in signerKeys {
                    try check(rnp_op_sign_add_signature(op, signerKey.handle, nil), "adding a signature")
                }
                try check(rnp_op_sign_set_hash(op, "SHA256"), "choosing the hash")
                try check(rnp_op_sign_set_armor(op, true), "armoring")
                try check(rnp_op_sign_execute(op), "signing")
            }
        }
    }

    /// The armor taken off.
    public func binary(_ armored: [UInt8]) throws -> [UInt8] {
        try Self.run(input: armored) { input, output in try check(rnp_dearmor(input, output), "removing the armor") }
    }

    // MARK: - Plumbing

    /// Notes that `fingerprints` sign now, and forgets every other signer that has not signed
    /// for `signerIdleLimit`: its Ed25519 key, and every pooled keyring (any may hold its secret).
    private func signing(_ fingerprints: [String]) {
        guard !fingerprints.isEmpty else { return }
        let dropped = lock.withLock { () -> [Keyring] in
            let now = ContinuousClock.now
            for fingerprint in fingerprints { signerLastUse[fingerprint] = now }
            guard signerLastUse.values.contains(where: { now - $0 > signerIdleLimit }) else { return [] }
            for fingerprint in signerLastUse.filter({ now - $0.value > signerIdleLimit }).keys {
                signerLastUse[fingerprint] = nil
                ownSigners[fingerprint] = nil
            }
            generation += 1
            defer { idle.removeAll() }
            return idle
        }
        for keyring in dropped { keyring.unloadAll() }
    }

    /// The signers whose secrets are held: Herald's own, and those loaded in a pooled keyring.
    var signersHeld: Set<String> {
        lock.withLock { Set(ownSigners.keys).union(idle.flatMap(\.signers)) }
    }

    private func withKeyring<T>(_ body: (Keyring) throws -> T) throws -> T {
        let (pooled, generation) = lock.withLock { (idle.popLast(), self.generation) }
        let keyring = try pooled ?? Keyring(generation: generation)
        defer {
            let pooled = lock.withLock {
                guard idle.count < 16 && keyring.generation == self.generation else { return false }
                idle.append(keyring)
                return true
            }
            if !pooled { keyring.unloadAll() }
        }
        return try body(keyring)
    }

    /// The keyrings in the pool, for tests.
    var pooled: [Keyring] { lock.withLock { idle } }

    /// Runs one operation from `input` to a memory output; returns what it wrote.
    private static func run(input bytes: [UInt8], _ operation: (rnp_input_t?, rnp_output_t?) throws -> Void) throws
        -> [UInt8]
    {
        var output: rnp_output_t?
        try check(rnp_output_to_memory(&output, 0), "making an output")
        defer { rnp_output_destroy(output) }
        try bytes.withUnsafeBufferPointer { buffer in
            var input: rnp_input_t?
            try check(
                rnp_input_from_memory(&input, buffer.baseAddress ?? UnsafePointer(bitPattern: 1), buffer.count, false),
                "reading the input")
            defer { rnp_input_destroy(input) }
            try operation(input, output)
        }
        var data: UnsafeMutablePointer<UInt8>?
        var length = 0
        try check(rnp_output_memory_get_buf(output, &data, &length, false), "reading the output")
        guard let data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    static func primaryGrip(_ results: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(results.utf8)) as? [String: Any],
            let primary = object["primary"] as? [String: Any]
        else { return nil }
        return primary["grip"] as? String
    }
}

/// What went wrong inside the library: a fault, not a user's mistake (those are refusals).
public struct OpenPGPError: Error, CustomStringConvertible, Sendable {
    /// What failed and the library's word for it.
    public let description: String
    init(_ description: String) { self.description = description }
}

func check(_ result: rnp_result_t, _ doing: String) throws {
    guard result != RNP_SUCCESS else { return }
    throw OpenPGPError("\(doing): \(String(cString: rnp_result_to_string(result)))")
}

/// One librnp context and the keys loaded into it.
final class Keyring {
    let ffi: rnp_ffi_t
    /// By fingerprint: the one handle, a hash of the bytes it was loaded from, whether a signer uses it.
    private var loadedKeys: [String: (key: KeyHandle, bytesHash: Int, keep: Bool)] = [:]
    /// The recipients' keys among them, oldest first.
    private var transient: [String] = []
    /// `LibRNP.generation` when it was made.
    let generation: Int

    /// The fingerprints of the signers loaded, with their secrets.
    var signers: [String] { loadedKeys.filter(\.value.keep).map(\.key) }

    init(generation: Int = 0) throws {
        self.generation = generation
        var ffi: rnp_ffi_t?
        try check(rnp_ffi_create(&ffi, "GPG", "GPG"), "starting librnp")
        guard let ffi else { throw OpenPGPError("starting librnp gave no context") }
        self.ffi = ffi
        // librnp writes its parser's complaints to stderr; Herald says what was wrong itself.
        // librnp wraps the descriptor in a FILE and closes it with the context: each gets its own.
        let log = dup(Self.devNull)
        if log >= 0 && rnp_ffi_set_log_fd(ffi, log) != RNP_SUCCESS { close(log) }
    }

    private static let devNull = open("/dev/null", O_WRONLY)

    deinit {
        loadedKeys.removeAll()
        rnp_ffi_destroy(ffi)
    }

    /// Lets go of the keys it loaded. Each handle keeps its keyring alive, so a keyring that
    /// leaves the pool with keys loaded would never be freed, nor librnp's context and the
    /// secrets in it destroyed: called as it leaves.
    func unloadAll() {
        loadedKeys.removeAll()
        transient.removeAll()
    }

    /// The key of `material`, imported the first time it is asked for, one handle per
    /// fingerprint. Bytes that differ from those loaded (a key sent again with a new subkey,
    /// revocation or expiry) are imported again, and librnp merges them into the same key, so
    /// the newest state is the one used. Signers (`keep`) stay loaded; recipients only for a
    /// while: librnp finds a key by walking its whole keyring, so a keyring that kept every
    /// recipient of a 10,000-provider fan-out would make each send slower than the one before.
    func loaded(_ material: OpenPGPKeyMaterial, keep: Bool = false) throws -> KeyHandle {
        let bytesHash = material.bytes.hashValue
        if let entry = loadedKeys[material.fingerprint] {
            // A recipient's key is loaded without secret parts: asked for as a signer, it is loaded again.
            if entry.bytesHash == bytesHash && (entry.keep || !keep) { return entry.key }
        } else if !keep && transient.count >= Self.transientLimit {
            try forgetTransient()
        }
        // Imported without librnp's JSON report: the fingerprint Herald stored finds the key.
        try load(material.bytes, secret: keep)
        guard let key = try? locate("fingerprint", material.fingerprint) else {
            throw OpenPGPError("the stored key is not \(material.fingerprint)")
        }
        let wasLoaded = loadedKeys[material.fingerprint] != nil
        loadedKeys[material.fingerprint] = (key, bytesHash, keep || loadedKeys[material.fingerprint]?.keep == true)
        if !keep && !wasLoaded { transient.append(material.fingerprint) }
        return key
    }

    /// How many recipients' keys a keyring keeps loaded.
    static let transientLimit = 32

    /// Unloads the recipients' keys; a key also used as a signer stays. One handle per
    /// fingerprint, so no other handle of ours points at a key once it is removed.
    private func forgetTransient() throws {
        for fingerprint in transient {
            guard let entry = loadedKeys[fingerprint], !entry.keep else { continue }
            loadedKeys[fingerprint] = nil
            try check(
                rnp_key_remove(entry.key.handle, UInt32(RNP_KEY_REMOVE_PUBLIC | RNP_KEY_REMOVE_SUBKEYS)),
                "unloading a key")
        }
        transient.removeAll()
    }

    /// Imports every key in `bytes`, secret parts too when `secret`; reports nothing back.
    private func load(_ bytes: [UInt8], secret: Bool) throws {
        try check(importing(bytes, secret: secret, results: nil), "loading a key")
    }

    /// `rnp_import_keys` over `bytes`; its JSON report in `results` when given.
    private func importing(
        _ bytes: [UInt8], secret: Bool, results: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> rnp_result_t {
        bytes.withUnsafeBufferPointer { buffer -> rnp_result_t in
            var input: rnp_input_t?
            let made = rnp_input_from_memory(
                &input, buffer.baseAddress ?? UnsafePointer(bitPattern: 1), buffer.count, false)
            guard made == RNP_SUCCESS else { return made }
            defer { rnp_input_destroy(input) }
            let flags = RNP_LOAD_SAVE_PUBLIC_KEYS | (secret ? RNP_LOAD_SAVE_SECRET_KEYS : 0)
            return rnp_import_keys(ffi, input, UInt32(flags), results)
        }
    }

    /// Imports every key in `bytes`; returns the primary keys among them.
    func importKeys(_ bytes: [UInt8], secret: Bool) throws -> [KeyHandle] {
        var results: UnsafeMutablePointer<CChar>?
        let status = importing(bytes, secret: secret, results: &results)
        defer { rnp_buffer_destroy(results) }
        guard status == RNP_SUCCESS, let results else {
            throw Refusal.invalid(
                field: "key", rule: "not an OpenPGP key (\(String(cString: rnp_result_to_string(status))))")
        }
        guard
            let object = try? JSONSerialization.jsonObject(with: Data(String(cString: results).utf8)) as? [String: Any],
            let keys = object["keys"] as? [[String: Any]]
        else { return [] }
        var primaries: [KeyHandle] = []
        var seen = Set<String>()
        for entry in keys {
            guard let fingerprint = entry["fingerprint"] as? String, seen.insert(fingerprint).inserted else { continue }
            let key = try locate("fingerprint", fingerprint)
            var primary = false
            try check(rnp_key_is_primary(key.handle, &primary), "reading the key")
            if primary { primaries.append(key) }
        }
        return primaries
    }

    func locate(_ kind: String, _ value: String) throws -> KeyHandle {
        var handle: rnp_key_handle_t?
        try check(rnp_locate_key(ffi, kind, value, &handle), "finding the key")
        guard let handle else { throw OpenPGPError("no key with \(kind) \(value)") }
        return KeyHandle(handle, owner: self)
    }
}

/// A key handle, destroyed with its owner.
final class KeyHandle {
    let handle: rnp_key_handle_t
    /// The context the handle lives in, kept alive as long as the handle.
    private let owner: Keyring
    init(_ handle: rnp_key_handle_t, owner: Keyring) {
        self.handle = handle
        self.owner = owner
    }
    deinit { rnp_key_handle_destroy(handle) }

    func fingerprint() throws -> String { try string(rnp_key_get_fprint) }

    func hasSecret() throws -> Bool { try flag(rnp_key_have_secret) }

    func isProtected() throws -> Bool { try flag(rnp_key_is_protected) }

    /// The key armored: its public parts, or its secret parts too; with its subkeys.
    func export(secret: Bool) throws -> String {
        var output: rnp_output_t?
        try check(rnp_output_to_memory(&output, 0), "making an output")
        defer { rnp_output_destroy(output) }
        let flags =
            RNP_KEY_EXPORT_ARMORED | RNP_KEY_EXPORT_SUBKEYS | (secret ? RNP_KEY_EXPORT_SECRET : RNP_KEY_EXPORT_PUBLIC)
        try check(rnp_key_export(handle, output, UInt32(flags)), "exporting the key")
        var data: UnsafeMutablePointer<UInt8>?
        var length = 0
        try check(rnp_output_memory_get_buf(output, &data, &length, false), "reading the key")
        guard let data else { return "" }
        return String(decoding: UnsafeBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// What Herald shows and checks of a primary key.
    func describe(armored: String) throws -> OpenPGPKey {
        var created: UInt32 = 0
        try check(rnp_key_get_creation(handle, &created), "reading the key")
        var bits: UInt32 = 0
        try check(rnp_key_get_bits(handle, &bits), "reading the key")
        let algorithm = try string(rnp_key_get_alg)
        let curve = try? string(rnp_key_get_curve)
        var userIDs: [String] = []
        var count = 0
        try check(rnp_key_get_uid_count(handle, &count), "reading the user IDs")
        for index in 0..<count {
            var uid: rnp_uid_handle_t?
            try check(rnp_key_get_uid_handle_at(handle, index, &uid), "reading a user ID")
            defer { rnp_uid_handle_destroy(uid) }
            var revoked = false
            var valid = false
            try check(rnp_uid_is_revoked(uid, &revoked), "reading a user ID")
            try check(rnp_uid_is_valid(uid, &valid), "reading a user ID")
            guard valid && !revoked else { continue }
            var text: UnsafeMutablePointer<CChar>?
            try check(rnp_key_get_uid_at(handle, index, &text), "reading a user ID")
            defer { rnp_buffer_destroy(text) }
            if let text { userIDs.append(String(cString: text)) }
        }
        // The keys that may encrypt (the primary, or subkeys), not revoked: the latest date one
        // of them is valid till is when encrypting to this key stops being possible.
        var candidates = [self]
        var subkeys = 0
        try check(rnp_key_get_subkey_count(handle, &subkeys), "reading the subkeys")
        for index in 0..<subkeys {
            var sub: rnp_key_handle_t?
            try check(rnp_key_get_subkey_at(handle, index, &sub), "reading a subkey")
            if let sub { candidates.append(KeyHandle(sub, owner: owner)) }
        }
        let revoked = try flag(rnp_key_is_revoked)
        var canEncrypt = false
        var validTill: UInt64 = 0
        // The subkey to encrypt to, as librnp chooses one: the primary key when it encrypts
        // (then none is recorded and librnp encrypts), else the first-made of the newest
        // usable subkeys.
        var newest: (created: UInt32, subkey: EncryptionSubkey)?
        var primaryEncrypts = false
        let now = UInt64(Date().timeIntervalSince1970)
        for (index, candidate) in candidates.enumerated() {
            var allows = false
            try check(rnp_key_allows_usage(candidate.handle, "encrypt", &allows), "reading a key's usage")
            guard allows, try !candidate.flag(rnp_key_is_revoked) else { continue }
            var till: UInt64 = 0
            try check(rnp_key_valid_till64(candidate.handle, &till), "reading a key's validity")
            guard till > 0 else { continue }
            canEncrypt = true
            validTill = max(validTill, till)
            guard index > 0 else {
                primaryEncrypts = true
                continue
            }
            let usableTill = min(till, try candidate.bindingExpiry() ?? UInt64.max)
            var created: UInt32 = 0
            try check(rnp_key_get_creation(candidate.handle, &created), "reading a subkey")
            guard usableTill > now, newest.map({ created > $0.created }) ?? true else { continue }
            let expires = usableTill >= UInt64(UInt32.max) ? nil : Date(timeIntervalSince1970: Double(usableTill))
            newest = (created, EncryptionSubkey(fingerprint: try candidate.fingerprint(), expires: expires))
        }
        let encryptionSubkey = primaryEncrypts ? nil : newest?.subkey
        // A key past its expiry reads as valid till a past instant; one that never expires, as the maximum.
        let expires: Date? =
            canEncrypt
            ? (validTill >= UInt64(UInt32.max) ? nil : Date(timeIntervalSince1970: Double(validTill)))
            : try primaryExpiry(created: created)
        return OpenPGPKey(
            fingerprint: try fingerprint(), algorithm: curve.map { "\(algorithm) \($0)" } ?? "\(algorithm) \(bits)",
            created: Date(timeIntervalSince1970: Double(created)), expires: expires, userIDs: userIDs,
            canEncrypt: canEncrypt, revoked: revoked, armored: armored, encryptionSubkey: encryptionSubkey)
    }

    /// When the newest valid binding signature of this subkey expires (seconds since 1970),
    /// nil when it does not: librnp's validity counts the key's expiry, not the signature's.
    func bindingExpiry() throws -> UInt64? {
        var count = 0
        try check(rnp_key_get_signature_count(handle, &count), "reading a subkey's signatures")
        var newest: (created: UInt32, expires: UInt32)?
        for index in 0..<count {
            var signature: rnp_signature_handle_t?
            try check(rnp_key_get_signature_at(handle, index, &signature), "reading a subkey's signature")
            defer { rnp_signature_handle_destroy(signature) }
            var type: UnsafeMutablePointer<CChar>?
            try check(rnp_signature_get_type(signature, &type), "reading a subkey's signature")
            let isBinding = type.map { String(cString: $0) == "subkey binding" } ?? false
            rnp_buffer_destroy(type)
            guard isBinding, rnp_signature_is_valid(signature, 0) == RNP_SUCCESS else { continue }
            var created: UInt32 = 0
            var expires: UInt32 = 0
            try check(rnp_signature_get_creation(signature, &created), "reading a subkey's signature")
            try check(rnp_signature_get_expiration(signature, &expires), "reading a subkey's signature")
            if newest.map({ created >= $0.created }) ?? true { newest = (created, expires) }
        }
        guard let newest, newest.expires > 0 else { return nil }
        return UInt64(newest.created) + UInt64(newest.expires)
    }

    /// The primary key's own expiry, for the message that says a key expired.
    private func primaryExpiry(created: UInt32) throws -> Date? {
        var seconds: UInt32 = 0
        try check(rnp_key_get_expiration(handle, &seconds), "reading the key's expiry")
        return seconds == 0 ? nil : Date(timeIntervalSince1970: Double(created) + Double(seconds))
    }

    func flag(_ read: (rnp_key_handle_t?, UnsafeMutablePointer<Bool>?) -> rnp_result_t) throws -> Bool {
        var value = false
        try check(read(handle, &value), "reading the key")
        return value
    }

    private func string(
        _ read: (rnp_key_handle_t?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> rnp_result_t
    )
        throws -> String
    {
        var text: UnsafeMutablePointer<CChar>?
        try check(read(handle, &text), "reading the key")
        defer { rnp_buffer_destroy(text) }
        return text.map { String(cString: $0) } ?? ""
    }
}
