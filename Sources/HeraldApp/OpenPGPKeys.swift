import Foundation
import HeraldCore

/// A provider's key for one of its contact addresses, as stored.
public struct ProviderKey: Equatable, Sendable {
    /// The contact address it encrypts for.
    public var email: String
    /// The key.
    public var key: OpenPGPKey
    /// When it was added, and by whom (`cli:…`, `portal:…`, `token:…`).
    public var addedAt: Date
    /// Who added it.
    public var addedBy: String

    /// Creates the value.
    public init(email: String, key: OpenPGPKey, addedAt: Date, addedBy: String) {
        self.email = email
        self.key = key
        self.addedAt = addedAt
        self.addedBy = addedBy
    }
}

extension ProviderKey: Encodable {
    private enum CodingKeys: String, CodingKey {
        // `userIds`: Herald's JSON is snake_case, and `userIDs` would become `user_i_ds`.
        case email, fingerprint, algorithm, created, expires
        case userIDs = "userIds"
        case addedAt, addedBy
    }

    /// The key as the CLI's `--json` and the admin API list it: its facts, not its bytes.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(email, forKey: .email)
        try container.encode(key.fingerprint, forKey: .fingerprint)
        try container.encode(key.algorithm, forKey: .algorithm)
        try container.encode(key.created, forKey: .created)
        try container.encodeIfPresent(key.expires, forKey: .expires)
        try container.encode(key.userIDs, forKey: .userIDs)
        try container.encode(addedAt, forKey: .addedAt)
        try container.encode(addedBy, forKey: .addedBy)
    }
}

/// A project's signing key as stored: the public key, and the secret sealed at rest.
public struct ProjectKey: Equatable, Sendable {
    /// The primary key's fingerprint.
    public var fingerprint: String
    /// The public key, armored.
    public var publicKey: String
    /// The secret key, sealed by the vault.
    public var sealedSecret: [UInt8]
    /// When it was stored.
    public var createdAt: Date
    /// Whether others can encrypt to it: only a key whose secret the release managers hold
    /// (an imported one) should be, and only then is it offered for encryption.
    public var canEncrypt: Bool
    /// The addresses its user IDs name.
    public var addresses: [String]

    /// Creates the value.
    public init(
        fingerprint: String, publicKey: String, sealedSecret: [UInt8], createdAt: Date, canEncrypt: Bool = false,
        addresses: [String] = []
    ) {
        self.fingerprint = fingerprint
        self.publicKey = publicKey
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.canEncrypt = canEncrypt
        self.addresses = addresses
    }
}

/// Where keys are kept: the SQLite adapter implements it.
public protocol KeyRecords {
    /// The keys of provider `id`, by address.
    func providerKeys(of provider: Int64) throws -> [ProviderKey]
    /// Stores `key` for address `email` of `provider`, replacing the address's key if it had
    /// one; returns the replaced key's fingerprint. No audit row.
    func setProviderKey(_ key: OpenPGPKey, provider: Int64, email: String, at: Date, actor: String) throws -> String?
    /// Removes the key with `fingerprint` (or ending in that key ID) from every address of
    /// `provider`, or from `email` only; returns the addresses it served.
    func removeProviderKey(provider: Int64, fingerprint: String, email: String?) throws -> [String]
    /// The signing key of project `id`, if it has one.
    func projectKey(of project: Int64) throws -> ProjectKey?
    /// Stores a project's signing key, replacing any.
    func setProjectKey(_ key: ProjectKey, project: Int64) throws
}

/// Finds a contact's key on the web server of its address's domain (the Web Key Directory).
public protocol KeyDirectory: Sendable {
    /// Where `email`'s key may be published, in the order to ask; empty for a text that is no address.
    func places(for email: String) -> [String]
    /// What `url` answers.
    func fetch(_ url: String) -> KeyAnswer
}

