import Foundation
import HeraldCore

/// The one rule for recording a participant's answer, whether it came through a notice's link
/// or the portal: a withdrawn advisory takes no answers and a public one no proposals; the
/// answer is a new row of its history, acknowledges the notice, is audited, and "needs more
/// time" tells the release managers at once. Call inside a transaction.
struct AnswerRecorder {
    let answers: any AnswerRecords
    let notices: any NoticeRecords
    let managers: any ReleaseManagerMail
    let audit: any AuditTrail

    func answer(
        advisory: Int64, notice: Int64?, provider: Int64, organization: String, status: ResponseStatus,
        proposedInstant: Date?, statement: String, shareable: Bool, by who: String, at now: Date
    ) throws {
        guard let standing = try answers.standing(ofAdvisory: advisory) else {
            throw Refusal.notFound(subject: "advisory", id: String(advisory))
        }
        switch standing.state {
        case .cancelled:
            throw Refusal.conflict(field: "status", rule: "the advisory was withdrawn; it needs no answer")
        case .published where status == .needsMoreTime:
            throw Refusal.conflict(field: "status", rule: "the advisory is public already; its instant has passed")
        default: break
        }
        let answer = try ProviderAnswer(
            status: status, proposedInstant: proposedInstant, statement: statement, shareable: shareable,
            release: standing.release, now: now)
        // The release managers hear of a proposal at once, but of one participant at most once
        // an hour and not twice of the same instant: answers cannot flood their mailbox.
        let told = try answers.latestProposal(advisory: advisory, provider: provider)
        let recent = try answers.proposals(advisory: advisory, provider: provider, since: now - 3600)
        try answers.record(answer, advisory: advisory, provider: provider, at: now, by: who)
        if let notice { _ = try notices.acknowledge(notice: notice, provider: provider, at: now) }
        var details = ["status": status.rawValue, "shareable": String(answer.shareable)]
        if let notice { details["notice"] = String(notice) }
        if let proposed = answer.proposedInstant { details["proposed"] = Instant.utc(proposed) }
        try audit.entry(
            "advisory.answer", subjectType: "advisory", subjectID: advisory, at: now, actor: who, reason: "",
            details: details)
        if let proposed = answer.proposedInstant, proposed != told, recent == 0 {
            try managers.sendMoreTimeRequested(
                advisory: advisory, organization: organization, proposed: proposed, statement: answer.statement)
        }
    }
}
