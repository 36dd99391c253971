import HeraldCore
import Testing

@Suite struct ProviderTests {
    @Test func statusFollowsTheLifecycle() throws {
        var status = ProviderStatus.pendingConfirmation
        status = try status.after(.confirm, subject: "p")
        #expect(status == .pendingApproval)
        status = try status.after(.approve, subject: "p")
        #expect(status == .active)
        status = try status.after(.suspend, subject: "p")
        #expect(status == .suspended)
        status = try status.after(.approve, subject: "p")
        #expect(status == .active)
        status = try status.after(.remove, subject: "p")
        #expect(status == .removed)
    }

    @Test func everyIllegalStatusChangeIsRefused() {
        let legal: Set<String> = [
            "pending-confirmation.confirm", "pending-confirmation.remove",
            "pending-approval.approve", "pending-approval.suspend", "pending-approval.remove",
            "active.suspend", "active.remove", "suspended.approve", "suspended.remove",
        ]
        for status in ProviderStatus.allCases {
            for action in [ProviderAction.confirm, .approve, .suspend, .remove] {
                let key = "\(status.rawValue).\(action.rawValue)"
                if legal.contains(key) {
                    #expect(throws: Never.self, "\(key) should be allowed") { try status.after(action, subject: "p") }
                } else {
                    #expect(throws: Refusal.self, "\(key) should be refused") { try status.after(action, subject: "p") }
                }
            }
        }
    }

    @Test func newProviderNormalisesAndMergesDuplicates() throws {
        let provider = try NewProvider(
            organization: "  Acme  ", emails: ["sec@ACME.example", "sec@acme.example", "noc@acme.example"],
            webhooks: [("https://acme.example/hook", .webhook), ("https://acme.example/hook", .webhook)],
            projects: ["demo", "demo"])
        #expect(provider.organization == "Acme")
        #expect(provider.emails == ["sec@acme.example", "noc@acme.example"])
        #expect(provider.webhooks.count == 1)
        #expect(provider.projects == ["demo"])
    }

    @Test(arguments: [
        "plain", "a@b", "a b@example.org", "a@example.org\r\nBcc: x@y.org", "@example.org", "a@@example.org",
        "a@-x.org", "\"q\"@example.org",
    ])
    func malformedAddressesAreRefused(email: String) {
        #expect(throws: Refusal.self) { try NewProvider(organization: "Acme", emails: [email], projects: ["demo"]) }
    }

    @Test(arguments: [
        "ftp://example.org/x", "https://", "https://user:pw@example.org/", "https://example.org/#frag", "not a url",
        "https://exa mple.org/",
    ])
    func malformedWebhooksAreRefused(url: String) {
        #expect(throws: Refusal.self) {
            try NewProvider(
                organization: "Acme", emails: ["a@example.org"], webhooks: [(url, .webhook)], projects: ["demo"])
        }
    }

    @Test func aProviderNeedsAnAddressAndAProject() {
        #expect(throws: Refusal.invalid(field: "email", rule: "give at least one address to send notices to")) {
            try NewProvider(organization: "Acme", emails: [], projects: ["demo"])
        }
        #expect(throws: Refusal.self) { try NewProvider(organization: "Acme", emails: ["a@example.org"], projects: []) }
    }
}

@Suite struct ChannelAndProjectTests {
    @Test func channelTargetsMatchTheirKind() throws {
        _ = try NewChannel(projectSlug: "demo", kind: .email, target: "announce@example.org", secret: nil)
        _ = try NewChannel(
            projectSlug: "demo", kind: .slack, target: "https://hooks.slack.com/services/T/B/X", secret: nil)
        #expect(throws: Refusal.self) {
            try NewChannel(projectSlug: "demo", kind: .email, target: "https://example.org", secret: nil)
        }
        #expect(throws: Refusal.self) {
            try NewChannel(projectSlug: "demo", kind: .slack, target: "announce@example.org", secret: nil)
        }
        #expect(throws: Refusal.self) {
            try NewChannel(projectSlug: "demo", kind: .slack, target: "https://x.example/", secret: "s")
        }
        #expect(throws: Refusal.self) {
            try NewChannel(
                projectSlug: "demo", kind: .matrix, target: "https://m.example/_matrix/client/v3/rooms/!r:m.example",
                secret: nil)
        }
    }

    @Test func webhookSecretsFollowStandardWebhooks() throws {
        let secret = WebhookSecret.make(key: Array(repeating: 7, count: 32))
        #expect(secret.hasPrefix("whsec_"))
        try WebhookSecret.validate(secret)
        #expect(throws: Refusal.self) { try WebhookSecret.validate("whsec_c2hvcnQ=") }  // 5 bytes
        #expect(throws: Refusal.self) { try WebhookSecret.validate("secret") }
    }

    @Test func projectRules() throws {
        let project = try NewProject(slug: "my-project", name: "My Project", timezone: "Europe/Amsterdam")
        #expect(project.maxEmbargoDays == 14)
        #expect(throws: Refusal.self) { try NewProject(slug: "-bad", name: "x") }
        #expect(throws: Refusal.self) { try NewProject(slug: "Upper", name: "x") }
        #expect(throws: Refusal.self) { try NewProject(slug: "ok", name: "x", timezone: "Europe/Atlantis") }
        #expect(throws: Refusal.self) { try NewProject(slug: "ok", name: "x", maxEmbargoDays: 0) }
        #expect(throws: Refusal.self) { try NewProject(slug: "ok", name: "x", maxEmbargoDays: 91) }
    }
}