/// What one place of a key directory answered.
public enum KeyAnswer: Equatable, Sendable {
    /// Bytes that may be a key (binary, as the directory serves them).
    case key([UInt8])
    /// No key, and why (`HTTP 404`, a refused host, a failed TLS handshake).
    case none(String)
}

/// What fetching a key did for one address.
public struct KeyFetch: Equatable, Sendable {
    /// The contact address.
    public var email: String
    /// Where the key came from, when one was found.
    public var url: String?
    /// The key as stored, or nil with `problem` saying why none was.
    public var stored: ProviderKey?
    /// Why no key was stored.
    public var problem: String?
}

/// Seals secrets at rest under a key the operator keeps outside the database.
public protocol SecretVault: Sendable {
    /// `secret` encrypted and authenticated.
    func seal(_ secret: [UInt8]) throws -> [UInt8]
    /// What `seal` sealed; a refusal when the vault's key is not the one that sealed it.
    func open(_ sealed: [UInt8]) throws -> [UInt8]
}

/// The OpenPGP use cases: providers' keys (checked at upload) and projects' signing keys.
public struct OpenPGPKeys {
    let work: any UnitOfWork
    let records: any KeyRecords
    let roster: any ProviderRoster
    let projects: any ProjectDirectory
    let pgp: any OpenPGP
    let audit: any AuditTrail
    let clock: any Clock

    /// Wires the use cases to their ports.
    public init(
        work: any UnitOfWork, records: any KeyRecords, roster: any ProviderRoster, projects: any ProjectDirectory,
        pgp: any OpenPGP, audit: any AuditTrail, clock: any Clock
    ) {
        self.work = work
        self.records = records
        self.roster = roster
        self.projects = projects
        self.pgp = pgp
        self.audit = audit
        self.clock = clock
    }

    /// Adds a provider's public key: for `email`, or, when nil, for each of its contact
    /// addresses the key's user IDs name. The key must be able to encrypt, be neither expired
    /// nor revoked, and name the address; it replaces the address's old key (audited, with
    /// both fingerprints, and `source`, where a fetched key came from). Returns the keys as stored.
    @discardableResult
    public func addProviderKey(
        _ bytes: [UInt8], provider id: Int64, email: String?, source: String? = nil, actor: String
    ) throws
        -> [ProviderKey]
    {
        guard bytes.count <= OpenPGPKey.maxArmoredBytes else {
            throw Refusal.invalid(field: "key", rule: "at most \(OpenPGPKey.maxArmoredBytes / 1024) KiB")
        }
        let now = clock.now
        let provider = try roster.get(id)
        guard provider.status != .removed else {
            throw Refusal.illegalTransition(
                subject: "provider \(id) (\(provider.organization))", state: "removed", action: "add a key",
                allowedFrom: ["pending-confirmation", "pending-approval", "active", "suspended"])
        }
        let key = try pgp.readPublicKey(bytes)
        let targets: [String]
        if let email {
            targets = [try Self.contact(email, of: provider)]
        } else {
            targets = provider.emails.filter { key.addresses.contains($0.lowercased()) }
            guard !targets.isEmpty else {
                let named = key.addresses.isEmpty ? "no address" : key.addresses.joined(separator: ", ")
                throw Refusal.invalid(
                    field: "key",
                    rule:
                        "the key's user IDs name \(named); none is an address of provider \(id) (\(provider.emails.joined(separator: ", ")))"
                )
            }
        }
        for target in targets {
            guard let refusal = key.refusal(for: target, at: now) else { continue }
            // The stored key come back revoked, or no longer able to encrypt (a WKD refresh,
            // a revocation pasted): it goes from every address that has it, so nothing more
            // is encrypted to it.
            let holders =
                key.revoked || !key.canEncrypt
                ? try records.providerKeys(of: id).filter { $0.key.fingerprint == key.fingerprint }.map(\.email) : []
            guard !holders.isEmpty else { throw refusal }
            try work.write {
                for email in holders {
                    _ = try records.removeProviderKey(provider: id, fingerprint: key.fingerprint, email: email)
                    var details = ["email": email, "fingerprint": key.fingerprint]
                    if let source { details["source"] = source }
                    try audit.entry(
                        "provider.key-remove", subjectType: "provider", subjectID: id, at: now, actor: actor,
                        reason: key.revoked ? "the key is revoked" : "the key can no longer encrypt", details: details)
                }
            }
            let why: String = if case let .invalid(_, rule) = refusal { rule } else { "\(refusal)" }
            throw Refusal.invalid(
                field: "key",
                rule: "\(why); it was the key stored for \(holders.joined(separator: ", ")), which is removed")
        }
        return try work.write {
            for target in targets {
                let replaced = try records.setProviderKey(key, provider: id, email: target, at: now, actor: actor)
                var details = ["email": target, "fingerprint": key.fingerprint]
                if let replaced, replaced != key.fingerprint { details["replaced"] = replaced }
                if let source { details["source"] = source }
                if let expires = key.expires { details["expires"] = Instant.rfc3339(expires) }
                try audit.entry(
                    replaced == nil
                        ? "provider.key-add"
                        : replaced == key.fingerprint ? "provider.key-refresh" : "provider.key-replace",
                    subjectType: "provider",
                    subjectID: id, at: now, actor: actor, reason: "", details: details)
            }
            return try records.providerKeys(of: id).filter { targets.contains($0.email) }
        }
    }

