import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// A subscription request, from the JSON API or the HTML form: one way to a `NewProvider`.
struct SubscriptionInput: Decodable {
    var organization: String?
    var email: String?
    var projects: [String]?
    var webhook: String?
    var listed: Bool?
    var language: String?

    init(form: Form) {
        organization = form.first("organization")
        email = form.first("email")
        projects = form.all("projects")
        webhook = form.first("webhook").flatMap { $0.isEmpty ? nil : $0 }  // the form sends the empty field
        listed = form.first("listed") == "yes"
        language = form.first("language")
    }

    /// Validated; an address or field left out is refused by `NewProvider` with its name.
    func provider() throws(Refusal) -> NewProvider {
        try NewProvider(
            organization: organization ?? "", emails: email.map { [$0] } ?? [],
            webhooks: webhook.map { [($0, .webhook)] } ?? [],
            projects: projects ?? [], listed: listed ?? false, language: try language.map(Language.parse) ?? .english)
    }
}
