import Foundation
import Testing

@testable import HeraldCore

/// Who gets which notice, in which language and format: without a database.
@Suite struct FanOutPlanTests {
    let providers = [
        FanOutPlan.Provider(id: 1, language: .english), FanOutPlan.Provider(id: 2, language: .dutch),
        FanOutPlan.Provider(id: 3, language: .dutch),
    ]
    let channels = [
        FanOutPlan.ChannelGroup(kind: .slack, language: nil), FanOutPlan.ChannelGroup(kind: .slack, language: .danish),
        FanOutPlan.ChannelGroup(kind: .email, language: nil), FanOutPlan.ChannelGroup(kind: .slack, language: nil),
    ]

    @Test func embargoedNoticesReachProvidersOnlyEachLanguageWrittenOnce() {
        for kind in [NoticeKind.earlyNotice, .revision] {
            let plan = FanOutPlan(
                kind, providers: providers, channels: channels, preAnnounced: true, projectLanguage: .english)
            #expect(plan.channels.isEmpty, "\(kind) must never reach a public channel")
            #expect(plan.providers == providers)
            #expect(plan.providerLanguages == [.english, .dutch])
        }
        #expect(FanOutPlan.providers(for: .earlyNotice) == .activeFollowers)
        #expect(
            FanOutPlan.providers(for: .revision) == .toldBefore
                && FanOutPlan.providers(for: .cancellation) == .toldBefore)
    }

    @Test func publicNoticesReachEachChannelGroupInItsLanguage() {
        let plan = FanOutPlan(
            .publication, providers: providers, channels: channels, preAnnounced: false, projectLanguage: .dutch)
        // A channel without a language speaks its project's; channels of one kind and language share one body.
        #expect(
            plan.channels == [
                .init(kind: .email, language: .dutch), .init(kind: .slack, language: .danish),
                .init(kind: .slack, language: .dutch),
            ])
        let danishProject = FanOutPlan(
            .publication, providers: [], channels: channels, preAnnounced: false, projectLanguage: .danish)
        #expect(
            danishProject.channels == [.init(kind: .email, language: .danish), .init(kind: .slack, language: .danish)])
        #expect(plan.channelLanguages == [.dutch, .danish])
        // Providers told before hear it is public.
        #expect(plan.providers.count == 3)
        let pre = FanOutPlan(
            .preAnnouncement, providers: [], channels: channels, preAnnounced: false, projectLanguage: .english)
        #expect(pre.channels.count == 3 && pre.providers.isEmpty)
    }

    @Test func aCancellationReachesChannelsOnlyWhenTheReleaseWasPreAnnounced() {
        #expect(
            FanOutPlan(
                .cancellation, providers: providers, channels: channels, preAnnounced: false, projectLanguage: .english
            ).channels.isEmpty)
        #expect(
            FanOutPlan(
                .cancellation, providers: providers, channels: channels, preAnnounced: true, projectLanguage: .english
            ).channels.count == 3)
    }

    @Test func clockNoticesAreRecordedWhenEmptyOthersAreNot() {
        for kind in [NoticeKind.earlyNotice, .preAnnouncement, .publication] {
            let plan = FanOutPlan(kind, providers: [], channels: [], preAnnounced: false, projectLanguage: .english)
            #expect(plan.isEmpty && plan.recordedWhenEmpty, "\(kind)")
        }
        for kind in [NoticeKind.revision, .cancellation] {
            let plan = FanOutPlan(
                kind, providers: [], channels: channels, preAnnounced: false, projectLanguage: .english)
            #expect(plan.isEmpty && !plan.recordedWhenEmpty, "\(kind)")
        }
        // Notices that are not advisory notices reach no provider or channel through a plan.
        #expect(
            FanOutPlan(
                .welcome, providers: providers, channels: channels, preAnnounced: true, projectLanguage: .english
            ).isEmpty)
    }
}