    /// Looks up the keys of a provider's addresses (`email` only, or each one) in their
    /// domains' Web Key Directories and adds those that pass `addProviderKey`'s checks. The
    /// lookups happen outside any transaction; each key found is stored on its own.
    public func fetchProviderKeys(provider id: Int64, email: String?, directory: any KeyDirectory, actor: String)
        throws -> [KeyFetch]
    {
        let provider = try roster.get(id)
        let targets = try email.map { [try Self.contact($0, of: provider)] } ?? provider.emails
        // Each place in turn until one gives a key that passes the checks: a domain may answer
        // the advanced URL with a web page, or with a stale key, and the direct one rightly.
        return try targets.map { target in
            var problems: [String] = []
            for url in directory.places(for: target) {
                switch directory.fetch(url) {
                case let .none(reason):
                    problems.append("\(url): \(reason)")
                case let .key(bytes):
                    do {
                        let stored = try addProviderKey(bytes, provider: id, email: target, source: url, actor: actor)
                        return KeyFetch(email: target, url: url, stored: stored.first, problem: nil)
                    } catch let refusal as Refusal {
                        problems.append("\(url): \(refusal)")
                    }
                }
            }
            let tried = problems.isEmpty ? "" : " (\(problems.joined(separator: "; ")))"
            return KeyFetch(email: target, url: nil, stored: nil, problem: "no usable key found\(tried)")
        }
    }

    /// The provider's address `email`, as it has it (without regard to case).
    static func contact(_ email: String, of provider: Provider) throws -> String {
        guard let contact = provider.emails.first(where: { $0.lowercased() == email.lowercased() }) else {
            throw Refusal.notFound(subject: "address \(email) of provider", id: String(provider.id))
        }
        return contact
    }

    /// The keys of a provider.
    public func providerKeys(of id: Int64) throws -> [ProviderKey] {
        _ = try roster.get(id)
        return try records.providerKeys(of: id)
    }

