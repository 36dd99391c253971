import Foundation
import HeraldCore

/// The early-notice list as release managers keep it: the roster's rows, and what the rules
/// about members ask of them.
public protocol ProviderRepository: ProviderRoster {
    /// Members (active and suspended providers), with their addresses, webhooks and projects.
    func members() throws -> [Provider]
    /// The id of a member (active or suspended) named `organization` (ignoring case), other than `except`.
    func memberID(named organization: String, except: Int64?) throws -> Int64?
    /// Members and requests whose names look like `provider`'s without being it (Unicode TS #39).
    func lookAlikes(of provider: Provider) throws -> [String]
    /// The providers with ids `first` through `last`, in id order.
    func providers(from first: Int64, through last: Int64) throws -> [Provider]
    /// Writes `change` to provider `id` as given (the use case has checked it): addresses,
    /// webhooks, follows of `addProjectIDs` and no longer of `removeProjectIDs`, name, language,
    /// listing. A replaced webhook is enabled again and what failed to the old URL goes again
    /// to the new one. Returns the signing secrets of added webhooks and how many deliveries
    /// go again.
    func apply(
        _ change: ProviderEdit, to id: Int64, addProjectIDs: [Int64], removeProjectIDs: [Int64], at: Date
    ) throws -> (newSecrets: [String: String], sentAgain: Int)
}

/// Telling a provider that joins during an embargo what the others were told.
public protocol EmbargoBriefing {
    /// Gives active provider `id` the current revision of each advisory under embargo it takes
    /// part in and has nothing of yet, inside the current transaction.
    func brief(provider id: Int64) throws
}

/// How a credential appears where it must not be whole (audit rows, reports): by fingerprint.
public protocol CredentialFingerprints {
    /// `https://hooks.example/…a1b2`: where a URL goes, not what opens it.
    func url(_ url: String) -> String
}
