import Foundation
import HeraldCore

/// A signed-in portal visitor: one contact address of one provider.
public struct PortalSession: Sendable, Equatable {
    /// The provider it speaks for.
    public var providerID: Int64
    /// The address that signed in.
    public var email: String
    /// The token every form of this session carries (CSRF).
    public var csrf: String

    /// Creates the value.
    public init(providerID: Int64, email: String, csrf: String) {
        self.providerID = providerID
        self.email = email
        self.csrf = csrf
    }
}

/// An advisory as the portal lists it for one provider.
public struct PortalAdvisory: Sendable, Equatable {
    /// Database id.
    public var id: Int64
    /// The advisory's state now.
    public var state: AdvisoryState
    /// The newest revision of an early notice or revision addressed to the provider; nil: none.
    public var entitledRevision: Int?
    /// Whether the provider takes part now (active, not excluded).
    public var takesPart: Bool
    /// The provider's latest answer.
    public var status: ResponseStatus

    /// Creates the value.
    public init(id: Int64, state: AdvisoryState, entitledRevision: Int?, takesPart: Bool, status: ResponseStatus) {
        self.id = id
        self.state = state
        self.entitledRevision = entitledRevision
        self.takesPart = takesPart
        self.status = status
    }

    /// What the provider may read of it.
    public var reading: PortalReading {
        .of(state: state, takesPart: takesPart, entitledRevision: entitledRevision)
    }
}

/// Another participant's answer that it shared with the participants.
public struct SharedStatement: Sendable, Equatable {
    /// The participant's organisation.
    public var organization: String
    /// Its answer.
    public var status: ResponseStatus
    /// Its words.
    public var statement: String

    /// Creates the value.
    public init(organization: String, status: ResponseStatus, statement: String) {
        self.organization = organization
        self.status = status
        self.statement = statement
    }
}

/// Sign-in links and sessions of the provider portal, stored only as hashes.
public protocol PortalAccess {
    /// The active providers with contact address `email` (one address may serve several).
    func activeProviders(withContact email: String) throws -> [Int64]
    /// How many sign-in links were asked for `email` since `since` (whoever it belongs to).
    func signInsRequested(email: String, since: Date) throws -> Int
    /// Records a request for a sign-in link for `email`; with `provider`, a single-use token
    /// valid until `expires`, returned. Without, the request is only counted.
    func recordSignIn(email: String, provider: Int64?, at: Date, expires: Date) throws -> String
    /// Uses up a sign-in token that is unused and unexpired at `at`.
    func useSignIn(_ token: String, at: Date) throws -> (provider: Int64, email: String)?
    /// Starts a session; returns its token (the cookie) and its CSRF token.
    func startSession(provider: Int64, email: String, at: Date) throws -> (token: String, csrf: String)
    /// The session behind `token` when it has been used within `idle` and began within
    /// `absolute` of `at`; marks it used at `at`.
    func session(_ token: String, at: Date, idle: TimeInterval, absolute: TimeInterval) throws -> PortalSession?
    /// Ends the session behind `token`.
    func endSession(_ token: String, at: Date) throws
    /// Ends every session of `provider` (it left, or was suspended or removed).
    func endSessions(ofProvider provider: Int64, at: Date) throws
    /// Records that `by` asked to add `email` to `provider`; returns the token of the link that confirms it.
    func recordContactConfirmation(provider: Int64, email: String, by: String, at: Date, expires: Date) throws
        -> String
    /// The address and provider behind an unused, unexpired confirmation token; `consume` uses it up.
    func contactConfirmation(_ token: String, at: Date, consume: Bool) throws -> (provider: Int64, email: String)?
}

/// What the portal reads for one provider.
public protocol PortalRecords {
    /// Advisories with a notice addressed to `provider`, newest first.
    func advisories(of provider: Int64) throws -> [PortalAdvisory]
    /// The advisory at `revision` as its notice told it (content and the note to providers, never the reason).
    func revision(_ revision: Int, ofAdvisory id: Int64) throws -> AdvisoryRevision?
    /// The advisory as it is now.
    func advisory(_ id: Int64) throws -> Advisory
    /// The newest early notice or revision of `advisory` addressed to `provider`.
    func latestNotice(advisory: Int64, provider: Int64) throws -> Int64?
    /// Statements other participants taking part shared, with their latest answers.
    func sharedStatements(advisory: Int64, except provider: Int64) throws -> [SharedStatement]
}