    /// Removes a provider's key by fingerprint or key ID (the last 16 hex digits), audited.
    /// Private notices to its addresses go in plain text again, or not at all where the
    /// project requires encryption.
    public func removeProviderKey(provider id: Int64, keyID: String, email: String? = nil, actor: String) throws
        -> [String]
    {
        let wanted = keyID.uppercased().replacingOccurrences(of: " ", with: "")
        guard wanted.count >= 16, wanted.count <= 64, wanted.allSatisfy(\.isHexDigit) else {
            throw Refusal.invalid(field: "key-id", rule: "give the key's fingerprint or its 16-digit key ID")
        }
        _ = try roster.get(id)
        return try work.write {
            let addresses = try records.removeProviderKey(provider: id, fingerprint: wanted, email: email)
            guard !addresses.isEmpty else {
                throw Refusal.notFound(subject: "key \(keyID) of provider", id: String(id))
            }
            try audit.entry(
                "provider.key-remove", subjectType: "provider", subjectID: id, at: clock.now, actor: actor, reason: "",
                details: ["key": wanted, "emails": addresses.joined(separator: ", ")])
            return addresses
        }
    }

    /// Makes a project's signing key (Ed25519, signing only: no one holds its secret outside
    /// Herald, so no one should encrypt to it), its secret sealed by `vault`. A project that
    /// has one keeps it unless `replace`.
    public func generateProjectKey(_ slug: String, userID: String, vault: any SecretVault, replace: Bool, actor: String)
        throws -> ProjectKey
    {
        let project = try projects.require(slug, field: "project")
        try refuseReplacing(project, replace: replace)
        let secret = try pgp.generateKey(userID: userID)
        return try storeProjectKey(secret, project: project, vault: vault, action: "project.key-generate", actor: actor)
    }

    /// Stores an existing unprotected secret key as a project's signing key.
    public func importProjectKey(_ bytes: [UInt8], _ slug: String, vault: any SecretVault, replace: Bool, actor: String)
        throws -> ProjectKey
    {
        guard bytes.count <= OpenPGPKey.maxArmoredBytes else {
            throw Refusal.invalid(field: "key", rule: "at most \(OpenPGPKey.maxArmoredBytes / 1024) KiB")
        }
        let project = try projects.require(slug, field: "project")
        try refuseReplacing(project, replace: replace)
        return try storeProjectKey(bytes, project: project, vault: vault, action: "project.key-import", actor: actor)
    }

    /// A project's public key, armored.
    public func projectPublicKey(_ slug: String) throws -> ProjectKey {
        let project = try projects.require(slug, field: "project")
        guard let key = try records.projectKey(of: project.id) else {
            throw Refusal.notFound(subject: "signing key of project", id: slug)
        }
        return key
    }

    private func refuseReplacing(_ project: Project, replace: Bool) throws {
        if !replace, let existing = try records.projectKey(of: project.id) {
            throw Refusal.conflict(
                field: "project",
                rule:
                    "\(project.slug) has a signing key (\(existing.fingerprint)); --replace to put a new one in its place"
            )
        }
    }

    private func storeProjectKey(
        _ secret: [UInt8], project: Project, vault: any SecretVault, action: String, actor: String
    ) throws -> ProjectKey {
        let (key, armoredSecret) = try pgp.readSecretKey(secret)
        let now = clock.now
        // A key that cannot sign any more would stop every signed publication.
        if key.revoked { throw Refusal.invalid(field: "key", rule: "the key \(key.fingerprint) is revoked") }
        if let expires = key.expires, expires <= now {
            throw Refusal.invalid(
                field: "key", rule: "the key \(key.fingerprint) expired on \(Instant.rfc3339(expires))")
        }
        let stored = ProjectKey(
            fingerprint: key.fingerprint, publicKey: key.armored, sealedSecret: try vault.seal(armoredSecret),
            createdAt: now, canEncrypt: key.canEncrypt, addresses: key.addresses)
        return try work.write {
            let replaced = try records.projectKey(of: project.id)
            try records.setProjectKey(stored, project: project.id)
            var details = ["fingerprint": key.fingerprint]
            if let replaced { details["replaced"] = replaced.fingerprint }
            try audit.entry(
                action, subjectType: "project", subjectID: project.id, at: now, actor: actor, reason: "",
                details: details)
            return stored
        }
    }
}
